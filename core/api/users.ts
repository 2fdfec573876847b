import type { ApiCalls, Json } from './calls.ts';
import { chunksOf, openidsOf } from './calls.ts';

/** What user/info answers for a follower; `subscribe: 0` and little else for one who left. */
export interface FollowerInfo {
  subscribe: 0 | 1;
  openid: string;
  language?: string;
  /** When they followed, in seconds. */
  subscribe_time?: number;
  unionid?: string;
  remark?: string;
  groupid?: number;
  tagid_list?: number[];
  /** How they came: ADD_SCENE_QR_CODE, ADD_SCENE_SEARCH, … */
  subscribe_scene?: string;
  /** The scene of the code they followed through: a number (scene_id), or a string (scene_str). */
  qr_scene?: number;
  qr_scene_str?: string;
  [field: string]: unknown;
}

/**
 * The account's followers: user/info, user/info/batchget, user/get, user/info/updateremark.
 * @example
 * for await (const openid of api.users.all()) …
 * const [a, b] = await api.users.batchInfo(['o1', 'o2'])
 */
export class UserApi {
  readonly #api: ApiCalls;

  constructor(api: ApiCalls) {
    this.#api = api;
  }

  /** One user's info (nickname and avatar are no longer given since 2021). */
  async info(openid: string, lang = 'zh_CN'): Promise<FollowerInfo> {
    return (await this.#api.get('user/info', { openid, lang })) as FollowerInfo;
  }

  /** Many users' info, in WeChat's batches of 100, in the order given. */
  async batchInfo(openids: readonly string[], lang = 'zh_CN'): Promise<FollowerInfo[]> {
    const infos: FollowerInfo[] = [];
    for (const chunk of chunksOf(openids, 100)) {
      const answer = await this.#api.post('user/info/batchget', { user_list: chunk.map((openid) => ({ openid, lang })) });
      infos.push(...((answer.user_info_list as FollowerInfo[] | undefined) ?? []));
    }
    return infos;
  }

  /**
   * Every follower's OpenID, page after page of user/get (10,000 a page), fetched as it is read.
   * @example
   * let n = 0; for await (const _ of api.users.all()) n++
   */
  async *all(): AsyncGenerator<string, void, undefined> {
    yield* paged((next) => this.#api.get('user/get', next ? { next_openid: next } : {}));
  }

  /** Sets the name the account's staff see for a user (under 30 characters). */
  async updateRemark(openid: string, remark: string): Promise<void> {
    await this.#api.post('user/info/updateremark', { openid, remark });
  }
}

/**
 * Reads the pages of a list WeChat pages by next_openid (user/get, user/tag/get, getblacklist): a
 * page of none, or one without a next_openid, is the last.
 */
export async function* paged(fetchPage: (next: string) => Promise<Json>): AsyncGenerator<string, void, undefined> {
  for (let next = ''; ;) {
    const page = await fetchPage(next);
    const openids = openidsOf(page);
    yield* openids;
    const after = typeof page.next_openid === 'string' ? page.next_openid : '';
    if (openids.length === 0 || after === '' || after === next) return;
    next = after;
  }
}
