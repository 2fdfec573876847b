import { chunksOf, type ApiCalls } from './calls.ts';
import { paged } from './users.ts';

/** A tag of the account's followers, as tags/get lists it. */
export interface Tag {
  id: number;
  name: string;
  /** Followers carrying it. */
  count: number;
}

/** WeChat's limits on tags. */
export const TAG_LIMITS = {
  /** A tag's name, in UTF-8 bytes (45158 beyond). */
  nameBytes: 30,
  /** Tags an account may have (45056 beyond). */
  perAccount: 100,
  /** Tags one follower may carry (45059 beyond). */
  perUser: 20,
  /** OpenIDs in one batchtagging or batchuntagging call (40032 beyond). */
  perBatch: 50,
} as const;

/**
 * The account's tags (用户标签): create, list, rename, delete, and who carries them.
 * @example
 * const { id } = await api.tags.create('VIP')
 * await api.tags.tag(id, openids) // in calls of 50
 */
export class TagApi {
  readonly #api: ApiCalls;

  constructor(api: ApiCalls) {
    this.#api = api;
  }

  /** Creates a tag; 45157 when the name is taken, 45158 when it is over 30 bytes. */
  async create(name: string): Promise<{ id: number; name: string }> {
    const answer = await this.#api.post('tags/create', { tag: { name } });
    return answer.tag as { id: number; name: string };
  }

  /** Every tag of the account, the system's own (id 0–2) included. */
  async list(): Promise<Tag[]> {
    return ((await this.#api.get('tags/get')).tags as Tag[] | undefined) ?? [];
  }

  async rename(id: number, name: string): Promise<void> {
    await this.#api.post('tags/update', { tag: { id, name } });
  }

  /** Deletes a tag, and takes it off every follower. */
  async delete(id: number): Promise<void> {
    await this.#api.post('tags/delete', { tag: { id } });
  }

  /** Puts the tag on these followers, in calls of 50. */
  async tag(id: number, openids: readonly string[]): Promise<void> {
    for (const openid_list of chunksOf(openids, TAG_LIMITS.perBatch))
      await this.#api.post('tags/members/batchtagging', { openid_list, tagid: id });
  }

  /** Takes the tag off these followers, in calls of 50. */
  async untag(id: number, openids: readonly string[]): Promise<void> {
    for (const openid_list of chunksOf(openids, TAG_LIMITS.perBatch))
      await this.#api.post('tags/members/batchuntagging', { openid_list, tagid: id });
  }

  /** The ids of the tags one follower carries (tags/getidlist). */
  async ofUser(openid: string): Promise<number[]> {
    return ((await this.#api.post('tags/getidlist', { openid })).tagid_list as number[] | undefined) ?? [];
  }

  /** The OpenIDs of the followers carrying a tag, page after page of user/tag/get. */
  members(id: number): AsyncGenerator<string, void, undefined> {
    return paged((next) => this.#api.post('user/tag/get', { tagid: id, next_openid: next }));
  }
}

/**
 * The account's blacklist: users blocked from messaging the account.
 * @example
 * await api.blacklist.add(['o1']); for await (const openid of api.blacklist.all()) …
 */
export class BlacklistApi {
  readonly #api: ApiCalls;

  constructor(api: ApiCalls) {
    this.#api = api;
  }

  /** Every blacklisted OpenID, page after page of tags/members/getblacklist. */
  all(): AsyncGenerator<string, void, undefined> {
    return paged((next) => this.#api.post('tags/members/getblacklist', { begin_openid: next }));
  }

  /** Blacklists these users, in WeChat's calls of 20. */
  async add(openids: readonly string[]): Promise<void> {
    for (const openid_list of chunksOf(openids, 20)) await this.#api.post('tags/members/batchblacklist', { openid_list });
  }

  /** Lifts the blacklisting of these users, in calls of 20. */
  async remove(openids: readonly string[]): Promise<void> {
    for (const openid_list of chunksOf(openids, 20)) await this.#api.post('tags/members/batchunblacklist', { openid_list });
  }
}
