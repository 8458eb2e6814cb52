// After every test, whatever its verdict: a twin whose run was still going when its test ended (a failed
// expectation before the run was awaited, a timeout) gives the global timers and Date back, so the next
// test's twin is not refused with VirtualTimeBusy. One failing test fails alone.
import { putAwayTwins, releaseVirtualTime } from '#local/twin/scheduler';

afterEach(() => {
  releaseVirtualTime();
});

// After every test file: the executions its twins left running stop, so nothing of them runs on the real
// clock after the file and keeps the test runner from exiting.
afterAll(() => {
  putAwayTwins();
});
