import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from '../../kernel/log.ts';
import { StoreConfigError, type Counter, type Store } from '../store.ts';
import { startHousekeeping, type Housekeeping } from './housekeeping.ts';
import { groupCommit } from './group-commit.ts';

const SWEEP_MS = 10 * 60_000;
const SWEEP_BATCH = 500;
/** Deletes a batch of expired records, found through the keyv_expires index. */
export const SWEEP = `DELETE FROM keyv WHERE key IN (SELECT key FROM keyv WHERE json_extract(value, '$.expires') < ? LIMIT ${SWEEP_BATCH})`;
// A process that holds the file's write lock holds it for one turn of its event loop (a few ms at
// most); waiting longer than this for it fails the write, which is logged, rather than hold the loop.
const BUSY_TIMEOUT_MS = 250;
// How often the worker checkpoints the log: it stays a few MB at most under load.
const CHECKPOINT_MS = 1000;

/**
 * A SQLite file, through better-sqlite3: statements run synchronously, in microseconds; reads at
 * once, and the writes of one turn of the event loop together, in one transaction (group commit).
 * A write's promise resolves once it is committed, so what a push wrote is on disk before its
 * answer leaves.
 * Processes on one machine share the file safely: claim and increment are single statements
 * inside a write transaction, atomic across them. The table is the one Keyv's SQLite adapter
 * made (`namespace:key` → JSON `{"value": …, "expires": ms}`), so older files keep working.
 * @example
 * await sqliteStore('sqlite://data/bot.sqlite', { namespace: 'bot', log })
 */
