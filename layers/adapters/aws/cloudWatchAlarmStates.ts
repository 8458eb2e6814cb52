// CloudWatch alarms as the alarm reactor sees them: the state an alarm is in now, and its tags when a
// reaction picks alarms by tag.
import {
  type CloudWatchClient,
  DescribeAlarmsCommand,
  ListTagsForResourceCommand,
  type StateValue,
} from '@aws-sdk/client-cloudwatch';
import type { AlarmState } from '#domain/alarmReactions';
import type { AlarmDescription, AlarmStates } from '#ports';

/** DescribeAlarms takes at most 100 AlarmNames, and returns at most 100 alarms a page (the API reference). */
const MAX_NAMES_PER_CALL = 100;

const STATES: Record<StateValue, AlarmState> = {
  OK: 'OK',
  ALARM: 'ALARM',
  INSUFFICIENT_DATA: 'INSUFFICIENT_DATA',
};

/** A state this code does not know is neither ALARM nor OK: it turns no knob and puts none back. */
const stateOf = (value: StateValue | undefined): AlarmState =>
  (value && STATES[value]) || 'INSUFFICIENT_DATA';

export class CloudWatchAlarmStates implements AlarmStates {
  constructor(private readonly cloudWatch: Pick<CloudWatchClient, 'send'>) {}

  async describe(alarmName: string, options: { withTags: boolean }): Promise<AlarmDescription | undefined> {
    // Without AlarmTypes DescribeAlarms returns metric alarms only, and a composite alarm would look
    // deleted. Metric-math alarms are metric alarms (with `Metrics` instead of `MetricName`).
    const output = await this.cloudWatch.send(
      new DescribeAlarmsCommand({ AlarmNames: [alarmName], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] }),
    );
    const found =
      at(output.MetricAlarms, alarmName, 'metric') ?? at(output.CompositeAlarms, alarmName, 'composite');
    if (!found) return undefined;
    const { alarm, type } = found;
    const arn = alarm.AlarmArn ?? '';
    const tags = options.withTags && arn ? await this.tagsOf(arn) : {};
    return { name: alarmName, arn, state: stateOf(alarm.StateValue), type, tags };
  }

  async statesOf(alarmNames: readonly string[]): Promise<Map<string, AlarmState>> {
    const states = new Map<string, AlarmState>();
    const names = [...new Set(alarmNames)];
    for (let start = 0; start < names.length; start += MAX_NAMES_PER_CALL) {
      const batch = names.slice(start, start + MAX_NAMES_PER_CALL);
      let NextToken: string | undefined;
      do {
        const output = await this.cloudWatch.send(
          new DescribeAlarmsCommand({
            AlarmNames: batch,
            AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
            MaxRecords: MAX_NAMES_PER_CALL,
            ...(NextToken ? { NextToken } : {}),
          }),
        );
        for (const alarm of [...(output.MetricAlarms ?? []), ...(output.CompositeAlarms ?? [])])
          if (alarm.AlarmName && batch.includes(alarm.AlarmName))
            states.set(alarm.AlarmName, stateOf(alarm.StateValue));
        NextToken = output.NextToken;
      } while (NextToken);
    }
    return states;
  }

  private async tagsOf(alarmArn: string): Promise<Record<string, string>> {
    let output: { Tags?: { Key?: string; Value?: string }[] };
    try {
      output = await this.cloudWatch.send(new ListTagsForResourceCommand({ ResourceARN: alarmArn }));
    } catch (error) {
      // The role may read tags only of the alarms it is meant for (infra: alarmNamePrefixes); any other
      // alarm simply has no tags that could select a reaction.
      if ((error as Error).name === 'AccessDenied' || (error as Error).name === 'AccessDeniedException')
        return {};
      throw error;
    }
    return Object.fromEntries(
      (output.Tags ?? []).flatMap((tag) => (tag.Key ? [[tag.Key, tag.Value ?? '']] : [])),
    );
  }
}

type Alarm = { AlarmName?: string; AlarmArn?: string; StateValue?: StateValue };

/** AlarmNames is an exact match, but only the alarm with that very name is taken, whatever else comes back. */
function at(
  alarms: Alarm[] | undefined,
  alarmName: string,
  type: AlarmDescription['type'],
): { alarm: Alarm; type: AlarmDescription['type'] } | undefined {
  const alarm = alarms?.find((candidate) => candidate.AlarmName === alarmName);
  return alarm ? { alarm, type } : undefined;
}
