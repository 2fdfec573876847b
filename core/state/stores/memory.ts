import { LRUCache } from 'lru-cache';
import type { Logger } from '../../kernel/log.ts';
import type { Change, Store } from '../store.ts';

// An object, kept as JSON, so each read is a copy and a caller changing what it read cannot change
// the store, as with the other stores.
class Json {
  constructor(readonly text: string) {}
}

// A counter, changed in place: an increment is one cache lookup rather than a read and a write.
class Count {
  constructor(public value: number) {}
}

// Numbers, strings and booleans cannot be changed in place: they are kept as they are.
type Kept = Json | Count | string | number | boolean;

function keep(value: unknown): Kept {
  return typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean' ? value : new Json(JSON.stringify(value));
}

// lru-cache's options for a record that lives ttlMs (0: until evicted).
function lifetime(ttlMs: number | undefined): { ttl: number } {
  return { ttl: ttlMs && ttlMs > 0 ? ttlMs : 0 };
}

/** Records a memory store keeps at most; the least recently used go first. */
export const MEMORY_STORE_MAX = 100_000;

/**
 * A store in this process's memory, for tests and trying things out: nothing survives a restart,
 * and it holds at most MEMORY_STORE_MAX records. An lru-cache rather than Keyv: every operation is
 * synchronous underneath, so claim and increment are atomic as they stand, and fast.
 * @example
 * memoryStore({ namespace: 'bot', log })
 */
export function memoryStore(_options: { namespace: string; log: Logger }): Store {
  const cache = new LRUCache<string, Kept>({ max: MEMORY_STORE_MAX });
  const read = <T>(key: string): T | undefined => {
    const kept = cache.get(key);
    // null reads back as missing, as from Keyv.
    return ((kept instanceof Json ? JSON.parse(kept.text) : kept instanceof Count ? kept.value : kept) ?? undefined) as T | undefined;
  };
  // Setting undefined deletes, as JSON (and so the other stores) cannot hold it.
  const write = (key: string, value: unknown, ttlMs: number | undefined) =>
    value === undefined ? cache.delete(key) : cache.set(key, keep(value), lifetime(ttlMs));
  const increment = (key: string, by: number, ttlMs: number | undefined): number => {
    const kept = cache.get(key);
    if (kept instanceof Count) return (kept.value += by); // keeps the expiry it was made with
    // A new counter, or a number set by set(): a Count from now on, with the same expiry.
    const value = (typeof kept === 'number' ? kept : 0) + by;
    if (kept === undefined) cache.set(key, new Count(value), lifetime(ttlMs));
    else cache.set(key, new Count(value), { noUpdateTTL: true });
    return value;
  };
  return {
    local: true,
    get: async <T>(key: string) => read<T>(key),
    set: async (key, value, ttlMs) => void write(key, value, ttlMs),
    delete: async (key) => void cache.delete(key),
    forget: async (keys) => keys.forEach((key) => cache.delete(key)),
    claim: async (key, value, ttlMs) => {
      if (cache.has(key)) return false;
      write(key, value, ttlMs);
      return true;
    },
    setUnless: async (key, value, guard, ttlMs) => {
      if (cache.has(guard)) return false; // has() is false for an expired record
      write(key, value, ttlMs);
      return true;
    },
    update: async <T extends object>(key: string, change: Change<T>, guard: string) => {
      if (cache.has(guard)) return undefined;
      const current = read<T>(key);
      const next = change(current);
      if (next === undefined) return undefined;
      // A live record keeps its expiry; one that expired is gone, and its change is a new record.
      cache.set(key, keep(next), current === undefined ? lifetime(0) : { noUpdateTTL: true });
      return next;
    },
    increment: async (key, by = 1, ttlMs) => increment(key, by, ttlMs),
    incrementAll: async (counters) => counters.forEach(({ key, by = 1, ttlMs }) => increment(key, by, ttlMs)),
    close: async () => void cache.clear(),
  };
}
