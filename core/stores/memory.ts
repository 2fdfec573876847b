import Keyv from 'keyv';
import type { Logger } from '../log.ts';
import type { Store } from '../store.ts';
import { keyQueue } from './key-queue.ts';

/**
 * A store in this process's memory, for tests and trying things out: nothing survives a restart.
 * @example
 * memoryStore({ namespace: 'bot', log })
 */
export function memoryStore(options: { namespace: string; log: Logger }): Store {
  // Plain JSON: each read is a copy, so a caller changing what it read cannot change the store.
  const keyv = new Keyv({ namespace: options.namespace, throwOnErrors: true, serialize: JSON.stringify, deserialize: JSON.parse });
  // One process, so queuing each key's read-modify-write makes claim and increment atomic.
  const queue = keyQueue();
  return {
    local: true,
    get: async <T>(key: string) => (await keyv.get<T>(key)) ?? undefined,
    set: async (key, value, ttlMs) => void (await keyv.set(key, value, ttlMs)),
    delete: async (key) => void (await keyv.delete(key)),
    forget: async (keys) => void (await Promise.all(keys.map((key) => keyv.delete(key)))),
    claim: (key, value, ttlMs) =>
      queue(key, async () => {
        if ((await keyv.get(key)) !== undefined) return false;
        await keyv.set(key, value, ttlMs);
        return true;
      }),
    increment: (key, by = 1, ttlMs) =>
      queue(key, async () => {
        const { value: current, expires } = ((await keyv.get<number>(key, { raw: true })) ?? {}) as { value?: number; expires?: number };
        const value = (current ?? 0) + by;
        await keyv.set(key, value, current === undefined ? ttlMs : expires ? Math.max(1, expires - Date.now()) : undefined);
        return value;
      }),
    close: async () => {},
  };
}
