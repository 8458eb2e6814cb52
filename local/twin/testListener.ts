// The twin's answer to http tests before traffic, in place of the network: a URL whose host names a target
// group of the world (`http://web-v2.targetgroup.twin/health`, as an ALB test listener forwarding to that
// group would) answers from that version's fault profile: its share of 5xx, spread evenly over the requests
// (the nth of a group fails when the running count of expected errors passes a whole number), so a verdict
// does not hang on a draw. Any other host is not found, as a name that does not resolve.
import type { Fetch } from '#adapters/aws/httpTrafficCheck';
import type { FaultProfile } from '#local/twin/traffic';

export const TEST_LISTENER_DOMAIN = '.targetgroup.twin';

export function testListenerFetch(
  knows: (targetGroup: string) => boolean,
  profileOf: (targetGroup: string) => FaultProfile,
): Fetch {
  const sent = new Map<string, number>();
  return async (url) => {
    const host = new URL(url).hostname;
    const group = host.endsWith(TEST_LISTENER_DOMAIN) ? host.slice(0, -TEST_LISTENER_DOMAIN.length) : '';
    if (!group || !knows(group))
      // Node's fetch: a TypeError whose cause carries the resolver's code.
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }),
      });
    const n = sent.get(group) ?? 0;
    sent.set(group, n + 1);
    const { errorRate } = profileOf(group);
    const fails = Math.floor((n + 1) * errorRate) > Math.floor(n * errorRate);
    return fails
      ? new Response('{"message":"internal error"}', { status: 503 })
      : new Response(JSON.stringify({ status: 'ok', version: group }), {
          status: 200,
          headers: { 'content-type': 'application/json' },
        });
  };
}
