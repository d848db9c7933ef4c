import type { ChildProcess } from 'node:child_process';

/**
 * The first message from `child` that `pick` turns into a value; rejects when the child has exited
 * or exits first, or after `timeoutMs`. `label` and `what` name the child and the wait in errors
 * ("worker 123 did not listen within 5000 ms").
 */
export function nextMessage<T>(
  child: ChildProcess,
  label: string,
  timeoutMs: number,
  what: string,
  pick: (message: unknown) => T | undefined,
): Promise<T> {
  return new Promise((resolve, reject) => {
    // An exit that already happened will not be announced again.
    if (child.exitCode !== null || child.signalCode !== null) {
      reject(
        new Error(`${label} ${child.pid} has exited (code ${child.exitCode}, signal ${child.signalCode})`),
      );
      return;
    }
    const onMessage = (message: unknown): void => {
      const value = pick(message);
      if (value === undefined) return;
      done();
      resolve(value);
    };
    const onExit = (code: number | null, signal: string | null): void => {
      done();
      reject(
        new Error(`${label} ${child.pid} exited (code ${code}, signal ${signal}) before it could ${what}`),
      );
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${label} ${child.pid} did not ${what} within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      child.removeListener('message', onMessage);
      child.removeListener('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}
