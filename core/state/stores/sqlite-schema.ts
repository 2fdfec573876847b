import type { Database } from 'better-sqlite3';

/**
 * Makes the store's table, or brings an older file's up to date. The table is the one Keyv's SQLite
 * adapter made (`namespace:key` → JSON `{"value": …, "expires": ms}`), plus an `expires` column
 * holding the record's expiry again, as a number, with an index of only the rows that expire.
 * Before, the sweep found expired rows through an index on `json_extract(value, '$.expires')`:
 * SQLite then parsed the JSON of every row written, old and new, to keep that index, and a row
 * that never expires (a user's record, a counter's total) paid for it too. That was about a third
 * of the statements' cost of a push (BENCHMARKS.md).
 * Run in one write transaction: two processes opening an older file at once change it once, the
 * second waiting for the first (400,000 rows took under half a second on this machine).
 * A process of an older version still writing the file leaves the column empty: reads, claims and
 * counters then take the expiry from the JSON, but the sweep does not find such a row (reads
 * take it for missing). Upgrade every process sharing a file together.
 */
export function prepareTable(db: Database): void {
  const busyMs = db.pragma('busy_timeout', { simple: true }) as number;
  db.pragma(`busy_timeout = ${MIGRATION_BUSY_MS}`);
  try {
    db.exec('BEGIN IMMEDIATE');
    db.exec('CREATE TABLE IF NOT EXISTS keyv (key VARCHAR(255) PRIMARY KEY, value TEXT, expires INTEGER)');
    const columns = db.prepare<[], { name: string }>("SELECT name FROM pragma_table_info('keyv')").all();
    if (!columns.some((c) => c.name === 'expires')) {
      db.exec('ALTER TABLE keyv ADD COLUMN expires INTEGER');
      db.exec("UPDATE keyv SET expires = json_extract(value, '$.expires') WHERE json_extract(value, '$.expires') IS NOT NULL");
    }
    db.exec('DROP INDEX IF EXISTS keyv_expires');
    db.exec('CREATE INDEX IF NOT EXISTS keyv_expiry ON keyv (expires) WHERE expires IS NOT NULL');
    db.exec('COMMIT');
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  } finally {
    db.pragma(`busy_timeout = ${busyMs}`);
  }
}

// How long a process opening the file waits for another that is bringing it up to date.
const MIGRATION_BUSY_MS = 30_000;
