import { PERSON_TYPES, type WechatEvent } from '../../core/protocol/events.ts';
import { error, ok, type Json } from './answers.ts';

/** A user as the emulator knows them, from the pushes WeChat would have sent about them. */
export interface EmulatedUser {
  openid: string;
  subscribed: boolean;
  /** When they (last) followed, in seconds. */
  subscribeTime: number;
  /** The code they followed through: its scene_id or scene_str. */
  qrScene?: number;
  qrSceneStr?: string;
  remark: string;
  tags: number[];
  language: string;
  /** When they last did what opens the 48-hour customer-service window (wrote, tapped, followed, scanned), epoch ms. */
  lastActiveAt: number;
}

const SYSTEM_TAGS = new Map([[2, '星标组']]);
const MAX_TAGS = 100;
const MAX_TAGS_PER_USER = 20;
const WINDOW_MS = 48 * 3600_000;
const utf8 = (value: unknown) => (typeof value === 'string' ? Buffer.byteLength(value) : -1);

/**
 * The account's users, tags and blacklist, as WeChat keeps them. Strict by default: an OpenID the
 * emulator never saw is 40003, as on WeChat. Lenient (for tests that do not model users), any
 * OpenID is a follower who just wrote.
 */
export class EmulatedUsers {
  readonly #users = new Map<string, EmulatedUser>();
  readonly #tags = new Map<number, string>(SYSTEM_TAGS);
  readonly #blacklist = new Set<string>();
  readonly #strict: boolean;
  readonly #pageSize: number;
  #nextTagId = 100;

  constructor(options: { strict: boolean; pageSize: number }) {
    this.#strict = options.strict;
    this.#pageSize = options.pageSize;
  }

  /** A user the emulator knows, by OpenID. */
  get(openid: string): EmulatedUser | undefined {
    return this.#users.get(openid);
  }

  /** Takes note of a push as WeChat, which sent it, knows it: a follow, an unfollow, an interaction. */
  observe(event: WechatEvent, qrKind?: (ticket: string) => 'id' | 'str' | undefined): void {
    if (event.type === 'subscribe') {
      const kind = event.ticket ? qrKind?.(event.ticket) : undefined;
      this.follow(event.from, { at: event.createTime, ...(event.scene ? { scene: event.scene, kind } : {}) });
    } else if (event.type === 'unsubscribe') this.unfollow(event.from);
    else {
      const user = this.#known(event.from);
      if ((PERSON_TYPES as ReadonlySet<string>).has(event.type)) user.lastActiveAt = Date.now();
    }
  }

  /** A follow: through a code's scene when given. WeChat forgets the tags and remark of one who left. */
  follow(openid: string, options: { scene?: string; kind?: 'id' | 'str' | undefined; at?: number } = {}): EmulatedUser {
    const user: EmulatedUser = {
      openid,
      subscribed: true,
      subscribeTime: options.at ?? Math.floor(Date.now() / 1000),
      remark: '',
      tags: [],
      language: 'zh_CN',
      lastActiveAt: Date.now(),
    };
    if (options.scene !== undefined) {
      const numeric = options.kind === 'id' || (options.kind === undefined && /^\d{1,10}$/.test(options.scene));
      if (numeric) user.qrScene = Number(options.scene);
      else user.qrSceneStr = options.scene;
    }
    this.#users.delete(openid); // a re-follow goes to the end of user/get's list
    this.#users.set(openid, user);
    return user;
  }

  unfollow(openid: string): void {
    const user = this.#known(openid);
    user.subscribed = false;
    user.tags = [];
    user.remark = '';
  }

  /** Why a message to this user would be refused (40003, 43004, 45015), or undefined. */
  messageRefusal(openid: unknown, window: boolean): Json | undefined {
    const user = this.#lookup(openid);
    if (!user) return error(40003, 'invalid openid');
    if (!user.subscribed) return error(43004, 'require subscribe');
    if (window && Date.now() - user.lastActiveAt > WINDOW_MS) return error(45015, 'response out of time limit or subscription is canceled');
    return undefined;
  }

  info(query: Json): Json {
    const user = this.#lookup(query.openid);
    if (!user) return error(40003, 'invalid openid');
    if (!user.subscribed) return { subscribe: 0, openid: user.openid, tagid_list: [] };
    return {
      subscribe: 1,
      openid: user.openid,
      language: typeof query.lang === 'string' ? query.lang : user.language,
      subscribe_time: user.subscribeTime,
      remark: user.remark,
      groupid: user.tags[0] ?? 0,
      tagid_list: [...user.tags],
      subscribe_scene: user.qrScene !== undefined || user.qrSceneStr !== undefined ? 'ADD_SCENE_QR_CODE' : 'ADD_SCENE_OTHERS',
      qr_scene: user.qrScene ?? 0,
      qr_scene_str: user.qrSceneStr ?? '',
    };
  }

  batchInfo(body: Json): Json {
    const list = body.user_list;
    if (!Array.isArray(list) || list.length === 0 || list.length > 100) return error(40032, 'invalid openid list size');
    const infos = (list as Json[]).map((entry) => this.info({ openid: entry?.openid, lang: entry?.lang }));
    const refused = infos.find((info) => info.errcode !== undefined);
    return refused ?? { user_info_list: infos };
  }

