// The matcher is checked against the examples in the Amazon EventBridge User Guide, each with an event
// it must match and one it must not, so that the twin routes exactly what AWS would route.
// Pages cited (docs.aws.amazon.com/eventbridge/latest/userguide/...):
//   [patterns]  eb-event-patterns.html          "Creating Amazon EventBridge event patterns"
//   [values]    eb-filtering-data-types.html    "Matching events on event field values"
//   [null]      eb-event-patterns-null-values.html
//   [arrays]    eb-event-patterns-arrays.html
//   [operators] eb-create-pattern-operators.html "Comparison operators for use in event patterns"
//               (the content-filtering page, eb-event-patterns-content-based-filtering.html, carries the
//               same sections under the same anchors)
//   [2020]      the earlier "Content-based filtering with event patterns" page
//               (content-filtering-with-event-patterns.html), whose worked examples still hold
import fc from 'fast-check';
import { matchesPattern, PatternError, validatePattern } from '#local/eventbridge/patternMatcher';

interface DocumentedExample {
  name: string;
  pattern: unknown;
  matching: unknown;
  notMatching: unknown;
}

// The EC2 event shown at the top of [patterns].
const ec2TerminatedEvent = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-12-22T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  detail: { 'instance-id': 'i-1234567890abcdef0', state: 'terminated' },
};

// The Auto Scaling event of [values] "Field matching" and of [null].
const autoScalingEvent = {
  version: '0',
  id: '3e3c153a-8339-4e30-8c35-687ebef853fe',
  'detail-type': 'EC2 Instance Launch Successful',
  source: 'aws.autoscaling',
  account: '123456789012',
  time: '2015-11-11T21:31:47Z',
  region: 'us-east-1',
  resources: [],
  detail: { eventVersion: '', responseElements: null },
};

// The (truncated) Macie alert of [values] "Value matching".
const macieAlert = {
  version: '0',
  id: '3e355723-fca9-4de3-9fd7-154c289d6b59',
  'detail-type': 'Macie Alert',
  source: 'aws.macie',
  account: '123456789012',
  time: '2017-04-24T22:28:49Z',
  region: 'us-east-1',
  resources: ['arn:aws:macie:us-east-1:123456789012:trigger/trigger_id/alert/alert_id'],
  detail: {
    'notification-type': 'ALERT_CREATED',
    name: 'Scanning bucket policies',
    tags: ['Custom_Alert', 'Insider'],
    'risk-score': 80,
    trigger: { 'alert-type': 'basic', risk: 8 },
  },
};

// The two events of [operators] "Exists matching".
const ec2PendingEvent = {
  version: '0',
  id: '7bf73129-1428-4cd3-a780-95db273d1602',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '123456789012',
  time: '2015-11-11T21:29:54Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111'],
  detail: { 'instance-id': 'i-abcd1111', state: 'pending' },
};
const eventWithoutState = {
  'detail-type': ['EC2 Instance State-change Notification'],
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-02ebd4584a2ebd341'],
  detail: { 'c-count': { c1: 100 } },
};

