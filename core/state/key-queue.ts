/**
 * Runs tasks one after another per key, so a read-modify-write on one key is atomic within this
 * process. A task for an idle key starts at once; keys with nothing queued hold no memory.
 * @example
 * const queue = keyQueue(); await queue('counter', async () => …)
 */
export function keyQueue() {
  const tails = new Map<string, Promise<unknown>>();
  return <T>(key: string, task: () => Promise<T>): Promise<T> => {
    const previous = tails.get(key);
    // A task runs after the one before it, whether that one succeeded or failed.
    const run = previous ? previous.then(task, task) : start(task);
    tails.set(key, run);
    // Once a key's last task settles, the key holds nothing.
    const forget = () => void (tails.get(key) === run && tails.delete(key));
    void run.then(forget, forget);
    return run;
  };
}

function start<T>(task: () => Promise<T>): Promise<T> {
  try {
    return task();
  } catch (error) {
    return Promise.reject(error);
  }
}