  /** user/get: followers, oldest first, a page at a time. */
  followers(query: Json): Json {
    const all = [...this.#users.values()].filter((u) => u.subscribed).map((u) => u.openid);
    return this.#page(all, typeof query.next_openid === 'string' ? query.next_openid : '', true);
  }

  updateRemark(body: Json): Json {
    const user = this.#lookup(body.openid);
    if (!user || !user.subscribed) return error(40003, 'invalid openid');
    if (typeof body.remark !== 'string' || [...body.remark].length >= 30) return error(40032, 'invalid remark: under 30 characters');
    user.remark = body.remark;
    return ok();
  }

  createTag(body: Json): Json {
    const name = (body.tag as Json | undefined)?.name;
    const refused = this.#nameRefusal(name, undefined);
    if (refused) return refused;
    if (this.#tags.size - SYSTEM_TAGS.size >= MAX_TAGS) return error(45056, 'too many tags, or the number of tags exceeds the limit');
    const id = this.#nextTagId++;
    this.#tags.set(id, name as string);
    return { tag: { id, name } };
  }

  listTags(): Json {
    const count = (id: number) => [...this.#users.values()].filter((u) => u.subscribed && u.tags.includes(id)).length;
    return { tags: [...this.#tags].map(([id, name]) => ({ id, name, count: count(id) })) };
  }

  updateTag(body: Json): Json {
    const tag = (body.tag as Json | undefined) ?? {};
    const id = Number(tag.id);
    if (SYSTEM_TAGS.has(id) || id === 0 || id === 1) return error(45058, 'can not modify the tag 0/1/2');
    if (!this.#tags.has(id)) return error(45159, 'invalid tag id');
    const refused = this.#nameRefusal(tag.name, id);
    if (refused) return refused;
    this.#tags.set(id, tag.name as string);
    return ok();
  }

  deleteTag(body: Json): Json {
    const id = Number((body.tag as Json | undefined)?.id);
    if (SYSTEM_TAGS.has(id) || id === 0 || id === 1) return error(45058, 'can not modify the tag 0/1/2');
    if (!this.#tags.has(id)) return error(45159, 'invalid tag id');
    this.#tags.delete(id);
    for (const user of this.#users.values()) user.tags = user.tags.filter((t) => t !== id);
    return ok();
  }

  /** Whether a tag id exists (a conditional menu's matchrule names one). */
  hasTag(id: number): boolean {
    return this.#tags.has(id);
  }

  /** batchtagging and batchuntagging: all or nothing, as WeChat checks the whole call first. */
  tagging(body: Json, add: boolean): Json {
    const list = body.openid_list;
    if (!Array.isArray(list) || list.length === 0 || list.length > 50) return error(40032, 'invalid openid list size: 1 to 50');
    const id = Number(body.tagid);
    if (!this.#tags.has(id)) return error(45159, 'invalid tag id');
    const users: EmulatedUser[] = [];
    for (const openid of list) {
      const user = this.#lookup(openid);
      if (!user || !user.subscribed) return error(40003, 'invalid openid');
      if (add && !user.tags.includes(id) && user.tags.length >= MAX_TAGS_PER_USER)
        return error(45059, 'user tag count exceeds the limit of 20');
      users.push(user);
    }
    for (const user of users) {
      if (add && !user.tags.includes(id)) user.tags.push(id);
      if (!add) user.tags = user.tags.filter((t) => t !== id);
    }
    return ok();
  }

  tagsOf(body: Json): Json {
    const user = this.#lookup(body.openid);
    if (!user || !user.subscribed) return error(40003, 'invalid openid');
    return { tagid_list: [...user.tags] };
  }

  /** user/tag/get: a tag's followers, a page at a time. */
  tagMembers(body: Json): Json {
    const id = Number(body.tagid);
    if (!this.#tags.has(id)) return error(45159, 'invalid tag id');
    const members = [...this.#users.values()].filter((u) => u.subscribed && u.tags.includes(id)).map((u) => u.openid);
    return this.#page(members, typeof body.next_openid === 'string' ? body.next_openid : '', false);
  }

  blacklist(body: Json): Json {
    return this.#page([...this.#blacklist], typeof body.begin_openid === 'string' ? body.begin_openid : '', true);
  }

  blacklisting(body: Json, add: boolean): Json {
    const list = body.openid_list;
    if (!Array.isArray(list) || list.length === 0 || list.length > 20) return error(40032, 'invalid openid list size: 1 to 20');
    if (list.some((openid) => !this.#lookup(openid))) return error(40003, 'invalid openid');
    for (const openid of list as string[]) {
      if (add) this.#blacklist.add(openid);
      else this.#blacklist.delete(openid);
    }
    return ok();
  }

  // A page of a list WeChat pages by next_openid: the OpenIDs after `after`, and the last of them.
  #page(openids: string[], after: string, withTotal: boolean): Json {
    const start = after ? openids.indexOf(after) + 1 : 0;
    if (after && start === 0) return error(40003, 'invalid next_openid');
    const page = openids.slice(start, start + this.#pageSize);
    return {
      ...(withTotal ? { total: openids.length } : {}),
      count: page.length,
      ...(page.length > 0 ? { data: { openid: page } } : {}),
      next_openid: page.at(-1) ?? '',
    };
  }

  #nameRefusal(name: unknown, id: number | undefined): Json | undefined {
    if (typeof name !== 'string' || name.trim() === '') return error(45157, 'invalid tag name');
    if (utf8(name) > 30) return error(45158, 'tag name too long');
    for (const [other, taken] of this.#tags) if (taken === name && other !== id) return error(45157, 'invalid tag name: duplicated');
    return undefined;
  }

  // The user an OpenID names: known, or in lenient mode made a follower on first sight.
  #lookup(openid: unknown): EmulatedUser | undefined {
    if (typeof openid !== 'string' || !/^[\w-]{1,64}$/.test(openid)) return undefined;
    return this.#users.get(openid) ?? (this.#strict ? undefined : this.follow(openid));
  }

  // A push's sender: WeChat knows them, whatever the emulator saw before (the bot may have run first).
  #known(openid: string): EmulatedUser {
    return this.#users.get(openid) ?? this.follow(openid);
  }
}