const documentedExamples: DocumentedExample[] = [
  // [patterns] opening example: all EC2 instance-termination events.
  {
    name: 'patterns: EC2 instance-termination events',
    pattern: {
      source: ['aws.ec2'],
      'detail-type': ['EC2 Instance State-change Notification'],
      detail: { state: ['terminated'] },
    },
    matching: ec2TerminatedEvent,
    notMatching: { ...ec2TerminatedEvent, detail: { ...ec2TerminatedEvent.detail, state: 'running' } },
  },
  // [patterns] "Matching event values": a value array is an OR.
  {
    name: 'patterns: source is aws.ec2 or aws.fargate',
    pattern: { source: ['aws.ec2', 'aws.fargate'] },
    matching: { ...ec2TerminatedEvent, source: 'aws.fargate' },
    notMatching: { ...ec2TerminatedEvent, source: 'aws.s3' },
  },
  // [values] "Field matching".
  {
    name: 'values: field matching on a null responseElements',
    pattern: {
      source: ['aws.autoscaling'],
      'detail-type': ['EC2 Instance Launch Successful'],
      detail: { responseElements: [null] },
    },
    matching: autoScalingEvent,
    notMatching: { ...autoScalingEvent, detail: { eventVersion: '', responseElements: {} } },
  },
  // [values] "Value matching".
  {
    name: 'values: Macie alert with risk score 80 and trigger risk 8',
    pattern: {
      source: ['aws.macie'],
      'detail-type': ['Macie Alert'],
      detail: { 'risk-score': [80], trigger: { risk: [8] } },
    },
    matching: macieAlert,
    notMatching: {
      ...macieAlert,
      detail: { ...macieAlert.detail, trigger: { 'alert-type': 'basic', risk: 7 } },
    },
  },
  // [null]: an empty-string pattern does not match null, and a null pattern does not match "".
  {
    name: 'null: eventVersion is the empty string',
    pattern: { detail: { eventVersion: [''] } },
    matching: autoScalingEvent,
    notMatching: { ...autoScalingEvent, detail: { eventVersion: null, responseElements: null } },
  },
  {
    name: 'null: responseElements is null',
    pattern: { detail: { responseElements: [null] } },
    matching: autoScalingEvent,
    notMatching: { ...autoScalingEvent, detail: { eventVersion: '', responseElements: '' } },
  },
  // [arrays]: an event array matches when it shares a value with the pattern array.
  {
    name: 'arrays: resources intersect',
    pattern: {
      resources: [
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
        'arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f',
        'arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f',
      ],
    },
    matching: {
      resources: [
        'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate',
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
      ],
    },
    notMatching: {
      resources: [
        'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate',
      ],
    },
  },

  // [operators] summary table, one row each.
  {
    name: 'operators table: And',
    pattern: { Location: ['New York'], Day: ['Monday'] },
    matching: { Location: 'New York', Day: 'Monday' },
    notMatching: { Location: 'New York', Day: 'Tuesday' },
  },
  {
    name: 'operators table: Anything-but',
    pattern: { state: [{ 'anything-but': 'initializing' }] },
    matching: { state: 'running' },
    notMatching: { state: 'initializing' },
  },
  {
    name: 'operators table: Anything-but (begins with)',
    pattern: { Region: [{ 'anything-but': { prefix: 'us-' } }] },
    matching: { Region: 'eu-west-1' },
    notMatching: { Region: 'us-east-1' },
  },
  {
    name: 'operators table: Anything-but (ends with)',
    pattern: { FileName: [{ 'anything-but': { suffix: '.png' } }] },
    matching: { FileName: 'photo.jpg' },
    notMatching: { FileName: 'photo.png' },
  },
  {
    name: 'operators table: Anything-but (ignore case)',
    pattern: { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] },
    matching: { state: 'running' },
    notMatching: { state: 'INITIALIZING' },
  },
  {
    name: 'operators table: Anything-but using a wildcard',
    pattern: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] },
    matching: { FilePath: '/usr/bin/tool' },
    notMatching: { FilePath: '/usr/lib/libc.so' },
  },
  {
    name: 'operators table: Begins with',
    pattern: { Region: [{ prefix: 'us-' }] },
    matching: { Region: 'us-east-1' },
    notMatching: { Region: 'eu-west-1' },
  },
  {
    name: 'operators table: Begins with (ignore case)',
    pattern: { service: [{ prefix: { 'equals-ignore-case': 'eventb' } }] },
    matching: { service: 'EventBridge' },
    notMatching: { service: 'Lambda' },
  },
  {
    name: 'operators table: Empty',
    pattern: { LastName: [''] },
    matching: { LastName: '' },
    notMatching: { LastName: 'Smith' },
  },
  {
    name: 'operators table: Equals',
    pattern: { Name: ['Alice'] },
    matching: { Name: 'Alice' },
    notMatching: { Name: 'alice' },
  },
  {
    name: 'operators table: Equals (ignore case)',
    pattern: { Name: [{ 'equals-ignore-case': 'alice' }] },
    matching: { Name: 'ALICE' },
    notMatching: { Name: 'Bob' },
  },
  {
    name: 'operators table: Ends with',
    pattern: { FileName: [{ suffix: '.png' }] },
    matching: { FileName: 'photo.png' },
    notMatching: { FileName: 'photo.jpg' },
  },
  {
    name: 'operators table: Ends with (ignore case)',
    pattern: { service: [{ suffix: { 'equals-ignore-case': 'tBridge' } }] },
    matching: { service: 'EVENTBRIDGE' },
    notMatching: { service: 'EventBus' },
  },
  {
    name: 'operators table: Exists',
    pattern: { ProductName: [{ exists: true }] },
    matching: { ProductName: 'Widget' },
    notMatching: { Price: 10 },
  },
  {
    name: 'operators table: Does not exist',
    pattern: { ProductName: [{ exists: false }] },
    matching: { Price: 10 },
    notMatching: { ProductName: 'Widget' },
  },
  {
    name: 'operators table: Not',
    pattern: { Weather: [{ 'anything-but': ['Raining'] }] },
    matching: { Weather: 'Sunny' },
    notMatching: { Weather: 'Raining' },
  },
  {
    name: 'operators table: Null',
    pattern: { UserID: [null] },
    matching: { UserID: null },
    notMatching: { UserID: 'u-1' },
  },
  {
    name: 'operators table: Numeric (equals)',
    pattern: { Price: [{ numeric: ['=', 100] }] },
    matching: { Price: 100 },
    notMatching: { Price: 101 },
  },
  {
    name: 'operators table: Numeric (range)',
    pattern: { Price: [{ numeric: ['>', 10, '<=', 20] }] },
    matching: { Price: 20 },
    notMatching: { Price: 10 },
  },
  {
    name: 'operators table: Or',
    pattern: { PaymentType: ['Credit', 'Debit'] },
    matching: { PaymentType: 'Debit' },
    notMatching: { PaymentType: 'Cash' },
  },
  {
    name: 'operators table: Or (multiple fields)',
    pattern: { $or: [{ Location: ['New York'] }, { Day: ['Monday'] }] },
    matching: { Location: 'Paris', Day: 'Monday' },
    notMatching: { Location: 'Paris', Day: 'Tuesday' },
  },
  {
    name: 'operators table: Wildcard',
    pattern: { FileName: [{ wildcard: 'dir/*.png' }] },
    matching: { FileName: 'dir/cat.png' },
    notMatching: { FileName: 'other/cat.png' },
  },

  // [operators] "Prefix matching".
  {
    name: 'prefix matching: time starts with 2017-10-02',
    pattern: { time: [{ prefix: '2017-10-02' }] },
    matching: { time: '2017-10-02T18:43:48Z' },
    notMatching: { time: '2017-10-03T18:43:48Z' },
  },
  // [operators] "Prefix matching while ignoring case".
  {
    name: 'prefix matching while ignoring case: service starts with EventB',
    pattern: { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } },
    matching: { detail: { service: 'eventbridge' } },
    notMatching: { detail: { service: 'Lambda' } },
  },
  // [operators] "Suffix matching".
  {
    name: 'suffix matching: FileName ends with .png',
    pattern: { FileName: [{ suffix: '.png' }] },
    matching: { FileName: 'image.png' },
    notMatching: { FileName: 'image.PNG' },
  },
  // [operators] "Suffix matching while ignoring case".
  {
    name: 'suffix matching while ignoring case: FileName ends with .png or .PNG',
    pattern: { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } },
    matching: { detail: { FileName: 'image.PNG' } },
    notMatching: { detail: { FileName: 'image.jpg' } },
  },
  // [operators] "Anything-but matching": strings, numbers, and lists of each.
  {
    name: 'anything-but matching: state is not initializing',
    pattern: { detail: { state: [{ 'anything-but': 'initializing' }] } },
    matching: { detail: { state: 'running' } },
    notMatching: { detail: { state: 'initializing' } },
  },
  {
    name: 'anything-but matching: x-limit is not 123',
    pattern: { detail: { 'x-limit': [{ 'anything-but': 123 }] } },
    matching: { detail: { 'x-limit': 124 } },
    notMatching: { detail: { 'x-limit': 123 } },
  },
  {
    name: 'anything-but matching: a list of strings',
    pattern: { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } },
    matching: { detail: { state: 'running' } },
    notMatching: { detail: { state: 'overloaded' } },
  },
  {
    name: 'anything-but matching: a list of numbers',
    pattern: { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } },
    matching: { detail: { 'x-limit': 150 } },
    notMatching: { detail: { 'x-limit': 200 } },
  },
  // [operators] "Anything-but matching" on a prefix, a suffix, ignoring case, and with wildcards.
  {
    name: 'anything-but matching: state does not start with init',
    pattern: { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } },
    matching: { detail: { state: 'running' } },
    notMatching: { detail: { state: 'initializing' } },
  },
  {
    name: 'anything-but matching: FileName does not end with .txt',
    pattern: { detail: { FileName: [{ 'anything-but': { suffix: '.txt' } }] } },
    matching: { detail: { FileName: 'file.txt.bak' } },
    notMatching: { detail: { FileName: 'notes.txt' } },
  },
  {
    name: 'anything-but matching: state is not initializing in any case',
    pattern: { detail: { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] } },
    matching: { detail: { state: 'pending' } },
    notMatching: { detail: { state: 'Initializing' } },
  },
  {
    name: 'anything-but matching: state is none of a list, in any case',
    pattern: {
      detail: { state: [{ 'anything-but': { 'equals-ignore-case': ['initializing', 'stopped'] } }] },
    },
    matching: { detail: { state: 'pending' } },
    notMatching: { detail: { state: 'STOPPED' } },
  },
  {
    name: 'anything-but matching: FilePath does not include /lib/',
    pattern: { detail: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] } },
    matching: { detail: { FilePath: '/usr/share/doc' } },
    notMatching: { detail: { FilePath: '/usr/lib/node' } },
  },
  {
    name: 'anything-but matching: FilePath includes neither /lib/ nor /bin/',
    pattern: { detail: { FilePath: [{ 'anything-but': { wildcard: ['*/lib/*', '*/bin/*'] } }] } },
    matching: { detail: { FilePath: '/usr/share/doc' } },
    notMatching: { detail: { FilePath: '/usr/bin/node' } },
  },
  // [operators] "Numeric matching": every field must hold.
  {
    name: 'numeric matching: c-count, d-count and x-limit',
    pattern: {
      detail: {
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ numeric: ['=', 3.018e2] }],
      },
    },
    matching: { detail: { 'c-count': 5, 'd-count': 9, 'x-limit': 301.8 } },
    notMatching: { detail: { 'c-count': 0, 'd-count': 9, 'x-limit': 301.8 } },
  },
  // [operators] "IP address matching".
  {
    name: 'IP address matching: sourceIPAddress in 10.0.0.0/24',
    pattern: { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } },
    matching: { detail: { sourceIPAddress: '10.0.0.255' } },
    notMatching: { detail: { sourceIPAddress: '10.0.1.0' } },
  },
  // [operators] "Exists matching", with the two events the section shows.
  {
    name: 'exists matching: detail.state exists',
    pattern: { detail: { state: [{ exists: true }] } },
    matching: ec2PendingEvent,
    notMatching: eventWithoutState,
  },
  // [2020] "Exists Matching": c-count is an intermediate node, so it does not count as existing.
  {
    name: 'exists matching: detail.c-count does not exist',
    pattern: { detail: { 'c-count': [{ exists: false }] } },
    matching: eventWithoutState,
    notMatching: { detail: { 'c-count': 3 } },
  },
  // [operators] "Equals-ignore-case matching".
  {
    name: 'equals-ignore-case matching: detail-type in any case',
    pattern: { 'detail-type': [{ 'equals-ignore-case': 'ec2 instance state-change notification' }] },
    matching: ec2PendingEvent,
    notMatching: { ...ec2PendingEvent, 'detail-type': 'EC2 Spot Instance Interruption Warning' },
  },
  // [operators] "Matching using wildcards".
  {
    name: 'matching using wildcards: any event bus in us-east-1',
    pattern: { EventBusArn: [{ wildcard: 'arn:aws:events:us-east-1:*:event-bus/*' }] },
    matching: { EventBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/myEventBus' },
    notMatching: { EventBusArn: 'arn:aws:events:us-west-2:123456789012:event-bus/myEventBus' },
  },
  // [operators] "Complex example with multiple matching".
  {
    name: 'complex example with multiple matching',
    pattern: {
      time: [{ prefix: '2017-10-02' }],
      detail: {
        state: [{ 'anything-but': 'initializing' }],
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ 'anything-but': [100, 200, 300] }],
      },
    },
    matching: {
      time: '2017-10-02T18:43:48Z',
      detail: { state: 'running', 'c-count': 3, 'd-count': 2, 'x-limit': 150 },
    },
    notMatching: {
      time: '2017-10-02T18:43:48Z',
      detail: { state: 'running', 'c-count': 3, 'd-count': 2, 'x-limit': 200 },
    },
  },
  // [operators] "Complex example with $or matching": any one branch is enough.
  {
    name: 'complex example with $or matching',
    pattern: {
      detail: {
        $or: [
          { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] },
          { 'd-count': [{ numeric: ['<', 10] }] },
          { 'x-limit': [{ numeric: ['=', 3.018e2] }] },
        ],
      },
    },
    matching: { detail: { 'c-count': 0, 'd-count': 0, 'x-limit': 9.018e2 } },
    notMatching: { detail: { 'c-count': 0, 'd-count': 10, 'x-limit': 9.018e2 } },
  },

  // [2020] worked examples.
  {
    name: '2020 prefix matching example: Auto Scaling events from European regions',
    pattern: { source: ['aws.autoscaling'], region: [{ prefix: 'eu-' }] },
    matching: { ...autoScalingEvent, region: 'eu-west-1' },
    notMatching: autoScalingEvent,
  },
  {
    name: '2020 anything-but example: everything except CloudTrail API calls',
    pattern: { 'detail-type': [{ 'anything-but': 'AWS API Call via CloudTrail' }] },
    matching: ec2TerminatedEvent,
    notMatching: { ...ec2TerminatedEvent, 'detail-type': 'AWS API Call via CloudTrail' },
  },
  {
    name: '2020 anything-but example: events not from EC2 or S3',
    pattern: { source: [{ 'anything-but': ['aws.ec2', 'aws.s3'] }] },
    matching: autoScalingEvent,
    notMatching: ec2TerminatedEvent,
  },
  {
    name: '2020 anything-but example: only your own events, not aws.*',
    pattern: { source: [{ 'anything-but': { prefix: 'aws.' } }] },
    matching: { ...ec2TerminatedEvent, source: 'com.example.orders' },
    notMatching: ec2TerminatedEvent,
  },
  {
    name: '2020 existence matching example: events with a description',
    pattern: { detail: { description: [{ exists: true }] } },
    matching: { detail: { description: 'disk almost full' } },
    notMatching: { detail: { summary: 'disk almost full' } },
  },
];

