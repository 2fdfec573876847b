import type { Logger } from '../kernel/log.ts';

/**
 * Where the bot keeps state: dedupe records, user records, counters, codes, the access token.
 * Keyv's get/set/delete, plus the two atomic operations several instances need.
 * @example
 * const store = await openStore('sqlite://data/bot.sqlite', { log })
 * await store.set('k', { a: 1 }, 60_000)
 */
export interface Store {
  /**
   * True when the store lives in this process's memory (memory://): nothing is shared, so caches
   * that only help other processes (dedupe records) need not be written to it.
   */
  readonly local: boolean;
  get<T>(key: string): Promise<T | undefined>;
  /** ttlMs: the record disappears after this many milliseconds. */
  set(key: string, value: unknown, ttlMs?: number): Promise<void>;
  delete(key: string): Promise<void>;
  /**
   * Deletes personal data so that no copy stays behind in the store's own files (SQLite's
   * write-ahead log); the purge on unsubscribe uses it.
   */
  forget(keys: readonly string[]): Promise<void>;
  /**
   * Sets the key only if it is absent (or expired), atomically across every process sharing the
   * store (Redis SET NX); true when this caller got it.
   */
  claim(key: string, value: unknown, ttlMs: number): Promise<boolean>;
  /**
   * Sets the key unless `guard` exists (and has not expired), atomically across every process
   * sharing the store; true when it was set. A purge leaves a guard (a tombstone), so a write
   * racing it cannot bring the record back.
   */
  setUnless(key: string, value: unknown, guard: string, ttlMs?: number): Promise<boolean>;
  /**
   * Changes the object at `key` to what `change` makes of it (given undefined when there is none),
   * unless `guard` exists; atomically across every process sharing the store, keeping the
   * record's expiry. `change` may be called more than once (Redis tries again when another
   * instance wrote the record meanwhile), so it must only compute, synchronously; returning
   * undefined leaves the record as it is. Resolves with the record written, or undefined when the
   * guard refused or nothing was written; rejects when the store fails (on Redis, also when other
   * instances kept changing the record through 20 tries). A user's record is written this way:
   * on Redis no read of it comes first, so a new follower's record costs one operation.
   */
  update<T extends object>(key: string, change: Change<T>, guard: string): Promise<T | undefined>;
  /**
   * Adds `by` to a counter atomically and returns the new value; `get` reads it. A counter created
   * with ttlMs disappears that long after its creation (a rate-limit window).
   */
  increment(key: string, by?: number, ttlMs?: number): Promise<number>;
  /**
   * Adds to several counters in one operation (one SQL statement, one Redis script), each as
   * {@link increment} would: what a push counts costs one round trip, and lands whole or not at all.
   */
  incrementAll(counters: readonly Counter[]): Promise<void>;
  close(): Promise<void>;
}

/** What {@link Store.update} makes of a record (undefined: there is none; returned: leave it as it is). */
export type Change<T> = (current: T | undefined) => T | undefined;

/** One counter of {@link Store.incrementAll}. */
export interface Counter {
  key: string;
  by?: number;
  ttlMs?: number;
}

/** Options of `openStore`. */
export interface StoreOptions {
  log: Logger;
  /** Prefix of every key, so two bots can share one database or Redis server. */
  namespace?: string;
  /** An operation taking longer fails, so a stuck database cannot hold a push. */
  timeoutMs?: number;
  /** Called with the operation's name when one fails or times out (a metric). */
  onError?(op: string): void;
}

/** Thrown for a BOT_STORE the framework cannot open. */
export class StoreConfigError extends Error {
  override name = 'StoreConfigError';
}

/** Thrown when the store fails or is too slow; callers log it and carry on without. */
export class StoreError extends Error {
  override name = 'StoreError';
}

/**
 * Logs a store's connection errors loudly, at most once per interval, so an outage is seen and a
 * reconnect loop does not flood the log.
 */
export function throttledErrorLog(log: Logger, what: string, intervalMs = 5000): (error: unknown) => void {
  let last = 0;
  let suppressed = 0;
  return (error) => {
    if (Date.now() - last < intervalMs) return void suppressed++;
    log.error({ err: error, suppressed }, `${what}: ${(error as Error)?.message ?? error}`);
    last = Date.now();
    suppressed = 0;
  };
}
