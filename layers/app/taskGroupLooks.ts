// Which records of one SQS batch need a look at their task group, and the one look they share. A storm
// delivers many events about one group: each is only a hint to look, so the records about one group in
// a batch share one look, and an event about a task a look has already read at that version is skipped.
import {
  clusterName,
  parseGroup,
  type RecycleOutcome,
  type RecycleRequest,
  recycleTaskGroup,
} from '#app/recycleTaskGroup';
import { TaskVersionLedger } from '#app/taskVersionLedger';
import { type Hint, hintCarriesNews } from '#domain/taskRecycler';
import type { TaskRecyclerInput, TaskRecyclerRequest } from '#events/taskRecyclerInput';
import type { RecyclerPorts } from '#ports';
import type { RecyclerSettings } from '#runtime/config';

export type RequestInput = Extract<TaskRecyclerInput, { kind: 'request' }>;

/**
 * What a record needs: nothing (`duplicate`: its own event was handled; `seen`: a look read its task at
 * that version and its hint adds nothing), the look its group already has in this batch (`shared`), or
 * a look of its own (`new`, the only one that calls AWS).
 */
export type LookNeed = 'duplicate' | 'seen' | 'shared' | 'new';

/** Lives as long as the Lambda instance, like the ledgers it keeps; what they forget only costs a look. */
export class TaskGroupLooks {
  // Task versions whose own event was handled: a redelivery or an older event is dropped.
  private readonly handled = new TaskVersionLedger();
  // Task versions a successful look read. An event about one of them tells a look nothing new unless its
  // hint does (hintCarriesNews): ECS raises a task's version on every change, so any change since that
  // look comes as an event with a higher version, and time-driven decisions come as rechecks, which
  // carry no task version and are never skipped.
  private readonly seen = new TaskVersionLedger();

  /** `coalesce: false` looks once per record, as before coalescing (the bench compares the two). */
  constructor(private readonly coalesce = true) {}

  batch(inputs: Iterable<TaskRecyclerInput>): BatchLooks {
    return new BatchLooks(this.handled, this.seen, this.coalesce, inputs);
  }
}

export class BatchLooks {
  /** Each group's request: the hints of every record about it that is not a duplicate, merged. */
  private readonly requests = new Map<string, RecycleRequest>();
  /** One look per group per batch; a failed look fails every record that waits for it. */
  private readonly looks = new Map<string, Promise<RecycleOutcome>>();

  constructor(
    private readonly handled: TaskVersionLedger,
    private readonly seen: TaskVersionLedger,
    private readonly coalesce: boolean,
    inputs: Iterable<TaskRecyclerInput>,
  ) {
    if (!coalesce) return;
    for (const input of inputs) {
      if (input.kind !== 'request' || this.isDuplicate(input)) continue;
      const key = groupKey(input.request);
      const hint = mergeHints(this.requests.get(key)?.hint, domainRequest(input.request).hint);
      this.requests.set(key, { ...domainRequest(input.request), ...(hint ? { hint } : {}) });
    }
  }

  need(input: RequestInput): LookNeed {
    if (this.isDuplicate(input)) return 'duplicate';
    if (!this.coalesce) return 'new';
    if (this.looks.has(groupKey(input.request))) return 'shared';
    return this.wasSeen(input) ? 'seen' : 'new';
  }

  /** The record's look (its group's, shared, or a new one); its task version is handled once it succeeds. */
  async look(input: RequestInput, ports: RecyclerPorts, settings: RecyclerSettings): Promise<RecycleOutcome> {
    const key = groupKey(input.request);
    let look = this.coalesce ? this.looks.get(key) : undefined;
    if (!look) {
      const request = (this.coalesce && this.requests.get(key)) || domainRequest(input.request);
      look = recycleTaskGroup(request, ports, settings).then((outcome) => {
        if (this.coalesce && outcome.status === 'handled')
          for (const task of outcome.observed) this.seen.handled(task.taskArn, task.version);
        return outcome;
      });
      if (this.coalesce) this.looks.set(key, look);
    }
    const outcome = await look;
    const { taskVersion } = input;
    if (taskVersion) this.handled.handled(taskVersion.taskArn, taskVersion.version);
    return outcome;
  }

  private isDuplicate({ taskVersion }: RequestInput): boolean {
    return taskVersion !== undefined && this.handled.isStale(taskVersion.taskArn, taskVersion.version);
  }

  private wasSeen({ taskVersion, request }: RequestInput): boolean {
    const group = parseGroup(request.group);
    if (!taskVersion || !group || hintCarriesNews(group, domainRequest(request).hint)) return false;
    return this.seen.isStale(taskVersion.taskArn, taskVersion.version);
  }
}

const groupKey = (request: TaskRecyclerRequest): string => `${clusterName(request.cluster)} ${request.group}`;

/** The edge names the one task whose stop it reports; a look may stand for several. */
function domainRequest({ cluster, group, hint }: TaskRecyclerRequest): RecycleRequest {
  if (!hint) return { cluster, group };
  const { stoppedTaskArn, placementFailure } = hint;
  return {
    cluster,
    group,
    hint: {
      ...(stoppedTaskArn ? { stoppedTaskArns: [stoppedTaskArn] } : {}),
      ...(placementFailure ? { placementFailure } : {}),
    },
  };
}

function mergeHints(a: Hint | undefined, b: Hint | undefined): Hint | undefined {
  if (!a || !b) return a ?? b;
  const stoppedTaskArns = [...new Set([...(a.stoppedTaskArns ?? []), ...(b.stoppedTaskArns ?? [])])];
  const placementFailure = a.placementFailure ?? b.placementFailure;
  return {
    ...(stoppedTaskArns.length > 0 ? { stoppedTaskArns } : {}),
    ...(placementFailure ? { placementFailure } : {}),
  };
}