describe('documented examples', () => {
  it.each(documentedExamples)(
    '$name: matches one event, not the other',
    ({ pattern, matching, notMatching }) => {
      // Prepare: the pattern and events come from the guide (see each entry)

      // Act
      const hit = matchesPattern(pattern, matching);
      const miss = matchesPattern(pattern, notMatching);

      // Assess
      expect(hit).toBe(true);
      expect(miss).toBe(false);
    },
  );

  it.each(documentedExamples)('$name: is a valid pattern', ({ pattern }) => {
    // Prepare: the documented pattern

    // Act
    const check = validatePattern(pattern);

    // Assess
    expect(check).toEqual({ ok: true });
  });

  it('uses the last of two identical keys, as the note under the complex example says', () => {
    // Prepare: the note's pattern, parsed from text because an object literal cannot hold the key twice
    const pattern: unknown = JSON.parse(
      '{ "detail": { "location": [ { "prefix": "us-" } ], "location": [ { "anything-but": "us-east" } ] } }',
    );

    // Act
    const outsideUs = matchesPattern(pattern, { detail: { location: 'eu-west' } });
    const usEast = matchesPattern(pattern, { detail: { location: 'us-east' } });

    // Assess
    expect(outsideUs).toBe(true);
    expect(usEast).toBe(false);
  });

  it('compares numbers numerically ([patterns] says by string, but parsed JSON cannot tell 300 from 300.0)', () => {
    // Prepare
    const pattern: unknown = JSON.parse('{ "x": [300] }');
    const event: unknown = JSON.parse('{ "x": 300.0 }');

    // Act
    const matched = matchesPattern(pattern, event);

    // Assess
    expect(matched).toBe(true);
  });

  it('numeric matching only works on JSON numbers ([operators] "Numeric matching")', () => {
    // Prepare
    const pattern = { Price: [{ numeric: ['>', 0] }] };

    // Act
    const asString = matchesPattern(pattern, { Price: '5' });

    // Assess
    expect(asString).toBe(false);
  });

  it.each([
    ['\\* is a literal star', 'a\\*b', 'a*b', 'axb'],
    ['\\\\ is a literal backslash', 'a\\\\*', 'a\\anything', 'ab'],
    ['a star matches nothing too', 'dir/*.png', 'dir/.png', 'dir.png'],
    ['several stars', '*Title*', 'My Title Page', 'My title page'],
  ])(
    'wildcard escapes and stars ([operators] "Matching using wildcards"): %s',
    (_, wildcard, matching, notMatching) => {
      // Prepare
      const pattern = { name: [{ wildcard }] };

      // Act
      const hit = matchesPattern(pattern, { name: matching });
      const miss = matchesPattern(pattern, { name: notMatching });

      // Assess
      expect(hit).toBe(true);
      expect(miss).toBe(false);
    },
  );
});

