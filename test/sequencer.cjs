// The order jest hands test files to its workers. With timings from an earlier run, jest starts the
// slowest files first, so that no worker is left with a long file at the end. A fresh clone (and so every
// CI run) has no timings, and jest falls back to file size, which starts the scenario sweeps in
// test/hardening/ (each one replays every scenario many times: a minute or more of a worker) after dozens
// of small files: the run then ends with one or two sweeps still going, and took 198 s where the same
// tests took 166 s in the timed order. The sweeps go first here, after the files that failed last time
// (jest's own first choice, so a rerun shows them soon); jest's own order holds within each part.
const Sequencer = require('@jest/test-sequencer').default;

const isSweep = (test) => /[\\/]test[\\/]hardening[\\/]/.test(test.path);

class SweepsFirst extends Sequencer {
  sort(tests) {
    const ordered = super.sort(tests);
    const failed = ordered.filter((test) => this.hasFailed(test));
    const rest = ordered.filter((test) => !this.hasFailed(test));
    return [...failed, ...rest.filter(isSweep), ...rest.filter((test) => !isSweep(test))];
  }
}

module.exports = SweepsFirst;
