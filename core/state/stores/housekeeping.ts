// The SQLite store's housekeeping, in a worker thread with a connection of its own: checkpoints
// of the write-ahead log, and the sweep of expired records. SQLite's automatic checkpoint runs
// inside the commit that crosses 1,000 pages of log, on the thread that commits: with
// better-sqlite3 that is the event loop, held while pages are copied into the file and synced
// (tens of milliseconds on a busy disk, every few seconds under load). The sweep deletes what a
// busy bot leaves in ten minutes (hundreds of thousands of dedupe records and nonces). Here the
// loop only ever appends to the log; its commits wait at most for one batch of the sweep, or the
// end of a checkpoint.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

// Plain CommonJS evaluated from this string, as the QR renderer's worker is: it needs neither tsx
// nor a build step; better-sqlite3 is required by the path this module resolved it to.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { timeout: workerData.busyMs });
// Per connection, as in the store's own: what the sweep deletes (expired tickets, sessions, late
// replies, which hold OpenIDs) is overwritten with zeros, not left in free pages.
db.pragma('secure_delete = ON');
const checkpoint = (mode) => db.pragma('wal_checkpoint(' + mode + ')')[0];
// A passive checkpoint copies the log into the file while the store goes on committing, so under
// a steady load it never copies the last commits; and SQLite starts the log again from its
// beginning only once a checkpoint has copied all of it. Passive checkpoints alone let the log
// grow without bound (a gigabyte in seconds at full load, each new block of it zeroed by the
// kernel as it is written). So: twice without the write lock (the second copies what was
// committed during the first, a tenth of it), then FULL, which takes the lock and copies the last
// few hundred frames and syncs, a few milliseconds during which the store's commits wait (they
// try again each millisecond; its loop goes on: group-commit.ts). The store's next commit starts
// the log again. FULL gives up (and copies what it can) rather than wait long for the lock.
const FULL_BUSY_MS = 20;
setInterval(() => {
  try {
    checkpoint('PASSIVE');
    checkpoint('PASSIVE');
    db.pragma('busy_timeout = ' + FULL_BUSY_MS);
    try { checkpoint('FULL'); } finally { db.pragma('busy_timeout = ' + workerData.busyMs); }
  } catch {}
}, workerData.everyMs);
// A batch, then a pause for the store's own writes, until a batch finds less than it may delete.
const sweepBatch = db.prepare(workerData.sweep.sql);
const sweep = () => {
  let deleted = 0;
  try { deleted = sweepBatch.run(Date.now()).changes; } catch {}
  if (deleted === workerData.sweep.batch) setTimeout(sweep, workerData.sweep.pauseMs);
};
setInterval(sweep, workerData.sweep.everyMs);
parentPort.on('message', ({ id, mode }) => {
  try {
    let result = checkpoint(mode);
    // Busy: another connection is writing. Try again a few times before saying so.
    for (let tries = 0; result.busy && tries < 5; tries++) result = checkpoint(mode);
    parentPort.postMessage({ id, busy: Boolean(result.busy) });
  } catch (error) {
    parentPort.postMessage({ id, error: String(error && error.message) });
  }
});
`;

/** What {@link startHousekeeping} returns. */
export interface Housekeeping {
  /** Checkpoints now: TRUNCATE empties the log too (the purge). Resolves once done; rejects if it could not be. */
  now(mode: 'PASSIVE' | 'TRUNCATE'): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts the housekeeping worker for a SQLite file in WAL mode (whose own connection has
 * `wal_autocheckpoint = 0`): checkpoints every `everyMs` and one on demand, and the sweep
 * of expired records. `onStop` hears of a worker that died, so the store can do both itself again.
 * @example
 * const housekeeping = startHousekeeping('data/bot.sqlite', { everyMs: 1000, busyMs: 250, sweep, onStop })
 * await housekeeping.now('TRUNCATE')
 */
export function startHousekeeping(
  file: string,
  options: {
    everyMs: number;
    busyMs: number;
    /** The sweep of expired records: its statement (one batch), the batch's size, how often, the pause between batches. */
    sweep: { sql: string; batch: number; everyMs: number; pauseMs: number };
    onStop(error: Error): void;
  },
): Housekeeping {
  const worker = new Worker(WORKER, {
    eval: true,
    // Not the parent's --import tsx: the worker is plain JavaScript.
    execArgv: [],
    workerData: {
      driver: createRequire(import.meta.url).resolve('better-sqlite3'),
      file,
      everyMs: options.everyMs,
      busyMs: options.busyMs,
      sweep: options.sweep,
    },
  });
  // The worker never keeps the process alive: the store's close() stops it.
  worker.unref();
  const pending = new Map<number, { resolve(): void; reject(error: Error): void }>();
  let next = 0;
  let failure: Error | undefined;
  worker.on('message', ({ id, busy, error }: { id: number; busy?: boolean; error?: string }) => {
    const job = pending.get(id);
    pending.delete(id);
    if (pending.size === 0) worker.unref();
    if (error !== undefined) job?.reject(new Error(`SQLite checkpoint failed: ${error}`));
    else if (busy) job?.reject(new Error('SQLite checkpoint: the file stayed busy'));
    else job?.resolve();
  });
  let closing = false;
  const fail = (error: Error) => {
    if (failure) return;
    failure = error;
    if (!closing) options.onStop(error);
    for (const job of pending.values()) job.reject(error);
    pending.clear();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the SQLite housekeeping worker stopped (exit code ${code})`)));
  return {
    now(mode) {
      if (failure) return Promise.reject(failure);
      const id = ++next;
      if (pending.size === 0) worker.ref();
      return new Promise<void>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, mode });
      });
    },
    async close() {
      closing = true;
      await worker.terminate();
    },
  };
}