// What EventBridge does where the guide says nothing; each is a choice the twin depends on.
describe('undocumented behaviour', () => {
  it.each<[string, unknown, unknown, boolean]>([
    ['exists:true counts a null value as present', { a: [{ exists: true }] }, { a: null }, true],
    [
      'exists:false holds when a whole parent object is missing',
      { d: { a: [{ exists: false }] } },
      { x: 1 },
      true,
    ],
    ['exists:true fails on an empty array', { a: [{ exists: true }] }, { a: [] }, false],
    ['a null pattern does not match a missing field', { a: [null] }, {}, false],
    ['an empty event array matches no value', { resources: [null] }, { resources: [] }, false],
    ['anything-but needs the field to be present', { a: [{ 'anything-but': 'x' }] }, {}, false],
    ['anything-but matches a null value', { a: [{ 'anything-but': 'x' }] }, { a: null }, true],
    [
      'anything-but prefix matches a non-string value',
      { a: [{ 'anything-but': { prefix: 'init' } }] },
      { a: 12 },
      true,
    ],
    [
      'anything-but matches an array holding one other value',
      { a: [{ 'anything-but': 'x' }] },
      { a: ['x', 'y'] },
      true,
    ],
    ['anything-but 123 matches the string "123"', { a: [{ 'anything-but': 123 }] }, { a: '123' }, true],
    ['a string does not equal a number', { a: ['300'] }, { a: 300 }, false],
    ['booleans match exactly', { a: [true] }, { a: false }, false],
    ['prefix ignores non-strings', { a: [{ prefix: '1' }] }, { a: 12 }, false],
    [
      'a nested pattern matches one element of an array of objects',
      { a: { b: ['x'] } },
      { a: [{ b: 'y' }, { b: 'x' }] },
      true,
    ],
    [
      'fields of different array elements do not combine',
      { a: { b: ['x'], c: ['y'] } },
      { a: [{ b: 'x' }, { c: 'y' }] },
      false,
    ],
    ['a leaf matcher does not match an object', { a: [{ exists: true }] }, { a: { b: 1 } }, false],
    [
      '$or nests inside $or',
      { $or: [{ a: ['1'] }, { $or: [{ b: ['2'] }, { c: ['3'] }] }] },
      { c: '3' },
      true,
    ],
    [
      '$or sits beside plain fields, which still must match',
      { s: ['x'], $or: [{ a: ['1'] }, { b: ['2'] }] },
      { s: 'y', a: '1' },
      false,
    ],
    ['an empty value array never matches', { a: [] }, { a: 'anything' }, false],
    [
      'IPv6 addresses match IPv6 blocks',
      { ip: [{ cidr: '2001:db8::/32' }] },
      { ip: '2001:db8:0:1::7' },
      true,
    ],
    ['IPv4 addresses never match IPv6 blocks', { ip: [{ cidr: '::/0' }] }, { ip: '10.0.0.1' }, false],
    [
      'a non-address string never matches a block',
      { ip: [{ cidr: '0.0.0.0/0' }] },
      { ip: 'localhost' },
      false,
    ],
  ])('%s', (_, pattern, event, expected) => {
    // Prepare: the row

    // Act
    const matched = matchesPattern(pattern, event);

    // Assess
    expect(matched).toBe(expected);
  });
});

