// ECS events arrive at least once and out of order; `detail.version` orders one task's events and
// duplicates share it. Decisions are level-triggered, so a stale event would do no harm, but skipping
// it saves a full look at the group. The memory lives as long as the Lambda instance; what it forgets,
// the level-triggered decision still gets right. A version is remembered only once it was handled, so
// the retry of a failed delivery is not mistaken for a duplicate.
export class TaskVersionLedger {
  private readonly newest = new Map<string, number>();

  constructor(private readonly capacity = 10_000) {}

  /** A duplicate (same version) or an older event than one already handled. */
  isStale(taskArn: string, version: number): boolean {
    const seen = this.newest.get(taskArn);
    return seen !== undefined && version <= seen;
  }

  handled(taskArn: string, version: number): void {
    if (this.isStale(taskArn, version)) return;
    this.newest.delete(taskArn);
    this.newest.set(taskArn, version);
    if (this.newest.size > this.capacity) this.newest.delete(this.newest.keys().next().value!);
  }
}
