// The twin's answer to http tests before traffic, in place of the network: a name `<target group>.targetgroup
// .twin` resolves to the twin's test listener (`http://web-v2.targetgroup.twin/health`, as an ALB test
// listener forwarding to that group would), and a request to it answers from that version's fault profile:
// its share of 5xx, spread evenly over the requests (the nth of a group fails when the running count of
// expected errors passes a whole number), so a verdict does not hang on a draw. Any other name does not
// resolve. The check's own refusal of what a name resolves to runs on these answers as on real DNS.
import type { HttpNetwork } from '#adapters/aws/httpTrafficCheck';
import type { FaultProfile } from '#local/twin/traffic';

const TEST_LISTENER_DOMAIN = '.targetgroup.twin';
/** The test listener's one private address, whichever group a name asks for. */
export const TEST_LISTENER_ADDRESS = '10.0.0.10';

export function testListener(
  knows: (targetGroup: string) => boolean,
  profileOf: (targetGroup: string) => FaultProfile,
): HttpNetwork {
  const groupOf = (host: string) =>
    host.endsWith(TEST_LISTENER_DOMAIN) ? host.slice(0, -TEST_LISTENER_DOMAIN.length) : '';
  const sent = new Map<string, number>();
  return {
    resolve: async (host) => {
      const group = groupOf(host);
      // As dns.lookup fails: the resolver's code on the error.
      if (!group || !knows(group))
        throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
      return [{ address: TEST_LISTENER_ADDRESS, family: 4 }];
    },
    fetch: async (url) => {
      const group = groupOf(new URL(url).hostname);
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
    },
  };
}