describe('validatePattern', () => {
  it.each<[string, unknown, string]>([
    ['a pattern that is not an object', ['aws.ec2'], '$: a pattern must be a JSON object'],
    ['a leaf that is not an array', { source: 'aws.ec2' }, '$.source: must be an array'],
    [
      'an unknown operator',
      { detail: { type: [{ contains: 'x' }] } },
      '$.detail.type[0]: unknown operator "contains"',
    ],
    [
      'two operators in one matcher',
      { a: [{ prefix: 'x', suffix: 'y' }] },
      '$.a[0]: a matcher object takes exactly one operator',
    ],
    ['an array inside a value array', { a: [['x']] }, '$.a[0]: must be a value or a matcher object'],
    ['an empty value array', { a: [] }, '$.a: an empty array matches nothing'],
    ['a numeric prefix', { a: [{ prefix: 1 }] }, '$.a[0].prefix: takes a string'],
    [
      'an unknown prefix option',
      { a: [{ prefix: { wildcard: 'x' } }] },
      '$.a[0].prefix.wildcard: only equals-ignore-case',
    ],
    [
      'a non-string equals-ignore-case',
      { a: [{ 'equals-ignore-case': ['x'] }] },
      '$.a[0].equals-ignore-case: takes a string',
    ],
    ['a non-boolean exists', { a: [{ exists: 'true' }] }, '$.a[0].exists: takes true or false'],
    [
      'anything-but over mixed types',
      { a: [{ 'anything-but': ['x', 1] }] },
      '$.a[0].anything-but: takes a string',
    ],
    [
      'anything-but over an empty list',
      { a: [{ 'anything-but': [] }] },
      '$.a[0].anything-but: takes a string',
    ],
    ['anything-but over a boolean', { a: [{ 'anything-but': true }] }, '$.a[0].anything-but: takes a string'],
    ['anything-but over null', { a: [{ 'anything-but': null }] }, '$.a[0].anything-but: takes a string'],
    [
      'anything-but with an empty prefix',
      { a: [{ 'anything-but': { prefix: '' } }] },
      '$.a[0].anything-but.prefix',
    ],
    [
      'anything-but with an empty suffix',
      { a: [{ 'anything-but': { suffix: '' } }] },
      '$.a[0].anything-but.suffix',
    ],
    [
      'anything-but prefix ignoring case',
      { a: [{ 'anything-but': { prefix: { 'equals-ignore-case': 'x' } } }] },
      '$.a[0].anything-but.prefix: takes a string or a non-empty list',
    ],
    [
      'anything-but with an unknown option',
      { a: [{ 'anything-but': { numeric: ['>', 1] } }] },
      '$.a[0].anything-but.numeric',
    ],
    ['numeric that is not a list', { a: [{ numeric: 5 }] }, '$.a[0].numeric: takes [operator, number]'],
    [
      'numeric of the wrong length',
      { a: [{ numeric: ['>', 1, '<'] }] },
      '$.a[0].numeric: takes [operator, number]',
    ],
    [
      'numeric with an unknown operator',
      { a: [{ numeric: ['≤', 1] }] },
      '$.a[0].numeric[0]: unknown numeric operator',
    ],
    ['numeric with a string bound', { a: [{ numeric: ['>', '1'] }] }, '$.a[0].numeric[1]: must be a number'],
    [
      'numeric beyond its range',
      { a: [{ numeric: ['>', 6e9] }] },
      '$.a[0].numeric[1]: must be a number between',
    ],
    [
      'a range that starts with =',
      { a: [{ numeric: ['=', 1, '<', 5] }] },
      '$.a[0].numeric[0]: a numeric range starts with',
    ],
    [
      'a range that ends with >',
      { a: [{ numeric: ['>', 1, '>', 5] }] },
      '$.a[0].numeric[2]: a numeric range ends with',
    ],
    [
      'an empty range',
      { a: [{ numeric: ['>', 5, '<', 1] }] },
      '$.a[0].numeric: the lower bound must be below',
    ],
    ['consecutive wildcards', { a: [{ wildcard: 'a**b' }] }, '$.a[0].wildcard: consecutive * wildcards'],
    [
      'a backslash escaping a letter',
      { a: [{ wildcard: 'a\\b' }] },
      '$.a[0].wildcard: a backslash may only escape',
    ],
    ['a trailing backslash', { a: [{ wildcard: 'a\\' }] }, '$.a[0].wildcard: a backslash may only escape'],
    ['a non-string wildcard', { a: [{ wildcard: 1 }] }, '$.a[0].wildcard: takes a string'],
    ['a CIDR mask too long', { a: [{ cidr: '10.0.0.0/33' }] }, '$.a[0].cidr: "10.0.0.0/33" is not'],
    ['a CIDR with a bad octet', { a: [{ cidr: '10.0.0.256/24' }] }, '$.a[0].cidr: "10.0.0.256/24" is not'],
    ['a non-string CIDR', { a: [{ cidr: 10 }] }, '$.a[0].cidr: takes a CIDR string'],
    ['an empty $or', { $or: [] }, '$.$or: $or takes an array of at least two patterns'],
    ['a one-branch $or', { $or: [{ a: ['x'] }] }, '$.$or: $or takes an array of at least two patterns'],
    ['an $or that is not a list', { $or: { a: ['x'] } }, '$.$or: $or takes an array'],
    [
      'an $or branch that is not an object',
      { d: { $or: [{ a: ['x'] }, ['y']] } },
      '$.d.$or[1]: each $or branch',
    ],
    ['an empty $or branch', { $or: [{ a: ['x'] }, {}] }, '$.$or[1]: each $or branch'],
    [
      'a bad matcher deep in an $or',
      { $or: [{ a: ['x'] }, { b: { c: [{ exists: 1 }] } }] },
      '$.$or[1].b.c[0].exists',
    ],
  ])('rejects %s, naming the path', (_, pattern, reason) => {
    // Prepare: the row

    // Act
    const check = validatePattern(pattern);

    // Assess
    expect(check.ok).toBe(false);
    expect(check.ok ? '' : check.reason).toContain(reason);
  });

  it.each<[string, unknown]>([
    ['an escaped star next to a wildcard', { a: [{ wildcard: '*\\**' }] }],
    ['an empty prefix, which matches every string', { source: [{ prefix: '' }] }],
    ['a bare IPv4 address as a CIDR block', { ip: [{ cidr: '10.0.0.1' }] }],
    ['an IPv6 block with an embedded IPv4 tail', { ip: [{ cidr: '::ffff:10.0.0.0/120' }] }],
    ['a numeric bound at the limit', { n: [{ numeric: ['>=', -5e9, '<=', 5e9] }] }],
  ])('accepts %s', (_, pattern) => {
    // Prepare: the row

    // Act
    const check = validatePattern(pattern);

    // Assess
    expect(check).toEqual({ ok: true });
  });

  it('makes matchesPattern throw a named PatternError for an invalid pattern', () => {
    // Prepare
    const pattern = { detail: { state: 'running' } };

    // Act
    const act = () => matchesPattern(pattern, { detail: { state: 'running' } });

    // Assess
    expect(act).toThrow(PatternError);
    expect(act).toThrow(expect.objectContaining({ name: 'PatternError', path: '$.detail.state' }));
  });
});

