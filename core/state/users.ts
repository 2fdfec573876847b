import { hash } from 'node:crypto';
import type { UserRecord, UserRecords, WriteOptions } from '../kernel/context.ts';
import type { Change, Store } from './store.ts';
import { keyQueue } from './key-queue.ts';

export type { UserRecord };

/**
 * How long a purge's tombstone refuses writes to the user's record: longer than any chain still
 * running when the unsubscribe came (the deadline, a late reply, a retry waiting for its first
 * run: well under a minute). A new follow lifts it at once.
 */
export const TOMBSTONE_MS = 2 * 60_000;

/**
 * The one home of personal data: a record per user under one key (a hash of the OpenID in a store
 * that persists), so unsubscribe deletes everything in one step. The purge leaves a tombstone
 * first, and every write of the record is refused while it stands, atomically in the store: a
 * write racing the purge, on this instance or another, cannot bring the record back.
 * @example
 * const users = new Users(store)
 * await users.update(openid, { campaign: 'spring' })
 */
export class Users implements UserRecords {
  readonly #store: Store;
  // One user's reads-then-writes run one after another in this process, so two pushes of the same
  // user (or a push and its unsubscribe) cannot undo each other's write or the purge.
  readonly #queue = keyQueue();

  constructor(store: Store) {
    this.#store = store;
  }

  /**
   * The store key of a user's record. A store that persists (SQLite, Redis) holds no OpenID in
   * clear; a memory store is this process's memory, which holds the OpenID of each push anyway,
   * and the hash would cost every follow (BENCHMARKS.md).
   */
  keyOf(openid: string): string {
    return this.#store.local ? `user:${openid}` : `user:${hash('sha256', openid, 'hex')}`;
  }

  // The tombstone of a user's record: the record's key under another name, so no OpenID either.
  #tombstoneOf(userKey: string): string {
    return `gone:${userKey}`;
  }

  async get(openid: string): Promise<UserRecord | undefined> {
    return this.#store.get<UserRecord>(this.keyOf(openid));
  }

  /**
   * Merges fields into the record, creating it if needed; returns the new record. Within
   * {@link TOMBSTONE_MS} of the user's unsubscribe nothing is written (unless `revive`), and what
   * would have been is returned.
   */
  update(openid: string, patch: Partial<UserRecord>, options: WriteOptions = {}): Promise<UserRecord> {
    return this.#queue(openid, async () => {
      const changed = await this.#change(openid, (record) => ({ ...record, ...patch }), options);
      return changed ?? { ...(await this.get(openid)), ...patch };
    });
  }

  // Changes the record in one store operation (on Redis, two round trips for a record that
  // exists), atomic across instances, unless its tombstone stands; a revive lifts the tombstone
  // and changes it. Undefined when nothing was written.
  async #change(openid: string, change: Change<UserRecord>, options: WriteOptions): Promise<UserRecord | undefined> {
    const userKey = this.keyOf(openid);
    const tombstone = this.#tombstoneOf(userKey);
    const changed = await this.#store.update(userKey, change, tombstone);
    if (changed || !options.revive) return changed;
    await this.#store.delete(tombstone);
    return this.#store.update(userKey, change, tombstone);
  }

  /**
   * Records that another store key holds this user's data (a login result, an invite code), so
   * the purge finds it by key instead of scanning the store. Write the key first, then link it:
   * within {@link TOMBSTONE_MS} of the user's unsubscribe the link is refused and the key deleted
   * (false).
   */
  link(openid: string, key: string, options: WriteOptions = {}): Promise<boolean> {
    return this.#queue(openid, async () => {
      const linked = await this.#change(
        openid,
        (record) => (record?.links?.includes(key) ? record : { ...record, links: [...(record?.links ?? []), key] }),
        options,
      );
      if (linked) return true;
      await this.#store.forget([key]);
      return false;
    }).catch(async (error: unknown) => {
      // Not linked, the purge would never find it: the key goes too.
      await this.#store.forget([key]).catch(() => undefined);
      throw error;
    });
  }

  /** Forgets a link once its key is gone by itself (a ticket redeemed), so links do not pile up. */
  unlink(openid: string, key: string): Promise<void> {
    return this.#queue(openid, async () => {
      await this.#change(
        openid,
        (record) => (record?.links?.includes(key) ? { ...record, links: record.links.filter((k) => k !== key) } : undefined),
        {},
      );
    });
  }

  /**
   * Deletes everything held about the user: the record and every key linked to it. The tombstone
   * comes first, so the record read after it lists every link there will be.
   */
  delete(openid: string): Promise<void> {
    return this.#queue(openid, async () => {
      const userKey = this.keyOf(openid);
      await this.#store.set(this.#tombstoneOf(userKey), true, TOMBSTONE_MS);
      const record = await this.#store.get<UserRecord>(userKey);
      await this.#store.forget([...(record?.links ?? []), userKey]);
    });
  }
}
