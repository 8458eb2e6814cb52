// The test environment (jest.config.js): jest's node environment, but with an ordinary global object.
//
// Jest 30 runs each test file in a vm context made from a JS Proxy (the sandbox it cleans up after the
// file). A name the code looks up on the global (Math, Date, JSON, Object, Promise, Map, Symbol...) then
// goes through the context's interceptor and the Proxy's traps: measured in a test file here, one
// `Math.floor` took about 160 ns against 4 ns in plain Node. The twin and the SDK look globals up millions
// of times in a sweep. A context made with DONT_CONTEXTIFY (Node >= 20.18) has an ordinary global object,
// and lookups cost what they cost outside jest: on this machine the whole suite went from about 180 s to
// 143 s of CPU, the fault sweep from 35 s to 31 s of its worker's time.
//
// What is given up is the Proxy's record of what a file put on the global, which jest uses to break
// references after the file: a worker's heap ends a little larger (733 MB against 506 MB after 58 files).
const vm = require('node:vm');
const { TestEnvironment } = require('jest-environment-node');

class OrdinaryGlobalEnvironment extends TestEnvironment {
  constructor(config, context) {
    if (!vm.constants?.DONT_CONTEXTIFY)
      throw new Error('the test environment needs vm.constants.DONT_CONTEXTIFY (Node >= 20.18)');
    // jest-environment-node makes its context with vm.createContext while it is constructed; it is
    // given the ordinary kind for that one call.
    const createContext = vm.createContext;
    vm.createContext = (_sandbox, options) => createContext(vm.constants.DONT_CONTEXTIFY, options);
    try {
      super(config, context);
    } finally {
      vm.createContext = createContext;
    }
    // An ordinary context is its own global. If an upgrade of jest builds its context another way, this
    // says so instead of quietly running every file slower.
    if (this.context !== this.global)
      throw new Error('jest-environment-node no longer makes its context through vm.createContext');
  }
}

module.exports = OrdinaryGlobalEnvironment;