export async function sqliteStore(url: string, options: { namespace: string; log: Logger }): Promise<Store> {
  const file = url.slice('sqlite://'.length);
  if (!file) throw new StoreConfigError('BOT_STORE sqlite:// needs a file path, e.g. sqlite://data/bot.sqlite');
  if (file !== ':memory:') mkdirSync(dirname(resolve(file)), { recursive: true });
  const db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
  // Deleted rows are overwritten with zeros, so a purged user leaves nothing in the file.
  db.pragma('secure_delete = ON');
  // A write-ahead log: a commit is an append, not a synced rewrite. A process killed at any point
  // loses nothing it committed; a power cut may lose the last moments. forget() truncates the log.
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE IF NOT EXISTS keyv (key VARCHAR(255) PRIMARY KEY, value TEXT)');
  // Expired records are swept through this index: the sweep never reads the rest of the table.
  db.exec("CREATE INDEX IF NOT EXISTS keyv_expires ON keyv (json_extract(value, '$.expires'))");
  // The log's checkpoints and the sweep of expired records run in a worker thread, not in this
  // loop (housekeeping.ts); should the worker stop, they run here again. Started once the table
  // exists: the worker prepares its sweep at once.
  let housekeeping: Housekeeping | undefined;
  if (file !== ':memory:') {
    db.pragma('wal_autocheckpoint = 0');
    housekeeping = startHousekeeping(file, {
      everyMs: CHECKPOINT_MS,
      busyMs: BUSY_TIMEOUT_MS,
      sweep: { sql: SWEEP, batch: SWEEP_BATCH, everyMs: SWEEP_MS, pauseMs: 5 },
      onStop: (error) => {
        options.log.error({ err: error }, 'store: the SQLite housekeeping worker stopped; checkpoints and sweeps run in the main thread');
        housekeeping = undefined;
        db.pragma('wal_autocheckpoint = 1000');
      },
    });
  }

  const full = (key: string) => `${options.namespace}:${key}`;
  const commit = groupCommit(db);
  const select = db.prepare<[string], { value: string }>('SELECT value FROM keyv WHERE key = ?');
  const upsert = db.prepare('INSERT INTO keyv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
  const remove = db.prepare('DELETE FROM keyv WHERE key = ?');
  const claim = db.prepare<[string, string, number], { key: string }>(
    `INSERT INTO keyv (key, value) VALUES (?, ?)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE json_extract(keyv.value, '$.expires') < ?
     RETURNING key`,
  );
  const sweepBatch = db.prepare(SWEEP);
  // A record as the table holds it (Keyv's shape); no ttl: no expiry.
  const recordOf = (value: unknown, ttlMs: number | undefined, now = Date.now()) =>
    JSON.stringify(ttlMs ? { value, expires: now + ttlMs } : { value });
  // A key's record, unless it is missing or has expired.
  const liveRecord = <T>(key: string): { value: T } | undefined => {
    const row = select.get(full(key));
    if (!row) return undefined;
    const record = JSON.parse(row.value) as { value: T; expires?: number };
    return record.expires !== undefined && record.expires < Date.now() ? undefined : record;
  };
  // One upsert for any number of counters: an expired counter starts again from `by`, with a new
  // expiry; a live one adds the `by` of its new row and keeps its expiry. One statement per count.
  const increments = new Map<number, Database.Statement<unknown[], { key: string; value: number }>>();
  const incrementOf = (count: number) => {
    let statement = increments.get(count);
    if (!statement) {
      statement = db.prepare(
        `INSERT INTO keyv (key, value) VALUES ${Array.from({ length: count }, () => '(?, json(?))').join(', ')}
         ON CONFLICT (key) DO UPDATE SET value = CASE
           WHEN json_extract(keyv.value, '$.expires') < ? THEN excluded.value
           ELSE json_set(keyv.value, '$.value', coalesce(json_extract(keyv.value, '$.value'), 0) + json_extract(excluded.value, '$.value')) END
         RETURNING key, json_extract(value, '$.value') AS value`,
      );
      increments.set(count, statement);
    }
    return statement;
  };
  const increment = (counters: readonly Counter[]): Promise<number[]> =>
    commit.write(() => {
      const now = Date.now();
      const rows = incrementOf(counters.length).all(
        ...counters.flatMap(({ key, by = 1, ttlMs }) => [full(key), recordOf(by, ttlMs, now)]),
        now,
      );
      const values = new Map(rows.map((row) => [row.key, row.value]));
      return counters.map(({ key }) => values.get(full(key))!);
    });

  // Expired records are dropped when read, but dedupe records and nonces never are: the worker
  // sweeps them. Without it (an in-memory file, or a worker that stopped), a batch per turn of
  // the loop here, so no sweep holds it.
  const sweep = () => {
    commit
      .write(() => sweepBatch.run(Date.now()).changes)
      .then((deleted) => void (deleted === SWEEP_BATCH && setImmediate(sweep)))
      .catch((error: unknown) => options.log.warn({ err: error }, 'store: sweeping expired records failed'));
  };
  const sweeper = setInterval(() => void (housekeeping || sweep()), SWEEP_MS);
  sweeper.unref();

  return {
    local: false,
    // null reads back as missing, as in the other stores (Keyv's contract).
    get: async <T>(key: string) => liveRecord<T>(key)?.value ?? undefined,
    set: (key, value, ttlMs) => commit.write(() => void upsert.run(full(key), recordOf(value, ttlMs))),
    delete: (key) => commit.write(() => void remove.run(full(key))),
    forget: async (keys) => {
      await commit.write(() => keys.forEach((key) => remove.run(full(key))));
      // Older versions of the deleted rows live on in the log until a checkpoint: end them now,
      // in the worker (the log is emptied only once no other connection writes).
      if (housekeeping) {
        await housekeeping
          .now('TRUNCATE')
          .catch((error: unknown) =>
            options.log.warn({ err: error }, 'store: the log could not be emptied now; the deleted rows leave it at a later checkpoint'),
          );
      } else db.pragma('wal_checkpoint(TRUNCATE)'); // (transactions only open inside a flush, which has ended here)
    },
    claim: (key, value, ttlMs) =>
      commit.write(() => {
        const now = Date.now();
        return claim.all(full(key), JSON.stringify({ value, expires: now + ttlMs }), now).length === 1;
      }),
    // The guard is read inside the write transaction, so no other process can write it in between.
    setUnless: (key, value, guard, ttlMs) =>
      commit.write(() => {
        if (liveRecord(guard)) return false;
        upsert.run(full(key), recordOf(value, ttlMs));
        return true;
      }),
    increment: async (key, by = 1, ttlMs) => (await increment([{ key, by, ttlMs }]))[0]!,
    incrementAll: async (counters) => void (counters.length > 0 && (await increment(counters))),
    close: async () => {
      clearInterval(sweeper);
      await commit.idle();
      await housekeeping?.close();
      db.close();
    },
  };
}
