import KeyvRedis, { createClient, Keyv } from '@keyv/redis';
import type { Logger } from '../log.ts';
import { StoreConfigError, throttledErrorLog, type Store } from '../store.ts';

// Adds to the counter inside the Keyv-shaped JSON record, atomically (Lua runs alone in Redis).
const INCREMENT = `
local current = redis.call('GET', KEYS[1])
local value = tonumber(ARGV[1])
if current then
  value = value + (tonumber(cjson.decode(current).value) or 0)
  redis.call('SET', KEYS[1], cjson.encode({ value = value }), 'KEEPTTL')
elseif tonumber(ARGV[2]) > 0 then
  redis.call('SET', KEYS[1], cjson.encode({ value = value }), 'PX', ARGV[2])
else
  redis.call('SET', KEYS[1], cjson.encode({ value = value }))
end
return value`;

/**
 * Redis through Keyv's Redis adapter, for several instances sharing one truth: SET NX claims and
 * atomic increments. Commands fail at once while Redis is down (no offline queue) so pushes are
 * not held; the client reconnects by itself.
 * @example
 * await redisStore('redis://127.0.0.1:6379/0', { namespace: 'bot', log })
 */
export async function redisStore(url: string, options: { namespace: string; log: Logger }): Promise<Store> {
  let connected = false;
  const client = createClient({
    url,
    disableOfflineQueue: true,
    // At start a few tries, then a clear error; once connected, reconnect for ever.
    socket: {
      connectTimeout: 2000,
      reconnectStrategy: (retries: number, cause: Error) => (!connected && retries >= 2 ? cause : Math.min(100 * 2 ** retries, 2000)),
    },
  });
  const logError = throttledErrorLog(options.log, 'store: redis');
  client.on('error', logError);
  client.on('ready', () => {
    connected = true;
    options.log.info('store: redis connected');
  });
  try {
    await client.connect();
  } catch (error) {
    if (client.isOpen) client.destroy();
    throw new StoreConfigError(`BOT_STORE: cannot reach Redis at ${redacted(url)}: ${(error as Error).message}`);
  }
  const adapter = new KeyvRedis(client as never, { namespace: options.namespace, throwOnErrors: true, throwOnConnectError: true });
  const keyv = new Keyv({ store: adapter, namespace: options.namespace, useKeyPrefix: false, throwOnErrors: true });
  keyv.on('error', () => {}); // thrown to the caller, which logs; the connection itself is logged above
  const full = (key: string) => adapter.createKeyPrefix(key, options.namespace);

  return {
    local: false,
    get: async <T>(key: string) => (await keyv.get<T>(key)) ?? undefined,
    set: async (key, value, ttlMs) => void (await keyv.set(key, value, ttlMs)),
    delete: async (key) => void (await keyv.delete(key)),
    forget: async (keys) => void (keys.length > 0 && (await client.del(keys.map(full)))),
    claim: async (key, value, ttlMs) => {
      const result = await client.set(full(key), JSON.stringify({ value, expires: Date.now() + ttlMs }), { NX: true, PX: ttlMs });
      return result === 'OK';
    },
    increment: async (key, by = 1, ttlMs) =>
      Number(await client.eval(INCREMENT, { keys: [full(key)], arguments: [String(by), String(ttlMs ?? 0)] })),
    close: async () => {
      if (client.isOpen) await client.quit().catch(() => client.destroy());
    },
  };
}

// A Redis URL may carry a password: never log it.
function redacted(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'redis://…';
  }
}
