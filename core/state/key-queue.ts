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
    const forget = forgetter(tails, key, run);
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

// Once a key's last task settles, the key holds nothing. Made here rather than named in place:
// under tsx, a named closure costs a call that renames it, and this one is made for every task.
function forgetter(tails: Map<string, Promise<unknown>>, key: string, run: Promise<unknown>): () => void {
  return () => void (tails.get(key) === run && tails.delete(key));
}
