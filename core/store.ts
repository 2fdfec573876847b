import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Keyv from 'keyv';
import KeyvSqlite from '@keyv/sqlite';
import type { Logger } from './log.ts';

/**
 * Where the bot keeps state: dedupe records, user records, counters. A three-method Keyv
 * surface plus the one atomic operation counters need.
 * @example
 * const store = await openStore('sqlite://data/bot.sqlite', { log })
 * await store.set('k', { a: 1 }, 60_000)
 */
export interface Store {
  get<T>(key: string): Promise<T | undefined>;
  /** ttlMs: the record disappears after this many milliseconds. */
  set(key: string, value: unknown, ttlMs?: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Adds `by` to a numeric counter and returns the new value; no update is lost within a process. */
  increment(key: string, by?: number): Promise<number>;
  close(): Promise<void>;
}

/** Options of {@link openStore}. */
export interface StoreOptions {
  log: Logger;
  /** Prefix of every key, so two bots can share one database. */
  namespace?: string;
}

/** Thrown for a BOT_STORE the framework cannot open. */
export class StoreConfigError extends Error {
  override name = 'StoreConfigError';
}

const SWEEP_MS = 10 * 60_000;

/**
 * Opens the store named by a BOT_STORE URL: `sqlite://path`, `memory://`.
 * @example
 * await openStore('memory://', { log })
 * await openStore('sqlite://data/bot.sqlite', { log, namespace: 'shop' })
 */
export async function openStore(url: string, options: StoreOptions): Promise<Store> {
  const namespace = options.namespace ?? 'bot';
  if (url === 'memory://' || url === 'memory') return keyvStore(new Keyv({ namespace }), options.log);
  if (url.startsWith('sqlite://')) {
    const file = url.slice('sqlite://'.length);
    if (!file) throw new StoreConfigError('BOT_STORE sqlite:// needs a file path, e.g. sqlite://data/bot.sqlite');
    if (file !== ':memory:') mkdirSync(dirname(resolve(file)), { recursive: true });
    const adapter = new KeyvSqlite({ uri: url, busyTimeout: 5000 });
    // Deleted rows are overwritten with zeros, so a purged user leaves nothing in the file.
    await adapter.query('PRAGMA secure_delete = ON');
    const store = keyvStore(new Keyv({ store: adapter, namespace }), options.log);
    // Keyv drops an expired record only when it is read; dedupe records never are, so sweep them.
    const sweep = setInterval(() => {
      adapter
        .query("DELETE FROM keyv WHERE json_extract(value, '$.expires') < ?", Date.now())
        .catch((error: unknown) => options.log.warn({ err: error }, 'store: sweeping expired records failed'));
    }, SWEEP_MS);
    sweep.unref();
    return { ...store, close: async () => (clearInterval(sweep), store.close()) };
  }
  if (url.startsWith('redis://') || url.startsWith('rediss://')) {
    throw new StoreConfigError('BOT_STORE redis:// is not supported yet: use sqlite:// or memory://');
  }
  throw new StoreConfigError(`BOT_STORE must start with sqlite:// or memory://, got ${url.split(':')[0]}:…`);
}

function keyvStore(keyv: Keyv, log: Logger): Store {
  keyv.on('error', (error: unknown) => log.error({ err: error }, 'store error'));
  const queues = new Map<string, Promise<number>>();
  return {
    get: async <T>(key: string) => (await keyv.get<T>(key)) ?? undefined,
    set: async (key, value, ttlMs) => {
      if (!(await keyv.set(key, value, ttlMs))) throw new Error(`store: writing ${key} failed`);
    },
    delete: async (key) => {
      await keyv.delete(key);
    },
    increment: (key, by = 1) => {
      // Read-modify-write, queued per key so concurrent increments in this process add up.
      const previous = queues.get(key) ?? Promise.resolve(0);
      const next = previous
        .catch(() => 0)
        .then(async () => {
          const value = ((await keyv.get<number>(key)) ?? 0) + by;
          await keyv.set(key, value);
          return value;
        });
      queues.set(key, next);
      void next.finally(() => queues.get(key) === next && queues.delete(key)).catch(() => {});
      return next;
    },
    close: async () => {
      await keyv.disconnect();
    },
  };
}