// ---------------------------------------------------------------------------------------------------
// Properties

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

const key = fc.stringMatching(/^[a-z][a-z0-9-]{0,6}$/);
const scalar = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
);
const { event } = fc.letrec<{ event: Record<string, Json>; value: Json }>((tie) => ({
  event: fc.dictionary(key, tie('value'), { maxKeys: 5 }),
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(scalar, { maxLength: 3 }),
    tie('event'),
  ),
}));

// Picks one of the event's own values for each field it can, so the pattern must match the event.
function patternFrom(source: Record<string, Json>, pick: number): Record<string, unknown> {
  const pattern: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(source)) {
    if (Array.isArray(value)) {
      const scalars = value.filter(
        (item) => !Array.isArray(item) && (item === null || typeof item !== 'object'),
      );
      if (scalars.length > 0) pattern[name] = [scalars[pick % scalars.length]];
    } else if (value !== null && typeof value === 'object') {
      const nested = patternFrom(value, pick);
      if (Object.keys(nested).length > 0) pattern[name] = nested;
    } else {
      pattern[name] = [value];
    }
  }
  return pattern;
}

describe('properties', () => {
  it('a pattern built from an event’s own values is valid and matches that event', () => {
    fc.assert(
      fc.property(event, fc.nat(), (source, pick) => {
        // Prepare
        const pattern = patternFrom(source, pick);

        // Act
        const check = validatePattern(pattern);
        const matched = matchesPattern(pattern, source);

        // Assess
        expect(check).toEqual({ ok: true });
        expect(matched).toBe(true);
      }),
    );
  });

  it('anything-but X never matches X, and matches any other string or number', () => {
    const excludable = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
    );
    fc.assert(
      fc.property(excludable, excludable, (excluded, other) => {
        // Prepare
        const pattern = { a: [{ 'anything-but': excluded }] };

        // Act
        const self = matchesPattern(pattern, { a: excluded });
        const different = matchesPattern(pattern, { a: other });

        // Assess
        expect(self).toBe(false);
        expect(different).toBe(other !== excluded);
      }),
    );
  });

  it('prefix and suffix match their own extensions, in any case when asked to', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (affix, rest) => {
        // Prepare
        const prefixed = { a: [{ prefix: { 'equals-ignore-case': affix.toUpperCase() } }] };
        const suffixed = { a: [{ suffix: affix }] };

        // Act
        const prefixHit = matchesPattern(prefixed, { a: affix.toLowerCase() + rest });
        const suffixHit = matchesPattern(suffixed, { a: rest + affix });

        // Assess
        expect(prefixHit).toBe(true);
        expect(suffixHit).toBe(true);
      }),
    );
  });

  it('a wildcard matches any filling of its stars and agrees with an equivalent regular expression', () => {
    const literal = fc.stringMatching(/^[ab.]{0,3}$/);
    fc.assert(
      fc.property(
        fc.array(literal, { minLength: 1, maxLength: 4 }),
        fc.array(fc.string()),
        fc.stringMatching(/^[ab.]{0,8}$/),
        (segments, fillers, probe) => {
          // Prepare: joining with stars never puts two next to each other unless a segment is empty
          fc.pre(segments.slice(1, -1).every((segment) => segment !== ''));
          const wildcard = segments.join('*');
          const filled = segments
            .map((segment, index) => (index === 0 ? segment : (fillers[index] ?? '') + segment))
            .join('');
          const regex = new RegExp(
            `^${segments.map((segment) => segment.replaceAll('.', '\\.')).join('.*')}$`,
            's',
          );

          // Act
          const filledHit = matchesPattern({ a: [{ wildcard }] }, { a: filled });
          const probeHit = matchesPattern({ a: [{ wildcard }] }, { a: probe });

          // Assess
          expect(filledHit).toBe(true);
          expect(probeHit).toBe(regex.test(probe));
        },
      ),
    );
  });

  it('a numeric range agrees with plain arithmetic', () => {
    const bound = fc.integer({ min: -1000, max: 1000 });
    fc.assert(
      fc.property(bound, bound, fc.double({ min: -2000, max: 2000, noNaN: true }), (a, b, value) => {
        // Prepare
        fc.pre(a !== b);
        const [low, high] = a < b ? [a, b] : [b, a];
        const pattern = { n: [{ numeric: ['>', low, '<=', high] }] };

        // Act
        const matched = matchesPattern(pattern, { n: value });

        // Assess
        expect(matched).toBe(value > low && value <= high);
      }),
    );
  });

  it('an IPv4 address is inside every block drawn around it, and a /32 holds only itself', () => {
    const address = fc
      .tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255))
      .map((octets) => octets.join('.'));
    fc.assert(
      fc.property(address, address, fc.nat(32), (ip, other, length) => {
        // Prepare
        const around = { ip: [{ cidr: `${ip}/${length}` }] };
        const exact = { ip: [{ cidr: `${ip}/32` }] };

        // Act
        const inside = matchesPattern(around, { ip });
        const exactOther = matchesPattern(exact, { ip: other });

        // Assess
        expect(inside).toBe(true);
        expect(exactOther).toBe(ip === other);
      }),
    );
  });

  it('an event array matches a leaf exactly when one of its elements does', () => {
    fc.assert(
      fc.property(
        fc.array(scalar, { minLength: 1, maxLength: 4 }),
        fc.array(scalar, { minLength: 1, maxLength: 4 }),
        (wanted, values) => {
          // Prepare
          const pattern = { a: wanted };

          // Act
          const asArray = matchesPattern(pattern, { a: values });
          const oneByOne = values.some((value) => matchesPattern(pattern, { a: value }));

          // Assess
          expect(asArray).toBe(oneByOne);
        },
      ),
    );
  });
});
