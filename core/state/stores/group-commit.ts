import type { Database } from 'better-sqlite3';

interface Write {
  run(): unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * Commits the writes of one turn of the event loop together. A write is queued; in the loop's
 * check phase (setImmediate) the queue runs in one write transaction (BEGIN IMMEDIATE: the
 * file's write lock is taken first, so a claim or an increment is atomic across processes), is
 * committed, and only then does each write's promise resolve, with its statement's result. The
 * lock is held for that run alone, a fraction of a millisecond, so other processes sharing the
 * file barely wait. One commit a turn, not one per statement: that is what makes SQLite cost
 * microseconds a push.
 *
 * When another connection holds the lock (another process's commit, the housekeeping worker's
 * checkpoint), the loop does not wait for it: SQLite's busy handler would sleep the whole loop, 1,
 * 2, then 5 ms and more, for a lock held a millisecond. The batch is tried again a millisecond
 * later, the turns in between serving other requests, and fails only after `waitMs`.
 * @example
 * const commit = groupCommit(db, { waitMs: 250 })
 * await commit.write(() => upsert.run(key, value)) // committed
 */
export function groupCommit(db: Database, options: { waitMs: number }) {
  let queue: Write[] = [];
  const drained: (() => void)[] = [];
  // The connection's busy timeout stays for its reads (rare cases in WAL mode, such as another
  // process closing the file, make a read wait); it is lifted for BEGIN alone. (Not through a
  // prepared statement: a pragma takes effect when compiled, not each time it runs.)
  const noWait = () => db.pragma('busy_timeout = 0');
  const wait = () => db.pragma(`busy_timeout = ${options.waitMs}`);
  // When the batch waiting for the lock first found it held.
  let busySince: number | undefined;
  // Takes the write lock, or says the batch must wait for it (false).
  const begin = () => {
    noWait();
    try {
      db.exec('BEGIN IMMEDIATE');
      busySince = undefined;
      return true;
    } catch (error) {
      if (!String((error as { code?: unknown }).code).startsWith('SQLITE_BUSY')) throw error;
      busySince ??= Date.now();
      if (Date.now() - busySince >= options.waitMs) {
        busySince = undefined;
        throw error;
      }
      return false;
    } finally {
      wait();
    }
  };

  const flush = () => {
    const batch = queue;
    queue = [];
    const results: unknown[] = [];
    try {
      if (!begin()) {
        // Later, with whatever was queued meanwhile.
        queue = batch.concat(queue);
        setTimeout(flush, 1);
        return;
      }
      for (const write of batch) {
        try {
          results.push(write.run());
        } catch (error) {
          // A failing disk rolls the whole transaction back: every write of the batch is lost, and says so.
          if (!db.inTransaction) throw error;
          results.push(undefined);
          write.reject(error); // this write alone failed, the others stand (its resolve below is a no-op)
        }
      }
      db.exec('COMMIT');
      batch.forEach((write, i) => write.resolve(results[i]));
    } catch (error) {
      try {
        if (db.inTransaction) db.exec('ROLLBACK');
      } catch {
        // Nothing more to undo: the writes below are reported lost either way.
      }
      for (const write of batch) write.reject(error);
    }
    if (queue.length === 0) for (const done of drained.splice(0)) done();
  };

  return {
    /** Queues a write for this turn's transaction; resolves with its result once that is committed. */
    write<T>(run: () => T): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ run, resolve: resolve as (value: unknown) => void, reject });
        if (queue.length === 1) setImmediate(flush);
      });
    },
    /** Resolves when every queued write is committed: before a checkpoint, before closing. */
    idle(): Promise<void> {
      return queue.length === 0 ? Promise.resolve() : new Promise<void>((resolve) => drained.push(resolve));
    },
  };
}
