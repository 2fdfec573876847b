import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Keyv from 'keyv';
import KeyvSqlite from '@keyv/sqlite';
import type { Logger } from '../../kernel/log.ts';
import { StoreConfigError, type Counter, type Store } from '../store.ts';

const SWEEP_MS = 10 * 60_000;
/** Deletes expired records, using the keyv_expires index. */
export const SWEEP = "DELETE FROM keyv WHERE json_extract(value, '$.expires') < ?";

/**
 * A SQLite file through Keyv: survives restarts, shared safely by processes on one machine. Claim
 * and increment are single SQL statements, so they are atomic across those processes too.
 * @example
 * await sqliteStore('sqlite://data/bot.sqlite', { namespace: 'bot', log })
 */
export async function sqliteStore(url: string, options: { namespace: string; log: Logger }): Promise<Store> {
  const file = url.slice('sqlite://'.length);
  if (!file) throw new StoreConfigError('BOT_STORE sqlite:// needs a file path, e.g. sqlite://data/bot.sqlite');
  if (file !== ':memory:') mkdirSync(dirname(resolve(file)), { recursive: true });
  const adapter = new KeyvSqlite({ uri: url, busyTimeout: 1000 });
  // Deleted rows are overwritten with zeros, so a purged user leaves nothing in the file.
  await adapter.query('PRAGMA secure_delete = ON');
  // A write-ahead log: a write is an append, not a synced rewrite (a process crash loses nothing;
  // a power cut may lose the last moments). forget() truncates the log after a purge.
  await adapter.query('PRAGMA journal_mode = WAL');
  await adapter.query('PRAGMA synchronous = NORMAL');
  // Expired records are swept through this index: the sweep never reads the rest of the table.
  await adapter.query("CREATE INDEX IF NOT EXISTS keyv_expires ON keyv (json_extract(value, '$.expires'))");
  const keyv = new Keyv({ store: adapter, namespace: options.namespace, throwOnErrors: true });
  keyv.on('error', () => {}); // errors are thrown to the caller, which logs them
  // Keyv stores `namespace:key` → JSON {"value": …, "expires": ms}; the SQL below keeps that shape.
  const full = (key: string) => `${options.namespace}:${key}`;
  const now = () => Date.now();

  // Keyv drops an expired record only when it is read; dedupe records never are, so sweep them.
  const sweep = setInterval(() => {
    adapter.query(SWEEP, now()).catch((error: unknown) => options.log.warn({ err: error }, 'store: sweeping expired records failed'));
  }, SWEEP_MS);
  sweep.unref();

  // One upsert for any number of counters: an expired counter starts again from `by`, with a new
  // expiry; a live one adds the `by` of its new row and keeps its expiry.
  const increment = async (counters: readonly Counter[]): Promise<number[]> => {
    const rows = (await adapter.query(
      `INSERT INTO keyv (key, value) VALUES ${counters.map(() => '(?, json(?))').join(', ')}
       ON CONFLICT (key) DO UPDATE SET value = CASE
         WHEN json_extract(keyv.value, '$.expires') < ? THEN excluded.value
         ELSE json_set(keyv.value, '$.value', coalesce(json_extract(keyv.value, '$.value'), 0) + json_extract(excluded.value, '$.value')) END
       RETURNING key, json_extract(value, '$.value') AS value`,
      ...counters.flatMap(({ key, by = 1, ttlMs }) => [
        full(key),
        JSON.stringify(ttlMs ? { value: by, expires: now() + ttlMs } : { value: by }),
      ]),
      now(),
    )) as { key: string; value: number }[];
    const values = new Map(rows.map((row) => [row.key, row.value]));
    return counters.map(({ key }) => values.get(full(key))!);
  };

  return {
    local: false,
    get: async <T>(key: string) => (await keyv.get<T>(key)) ?? undefined,
    set: async (key, value, ttlMs) => void (await keyv.set(key, value, ttlMs)),
    delete: async (key) => void (await keyv.delete(key)),
    forget: async (keys) => {
      await Promise.all(keys.map((key) => keyv.delete(key)));
      // Older versions of the deleted rows live on in the log until a checkpoint: end them now.
      await adapter.query('PRAGMA wal_checkpoint(TRUNCATE)');
    },
    claim: async (key, value, ttlMs) => {
      const rows = (await adapter.query(
        `INSERT INTO keyv (key, value) VALUES (?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE json_extract(keyv.value, '$.expires') < ?
         RETURNING key`,
        full(key),
        JSON.stringify({ value, expires: now() + ttlMs }),
        now(),
      )) as unknown[];
      return rows.length === 1;
    },
    increment: async (key, by = 1, ttlMs) => (await increment([{ key, by, ttlMs }]))[0]!,
    incrementAll: async (counters) => void (counters.length > 0 && (await increment(counters))),
    close: async () => {
      clearInterval(sweep);
      await keyv.disconnect();
    },
  };
}
