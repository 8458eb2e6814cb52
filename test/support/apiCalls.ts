// The AWS calls a test looks at, apart from what parking input costs: the SendMessage that puts a rejected
// input on its function's dead-letter queue (the twin's queues ending in -dlq) is the answer to bad input,
// not an action on the world.
import type { ApiCall } from '#local/twin/world';

export const isParking = (call: ApiCall): boolean =>
  call.api === 'SendMessage' && call.target.endsWith('-dlq');

export const besidesParking = (calls: ApiCall[]): ApiCall[] => calls.filter((call) => !isParking(call));
