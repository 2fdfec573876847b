import KeyvRedis, { createClient, Keyv } from '@keyv/redis';
import type { Logger } from '../../kernel/log.ts';
import { keyQueue } from '../key-queue.ts';
import { StoreConfigError, StoreError, throttledErrorLog, type Change, type Counter, type Store } from '../store.ts';

// Adds to each counter inside its Keyv-shaped JSON record, atomically (Lua runs alone in Redis):
// KEYS are the counters, ARGV a `by` and a whole-millisecond ttl (0: none) for each. Every counter
// is read before any is written, so one that cannot be read leaves them all as they were (Redis
// does not undo a script's writes). Returns the new values.
const INCREMENT = `
local values = {}
local existed = {}
for i, key in ipairs(KEYS) do
  local current = redis.call('GET', key)
  local value = tonumber(ARGV[2 * i - 1])
  if current then
    local ok, record = pcall(cjson.decode, current)
    if not ok or type(record) ~= 'table' then return redis.error_reply('counter ' .. key .. ' does not hold a counter') end
    value = value + (tonumber(record.value) or 0)
  end
  values[i] = value
  existed[i] = current ~= false
end
for i, key in ipairs(KEYS) do
  local ttl = tonumber(ARGV[2 * i])
  if existed[i] then
    redis.call('SET', key, cjson.encode({ value = values[i] }), 'KEEPTTL')
  elseif ttl > 0 then
    redis.call('SET', key, cjson.encode({ value = values[i] }), 'PX', ttl)
  else
    redis.call('SET', key, cjson.encode({ value = values[i] }))
  end
end
return values`;

// Sets KEYS[1] to ARGV[1] (for ARGV[2] ms; 0: for ever) unless KEYS[2] exists; 1 when set.
const SET_UNLESS = `
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local ttl = tonumber(ARGV[2])
if ttl > 0 then redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl) else redis.call('SET', KEYS[1], ARGV[1]) end
return 1`;

// Writes KEYS[1] unless the guard KEYS[2] exists, if it still holds what the caller expects:
// ARGV[2] ('' for nothing). ARGV[1] is the record to write ('': write nothing, only answer what
// it holds), keeping the key's expiry when ARGV[3] is 'keep' (a new record has none). Returns
// {1} when written, {0} when the guard refused, and {2, what it holds now} otherwise. The change itself is made by the caller, in JavaScript: Lua's
// JSON would turn an empty list into an object and round numbers to 14 digits.
const UPDATE = `
if redis.call('EXISTS', KEYS[2]) == 1 then return {0} end
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '' or (current or '') ~= ARGV[2] then return {2, current} end
if ARGV[3] == 'keep' then redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL') else redis.call('SET', KEYS[1], ARGV[1]) end
return {1}`;
// An update whose record keeps changing under it gives up after this many tries.
const UPDATE_TRIES = 20;

