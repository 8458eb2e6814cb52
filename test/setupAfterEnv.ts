// After every test, whatever its verdict: a twin whose run was still going when its test ended (a failed
// expectation before the run was awaited, a timeout) gives the global timers and Date back, so the next
// test's twin is not refused with VirtualTimeBusy. One failing test fails alone.
import { releaseVirtualTime } from '#local/twin/scheduler';

afterEach(() => {
  releaseVirtualTime();
});
