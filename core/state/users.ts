import { hash } from 'node:crypto';
import type { UserRecord, UserRecords } from '../kernel/context.ts';
import type { Store } from './store.ts';
import { keyQueue } from './key-queue.ts';

export type { UserRecord };

/**
 * The one home of personal data: a record per user under one key (a hash of the OpenID in a store
 * that persists), so unsubscribe deletes everything in one step.
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

  async get(openid: string): Promise<UserRecord | undefined> {
    return this.#store.get<UserRecord>(this.keyOf(openid));
  }

  /** Merges fields into the record, creating it if needed; returns the new record. */
  update(openid: string, patch: Partial<UserRecord>): Promise<UserRecord> {
    return this.#queue(openid, async () => {
      const key = this.keyOf(openid);
      const record = { ...(await this.#store.get<UserRecord>(key)), ...patch };
      await this.#store.set(key, record);
      return record;
    });
  }

  /**
   * Records that another store key holds this user's data (a login result, an invite code), so
   * the purge finds it by key instead of scanning the store.
   */
  link(openid: string, key: string): Promise<void> {
    return this.#queue(openid, async () => {
      const userKey = this.keyOf(openid);
      const record = await this.#store.get<UserRecord>(userKey);
      const links = record?.links ?? [];
      if (!links.includes(key)) await this.#store.set(userKey, { ...record, links: [...links, key] });
    });
  }

  /** Forgets a link once its key is gone by itself (a ticket redeemed), so links do not pile up. */
  unlink(openid: string, key: string): Promise<void> {
    return this.#queue(openid, async () => {
      const userKey = this.keyOf(openid);
      const record = await this.#store.get<UserRecord>(userKey);
      if (record?.links?.includes(key)) await this.#store.set(userKey, { ...record, links: record.links.filter((k) => k !== key) });
    });
  }

  /** Deletes everything held about the user: the record and every key linked to it. */
  delete(openid: string): Promise<void> {
    return this.#queue(openid, async () => {
      const userKey = this.keyOf(openid);
      const record = await this.#store.get<UserRecord>(userKey);
      await this.#store.forget([...(record?.links ?? []), userKey]);
    });
  }
}
