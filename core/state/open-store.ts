import { StoreConfigError, StoreError, type Change, type Store, type StoreOptions } from './store.ts';

/**
 * Opens the store named by a BOT_STORE URL: `sqlite://path`, `redis://host:port/db`, `memory://`.
 * @example
 * await openStore('memory://', { log })
 * await openStore('redis://127.0.0.1:6379/0', { log, namespace: 'shop' })
 */
export async function openStore(url: string, options: StoreOptions): Promise<Store> {
  const settings = { namespace: options.namespace ?? 'bot', log: options.log };
  let opened: Store;
  if (url === 'memory://' || url === 'memory') {
    opened = (await import('./stores/memory.ts')).memoryStore(settings);
  } else if (url.startsWith('sqlite://')) {
    opened = await (await import('./stores/sqlite.ts')).sqliteStore(url, settings);
  } else if (url.startsWith('redis://') || url.startsWith('rediss://')) {
    opened = await (await import('./stores/redis.ts')).redisStore(url, settings);
  } else {
    throw new StoreConfigError(`BOT_STORE must start with sqlite://, redis:// or memory://, got ${url.split(':')[0]}:…`);
  }
  const store: Store = { ...opened, update: (key, change, guard) => opened.update(key, synchronous(change), guard) };
  // A store in this process's memory cannot hang: its operations need no timer. Nor can SQLite's,
  // which run synchronously (a lock is waited for a quarter of a second at most); its failures
  // still say which operation failed.
  if (store.local) return store;
  return guarded(store, url.startsWith('sqlite://') ? undefined : (options.timeoutMs ?? 3000), options.onError ?? (() => {}));
}

// Every operation fails with a StoreError that says which one, and is bounded in time (timeoutMs).
function guarded(store: Store, timeoutMs: number | undefined, onError: (op: string) => void): Store {
  const bound = <T>(what: string, key: string, operation: () => Promise<T>): Promise<T> => {
    let failed = false; // counted once, whether it timed out, failed, or both
    const fail = () => {
      if (!failed) onError(what);
      failed = true;
    };
    const work = operation().catch((error: unknown) => {
      fail();
      throw error instanceof StoreError
        ? error
        : new StoreError(`store: ${what} ${key.split(':')[0]}:… failed: ${(error as Error)?.message ?? error}`, { cause: error });
    });
    if (timeoutMs === undefined) return work;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        fail();
        reject(new StoreError(`store: ${what} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
    });
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  };
  return {
    local: store.local,
    get: (key) => bound('get', key, () => store.get(key)),
    set: (key, value, ttlMs) => bound('set', key, () => store.set(key, value, ttlMs)),
    delete: (key) => bound('delete', key, () => store.delete(key)),
    forget: (keys) => bound('forget', keys[0] ?? '', () => store.forget(keys)),
    claim: (key, value, ttlMs) => bound('claim', key, () => store.claim(key, value, ttlMs)),
    setUnless: (key, value, guard, ttlMs) => bound('setUnless', key, () => store.setUnless(key, value, guard, ttlMs)),
    update: (key, change, guard) => bound('update', key, () => store.update(key, change, guard)),
    increment: (key, by, ttlMs) => bound('increment', key, () => store.increment(key, by, ttlMs)),
    incrementAll: (counters) => bound('incrementAll', counters[0]?.key ?? '', () => store.incrementAll(counters)),
    close: () => store.close(),
  };
}

// A change made by an async function would be written as the promise it returns (an empty object):
// refused, loudly. Its type cannot say so, since a promise is an object too.
function synchronous<T>(change: Change<T>): Change<T> {
  return (current) => {
    const next = change(current);
    if (next instanceof Promise) throw new TypeError('store.update: the change must return the new record, not a promise');
    return next;
  };
}
