import { LRUCache } from 'lru-cache';
import type { Logger } from '../log.ts';
import type { Store } from '../store.ts';

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
  // Values are kept as JSON: each read is a copy, so a caller changing what it read cannot change
  // the store, as with the other stores.
  const cache = new LRUCache<string, string>({ max: MEMORY_STORE_MAX });
  const read = <T>(key: string): T | undefined => {
    const raw = cache.get(key);
    return raw === undefined ? undefined : (JSON.parse(raw) as T);
  };
  const write = (key: string, value: unknown, ttlMs: number | undefined) =>
    cache.set(key, JSON.stringify(value), { ttl: ttlMs && ttlMs > 0 ? ttlMs : 0 });
  const increment = (key: string, by: number, ttlMs: number | undefined): number => {
    const current = read<number>(key);
    // A counter keeps the expiry it was made with.
    const left = current === undefined ? ttlMs : cache.getRemainingTTL(key);
    write(key, (current ?? 0) + by, Number.isFinite(left) ? left : undefined);
    return (current ?? 0) + by;
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
    increment: async (key, by = 1, ttlMs) => increment(key, by, ttlMs),
    incrementAll: async (counters) => counters.forEach(({ key, by = 1, ttlMs }) => increment(key, by, ttlMs)),
    close: async () => void cache.clear(),
  };
}
