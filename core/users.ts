import { createHash } from 'node:crypto';
import type { Store } from './store.ts';

/** What the bot keeps about one follower. Plugins add their own fields. */
export interface UserRecord {
  /** The campaign whose code brought this follower, if any. */
  campaign?: string;
  /** When the follow arrived, in seconds. */
  followedAt?: number;
  /** Other store keys that hold this user's data, deleted with the record. */
  links?: string[];
  [field: string]: unknown;
}

/**
 * The one home of personal data: a record per user under a hashed key, so the store never holds
 * an OpenID in clear and unsubscribe deletes everything in one step.
 * @example
 * const users = new Users(store)
 * await users.update(openid, { campaign: 'spring' })
 */
export class Users {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  /** The store key of a user's record. */
  keyOf(openid: string): string {
    return `user:${createHash('sha256').update(openid).digest('hex')}`;
  }

  async get(openid: string): Promise<UserRecord | undefined> {
    return this.#store.get<UserRecord>(this.keyOf(openid));
  }

  /** Merges fields into the record, creating it if needed; returns the new record. */
  async update(openid: string, patch: Partial<UserRecord>): Promise<UserRecord> {
    const record = { ...(await this.get(openid)), ...patch };
    await this.#store.set(this.keyOf(openid), record);
    return record;
  }

  /**
   * Records that another store key holds this user's data (a login result, an invite code), so
   * the purge finds it by key instead of scanning the store.
   */
  async link(openid: string, key: string): Promise<void> {
    const links = (await this.get(openid))?.links ?? [];
    if (!links.includes(key)) await this.update(openid, { links: [...links, key] });
  }

  /** Deletes everything held about the user: the record and every key linked to it. */
  async delete(openid: string): Promise<void> {
    const record = await this.get(openid);
    await this.#store.forget([...(record?.links ?? []), this.keyOf(openid)]);
  }
}
