import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from '../../kernel/log.ts';
import { StoreConfigError, type Change, type Counter, type Store } from '../store.ts';
import { startHousekeeping, type Housekeeping } from './housekeeping.ts';
import { groupCommit } from './group-commit.ts';
import { prepareTable } from './sqlite-schema.ts';

const SWEEP_MS = 10 * 60_000;
const SWEEP_BATCH = 500;
// A row's expiry in SQL: its column, or for a row an older version wrote, the JSON's (sqlite-schema.ts).
const EXPIRES = "coalesce(keyv.expires, json_extract(keyv.value, '$.expires'))";
// Counters per upsert statement, well under SQLite's limit of bound parameters.
const INCREMENT_CHUNK = 100;
/** Deletes a batch of expired records, found through the keyv_expiry index. */
export const SWEEP = `DELETE FROM keyv WHERE key IN (SELECT key FROM keyv WHERE expires < ? LIMIT ${SWEEP_BATCH})`;
// A process that holds the file's write lock holds it for one commit (a fraction of a ms; a
// checkpoint's end, a few ms). A commit that finds it held waits without holding the loop
// (group-commit.ts); waiting longer than this fails the write, which is logged.
const BUSY_TIMEOUT_MS = 250;
// How often the worker checkpoints the log, which then holds about this long's commits: 100 MB at
// this machine's full load (7,000 follows a second), a few MB at an ordinary bot's.
const CHECKPOINT_MS = 1000;
const LOG_LIMIT_BYTES = 256 * 1024 * 1024;

