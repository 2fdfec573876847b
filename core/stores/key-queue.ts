/**
 * Runs tasks one after another per key, so a read-modify-write on one key is atomic within this
 * process. Keys with nothing queued hold no memory.
 * @example
 * const queue = keyQueue(); await queue('counter', async () => …)
 */
export function keyQueue() {
  const tails = new Map<string, Promise<unknown>>();
  return <T>(key: string, task: () => Promise<T>): Promise<T> => {
    const run = (tails.get(key) ?? Promise.resolve()).then(task, task);
    const tail = run.catch(() => {});
    tails.set(key, tail);
    void tail.then(() => tails.get(key) === tail && tails.delete(key));
    return run;
  };
}