// Claims several keys at once (SET NX PX each): KEYS the keys, ARGV a record and a ttl for each.
// Returns 1 for each key this call set, 0 for one already held.
const CLAIM_MANY = `
local claimed = {}
for i, key in ipairs(KEYS) do
  claimed[i] = redis.call('SET', key, ARGV[2 * i - 1], 'NX', 'PX', ARGV[2 * i]) and 1 or 0
end
return claimed`;

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
  // Records the scripts write are encoded as Keyv encodes them, so get() reads them back as they
  // were (Keyv escapes a string that starts with ':'). Keyv's default encoding, made here, is synchronous.
  type Stored<T> = { value?: T; expires?: number };
  const encode = (record: Stored<unknown>): string => keyv.serialize!(record) as string;
  const decode = <T>(text: string): Stored<T> => (keyv.deserialize!(text) as Stored<T> | undefined) ?? {};
  // The record of a value set now for ttl ms (0: for ever).
  const recordFor = (value: unknown, ttl: number) => encode(ttl ? { value, expires: Date.now() + ttl } : { value });
  // Claims made in one turn of the loop go to Redis as one command: a push's nonce (the transport's
  // replay check) and its dedupe claim are made together, so they cost one round trip.
  type PendingClaim = { key: string; record: string; ttl: number; settle(claimed: boolean | Error): void };
  let claims: PendingClaim[] | undefined;
  const flushClaims = async () => {
    const batch = claims!;
    claims = undefined;
    try {
      if (batch.length === 1) {
        const [one] = batch as [PendingClaim];
        return one.settle((await client.set(one.key, one.record, { NX: true, PX: one.ttl })) === 'OK');
      }
      const claimed = (await client.eval(CLAIM_MANY, {
        keys: batch.map((c) => c.key),
        arguments: batch.flatMap((c) => [c.record, String(c.ttl)]),
      })) as number[];
      batch.forEach((c, i) => c.settle(claimed[i] === 1));
    } catch (error) {
      for (const c of batch) c.settle(error as Error);
    }
  };
  const claim = (key: string, value: unknown, ttlMs: number) =>
    new Promise<boolean>((resolve, reject) => {
      if (!claims) {
        claims = [];
        queueMicrotask(() => void flushClaims());
      }
      const ttl = Math.max(1, Math.trunc(ttlMs));
      const record = recordFor(value, ttl);
      claims.push({ key: full(key), record, ttl, settle: (r) => (r instanceof Error ? reject(r) : resolve(r)) });
    });
  // The first try expects no record (a new follower's: one round trip); a record there comes back
  // with the answer, and the change is made again on it (an existing record: two). This
  // instance's updates of one key wait for each other, so only other instances' can change the
  // record under a try.
  const updateQueue = keyQueue();
  const update = <T extends object>(key: string, change: Change<T>, guard: string) => updateQueue(key, () => updateNow(key, change, guard));
  const updateNow = async <T extends object>(key: string, change: Change<T>, guard: string) => {
    let seen = ''; // the record as last seen: none, until Redis says otherwise
    let known = false;
    for (let tries = 0; tries < UPDATE_TRIES; tries++) {
      const held = seen ? decode<T>(seen) : {};
      // A record past its expiry (Redis drops it a moment later) is no record: the change starts a new one.
      const record = held.expires !== undefined && held.expires < Date.now() ? {} : held;
      const next = change(record.value ?? undefined);
      if (next === undefined && known) return undefined;
      const text =
        next === undefined ? '' : encode(record.expires === undefined ? { value: next } : { value: next, expires: record.expires });
      const keep = record.expires === undefined ? 'new' : 'keep';
      const [outcome, now] = (await client.eval(UPDATE, { keys: [full(key), full(guard)], arguments: [text, seen, keep] })) as [
        number,
        string?,
      ];
      if (outcome === 1) return next;
      if (outcome === 0) return undefined;
      if (known) {
        // Another instance wrote it meanwhile: a moment's pause, different on each instance, lets
        // one of several writers of one record through at a time.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * tries));
      }
      seen = now ?? '';
      known = true;
    }
    throw new StoreError(`store: the record ${key.split(':')[0]}:… changed under ${UPDATE_TRIES} updates in a row`);
  };
  const increment = async (counters: readonly Counter[]): Promise<number[]> => {
    const values = await client.eval(INCREMENT, {
      keys: counters.map(({ key }) => full(key)),
      arguments: counters.flatMap(({ by = 1, ttlMs }) => [String(by), String(Math.max(0, Math.trunc(ttlMs ?? 0)))]),
    });
    return (values as unknown[]).map(Number);
  };

  return {
    local: false,
    get: async <T>(key: string) => (await keyv.get<T>(key)) ?? undefined,
    // Straight to the client, in Keyv's record, so get() reads it: it records every push's reply,
    // and Keyv's layers cost about 5 µs a call.
    set: async (key, value, ttlMs) => {
      if (value === undefined) return void (await client.del(full(key))); // as the other stores: undefined deletes
      const ttl = Math.max(0, Math.trunc(ttlMs ?? 0));
      const record = recordFor(value, ttl);
      await (ttl ? client.set(full(key), record, { PX: ttl }) : client.set(full(key), record));
    },
    delete: async (key) => void (await keyv.delete(key)),
    forget: async (keys) => void (keys.length > 0 && (await client.del(keys.map(full)))),
    claim,
    setUnless: async (key, value, guard, ttlMs) => {
      const ttl = Math.max(0, Math.trunc(ttlMs ?? 0));
      const record = recordFor(value, ttl);
      return (await client.eval(SET_UNLESS, { keys: [full(key), full(guard)], arguments: [record, String(ttl)] })) === 1;
    },
    update,
    increment: async (key, by = 1, ttlMs) => (await increment([{ key, by, ttlMs }]))[0]!,
    incrementAll: async (counters) => void (counters.length > 0 && (await increment(counters))),
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
