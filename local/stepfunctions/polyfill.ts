// aws-local-stepfunctions calls Promise.withResolvers in every Task state. Node 22 (the Lambda runtime)
// has it; Node 20, which local development still runs, does not, and there the Task state fails with an
// error the library swallows. Imported once by the runner, before any state machine runs.
type WithResolvers = <T>() => {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: unknown) => void;
};

const promiseConstructor = Promise as PromiseConstructor & { withResolvers?: WithResolvers };

if (typeof promiseConstructor.withResolvers !== 'function') {
  const withResolvers: WithResolvers = <T>() => {
    let resolve!: (value: T | PromiseLike<T>) => void;
    let reject!: (reason?: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
  Object.defineProperty(promiseConstructor, 'withResolvers', {
    value: withResolvers,
    writable: true,
    configurable: true,
  });
}

export {};