/**
 * A SQLite file, through better-sqlite3: statements run synchronously, in microseconds; reads at
 * once, and the writes of one turn of the event loop together, in one transaction (group commit).
 * A write's promise resolves once it is committed, so what a push wrote is on disk before its
 * answer leaves.
 * Processes on one machine share the file safely: claim and increment are single statements
 * inside a write transaction, atomic across them. The table is Keyv's, so older files keep
 * working (sqlite-schema.ts).
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
  // After a burst, the log is cut back to this when it starts again (housekeeping.ts): well above
  // the second of commits it holds at full load, so that a busy log is not cut and regrown.
  db.pragma(`journal_size_limit = ${LOG_LIMIT_BYTES}`);
  prepareTable(db);
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
  const commit = groupCommit(db, { waitMs: BUSY_TIMEOUT_MS });
  // Every write sets `expires` with the JSON's own expiry (null: none), so the sweep finds it.
  const select = db.prepare<[string], { value: string; expires: number | null }>('SELECT value, expires FROM keyv WHERE key = ?');
  const upsert = db.prepare<[string, string, number | null]>(
    'INSERT INTO keyv (key, value, expires) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires',
  );
  const remove = db.prepare('DELETE FROM keyv WHERE key = ?');
  const claim = db.prepare<[string, string, number, number], { key: string }>(
    `INSERT INTO keyv (key, value, expires) VALUES (?, ?, ?)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires WHERE ${EXPIRES} < ?
     RETURNING key`,
  );
  const sweepBatch = db.prepare(SWEEP);
  // When a record made now with this ttl expires; no ttl: never (null).
  const expiryOf = (ttlMs: number | undefined, now = Date.now()) => (ttlMs ? now + ttlMs : null);
  // A record as the table holds it (Keyv's shape).
  const recordOf = (value: unknown, expires: number | null) => JSON.stringify(expires === null ? { value } : { value, expires });
  const write = (key: string, value: unknown, ttlMs: number | undefined) => writeUntil(key, value, expiryOf(ttlMs));
  const writeUntil = (key: string, value: unknown, expires: number | null) => void upsert.run(full(key), recordOf(value, expires), expires);
  // A key's record and its expiry, unless it is missing or has expired.
  const liveRow = <T>(key: string): { record: { value: T }; expires: number | null } | undefined => {
    const row = select.get(full(key));
    if (!row) return undefined;
    const record = JSON.parse(row.value) as { value: T; expires?: number };
    // A process of an older version may still write the file, leaving the column empty (sqlite-schema.ts).
    const expires = row.expires ?? record.expires ?? null;
    return expires !== null && expires < Date.now() ? undefined : { record, expires };
  };
  const liveRecord = <T>(key: string) => liveRow<T>(key)?.record;

  // One upsert for any number of counters: an expired counter starts again from `by`, with a new
  // expiry; a live one adds the `by` of its new row and keeps its expiry.
  const increments = new Map<number, Database.Statement<unknown[], { key: string; value: number }>>();
  const incrementOf = (count: number) => {
    let statement = increments.get(count);
    if (!statement) {
      statement = db.prepare(
        `INSERT INTO keyv (key, value, expires) VALUES ${Array.from({ length: count }, () => '(?, json(?), ?)').join(', ')}
         ON CONFLICT (key) DO UPDATE SET
           value = CASE WHEN ${EXPIRES} < ? THEN excluded.value
             ELSE json_set(keyv.value, '$.value', coalesce(json_extract(keyv.value, '$.value'), 0) + json_extract(excluded.value, '$.value')) END,
           expires = CASE WHEN ${EXPIRES} < ? THEN excluded.expires ELSE ${EXPIRES} END
         RETURNING key, json_extract(value, '$.value') AS value`,
      );
      increments.set(count, statement);
    }
    return statement;
  };
  // The counts of one turn are summed, and each counter is written once in its commit: every
  // campaign follow moves the same four counters, and writing them once per push was most of
  // SQLite's cost of a push (BENCHMARKS.md). Each caller still gets the value its own increment
  // made, as if the turn's increments had run one after another in the order they were asked (at
  // the place of the first of them among the turn's other writes). The turn's counters land whole
  // or not at all.
  type Asked = { counters: readonly Counter[]; resolve(values: number[]): void; reject(error: unknown): void };
  let asked: Asked[] | undefined;
  const incrementTurn = (batch: Asked[]) => {
    // Per key: the sum of every `by`, and the first caller's ttl (a live counter keeps its expiry anyway).
    const sums = new Map<string, { by: number; ttlMs: number | undefined }>();
    for (const { counters } of batch) {
      for (const { key, by = 1, ttlMs } of counters) {
        const sum = sums.get(key);
        if (sum) sum.by += by;
        else sums.set(key, { by, ttlMs });
      }
    }
    const now = Date.now();
    const totals = new Map<string, number>();
    const entries = [...sums];
    db.exec('SAVEPOINT increments');
    try {
      for (let i = 0; i < entries.length; i += INCREMENT_CHUNK) {
        const chunk = entries.slice(i, i + INCREMENT_CHUNK);
        const values = chunk.flatMap(([key, { by, ttlMs }]) => {
          const expires = expiryOf(ttlMs, now);
          return [full(key), recordOf(by, expires), expires];
        });
        // `now` twice: whether the counter had expired, for its value and for its expiry.
        const rows = incrementOf(chunk.length).all(...values, now, now);
        for (const row of rows) totals.set(row.key, row.value);
      }
      db.exec('RELEASE increments');
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK TO increments; RELEASE increments');
      throw error;
    }
    // Handed out from the last caller back: each gets the total less what the callers after it added.
    const values = batch.map(({ counters }) => counters.map(() => 0));
    for (let c = batch.length - 1; c >= 0; c--) {
      const { counters } = batch[c]!;
      for (let i = counters.length - 1; i >= 0; i--) {
        const { key, by = 1 } = counters[i]!;
        const total = totals.get(full(key))!;
        values[c]![i] = total;
        totals.set(full(key), total - by);
      }
    }
    return values;
  };
  const increment = (counters: readonly Counter[]): Promise<number[]> =>
    new Promise((resolve, reject) => {
      // A count that is not a number would fail the whole turn's statement: it fails alone, here.
      const bad = counters.find(({ by = 1 }) => typeof by !== 'number' || !Number.isFinite(by));
      if (bad) return reject(new TypeError(`store: increment of ${bad.key.split(':')[0]}:… by ${String(bad.by)}, not a number`));
      if (!asked) {
        const batch: Asked[] = (asked = []);
        const run = () => {
          asked = undefined; // an increment asked from now on goes to the next commit
          return incrementTurn(batch);
        };
        // A commit that failed before this batch ran (the file locked) must not leave it open:
        // increments asked later would wait on it for ever.
        const close = () => void (asked === batch && (asked = undefined));
        commit.write(run).then(
          (values) => batch.forEach((a, i) => a.resolve(values[i]!)),
          (error: unknown) => {
            close();
            batch.forEach((a) => a.reject(error));
          },
        );
      }
      asked.push({ counters, resolve, reject });
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
    set: (key, value, ttlMs) => commit.write(() => write(key, value, ttlMs)),
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
        return claim.all(full(key), recordOf(value, now + ttlMs), now + ttlMs, now).length === 1;
      }),
    // The guard is read inside the write transaction, so no other process can write it in between.
    setUnless: (key, value, guard, ttlMs) =>
      commit.write(() => {
        if (liveRecord(guard)) return false;
        write(key, value, ttlMs);
        return true;
      }),
    // Read and written inside the write transaction: no other process writes the record in between.
    update: <T extends object>(key: string, change: Change<T>, guard: string) =>
      commit.write(() => {
        if (liveRecord(guard)) return undefined;
        const row = liveRow<T>(key);
        const next = change(row?.record.value ?? undefined);
        if (next !== undefined) writeUntil(key, next, row?.expires ?? null);
        return next;
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
