// The shape every port contract shares. A contract is a list of assertions about one port group, written
// once and run twice: on the twin (`<group>.test.ts`, part of `npm test`) and on the AWS adapters against
// a real account (`<group>.awstest.ts`, run by `npm run test:aws`). If the twin and AWS ever disagree on
// one of them, the twin is wrong about AWS, and every scenario built on it is suspect.

import { defaultRecyclerPolicy } from '#domain/recyclerPolicy';
import { Twin } from '#local/twin/twin';

/** Reads until `ok` holds: AWS control planes are eventually consistent and the twin's world moves on a clock. */
export type Eventually = <T>(read: () => Promise<T>, ok: (value: T) => boolean) => Promise<T>;

/** A twin that no scenario drives: its clock moves only when a contract waits for something. */
export function contractTwin(): Twin {
  const twin = new Twin({
    seed: 11,
    settings: { clusters: [], dryRun: false, policy: defaultRecyclerPolicy() },
    deliverEvents: false,
  });
  twin.start();
  return twin;
}

/** On the twin, waiting is moving the virtual clock: five seconds a look, up to ten minutes. */
export function twinEventually(twin: Twin): Eventually {
  return async (read, ok) => {
    for (let look = 0; ; look++) {
      const value = await read();
      if (ok(value) || look >= 120) return value;
      await twin.scheduler.runUntil(new Date(twin.scheduler.now().getTime() + 5000));
    }
  };
}
