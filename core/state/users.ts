import { hash } from 'node:crypto';
import type { UserRecord, UserRecords, WriteOptions } from '../kernel/context.ts';
import type { Store } from './store.ts';
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
      const key = this.keyOf(openid);
      const tombstone = this.#tombstoneOf(key);
      // One operation, merged in the store: atomic across instances, and no read before it.
      const merged = await this.#store.merge<UserRecord>(key, patch, tombstone);
      if (merged) return merged;
      if (options.revive) {
        await this.#store.delete(tombstone);
        const revived = await this.#store.merge<UserRecord>(key, patch, tombstone);
        if (revived) return revived;
      }
      return { ...(await this.#store.get<UserRecord>(key)), ...patch };
    });
  }

  // Writes the record unless its tombstone stands; a revive lifts the tombstone and writes.
  // The tombstone is read only when it refused the write, so a write costs one operation.
  async #write(userKey: string, record: UserRecord, options: WriteOptions): Promise<boolean> {
    const tombstone = this.#tombstoneOf(userKey);
    if (await this.#store.setUnless(userKey, record, tombstone)) return true;
    if (!options.revive) return false;
    await this.#store.delete(tombstone);
    await this.#store.set(userKey, record);
    return true;
  }

  /**
   * Records that another store key holds this user's data (a login result, an invite code), so
   * the purge finds it by key instead of scanning the store. Write the key first, then link it:
   * within {@link TOMBSTONE_MS} of the user's unsubscribe the link is refused and the key deleted
   * (false).
   */
  link(openid: string, key: string, options: WriteOptions = {}): Promise<boolean> {
    return this.#queue(openid, async () => {
      const userKey = this.keyOf(openid);
      const record = await this.#store.get<UserRecord>(userKey);
      const links = record?.links ?? [];
      if (links.includes(key)) return true;
      if (await this.#write(userKey, { ...record, links: [...links, key] }, options)) return true;
      await this.#store.forget([key]);
      return false;
    });
  }

  /** Forgets a link once its key is gone by itself (a ticket redeemed), so links do not pile up. */
  unlink(openid: string, key: string): Promise<void> {
    return this.#queue(openid, async () => {
      const userKey = this.keyOf(openid);
      const record = await this.#store.get<UserRecord>(userKey);
      const links = record?.links;
      if (links?.includes(key)) await this.#write(userKey, { ...record, links: links.filter((k) => k !== key) }, {});
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
