// The task recycler's router as deployed on the twin: what lands on the buffer (events, rechecks, junk)
// reaches the recycler through the FIFO queue, each message in its task group's message group, so one
// group has one actor however its messages name the cluster.
import type { SQSRecord } from 'aws-lambda';
import { defaultRecyclerPolicy } from '#domain/recyclerPolicy';
import { recheckMessage } from '#events/recheck';
import { Twin } from '#local/twin/twin';
import { taskRecyclerWiring } from '#local/twin/wiring';

function aTwin() {
  const twin = new Twin({
    seed: 1,
    settings: { clusters: ['prod'], dryRun: false, policy: defaultRecyclerPolicy() },
    deliverEvents: false,
  });
  twin.world.addCluster('prod');
  const received: { body: string; group?: string }[] = [];
  twin.recyclerQueue.watch((record: SQSRecord) =>
    received.push({ body: record.body, group: record.attributes.MessageGroupId }),
  );
  return { twin, received };
}

const recheck = (cluster: string, group: string) =>
  JSON.stringify(
    recheckMessage({ cluster, group, dueAt: new Date(0), now: new Date(0), id: `${cluster} ${group}` }),
  );

describe('the task recycler router', () => {
  it('puts every message about one task group in one message group, by cluster name', async () => {
    // Prepare
    const { twin, received } = aTwin();
    const byName = recheck('prod', 'service:web');
    const byArn = recheck('arn:aws:ecs:eu-west-1:111122223333:cluster/prod', 'service:web');
    const other = recheck('prod', 'family:report');

    // Act
    for (const body of [byName, byArn, other]) twin.sendMessage(taskRecyclerWiring.queue, body);
    await twin.runFor(30);

    // Assess
    expect(received).toEqual([
      { body: byName, group: 'prod/service:web' },
      { body: byArn, group: 'prod/service:web' },
      { body: other, group: 'prod/family:report' },
    ]);
  });

  it('hands input the recycler cannot read on in a group of its own, and the recycler parks it', async () => {
    // Prepare
    const { twin, received } = aTwin();

    // Act
    twin.sendMessage(taskRecyclerWiring.queue, '{"not": "an event"');
    await twin.runFor(30);

    // Assess
    expect(received).toEqual([{ body: '{"not": "an event"', group: 'no-task-group' }]);
    expect(twin.recorders.parked.map((p) => p.input)).toEqual(['{"not": "an event"']);
  });
});
