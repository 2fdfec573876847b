import type { Reply } from '../protocol/reply.ts';
import type { SceneContext, SceneHit, Scenes } from './scenes.ts';
import type { Store } from '../state/store.ts';
import type { Users } from '../state/users.ts';

/** What a website's back end learns about a login code. */
export type LoginStatus = { status: 'pending' } | { status: 'expired' } | { status: 'scanned'; openid: string; newFollower: boolean };

/** Options of {@link Logins}. */
export interface LoginOptions {
  /** The passive reply the scanner gets, e.g. '你已登录 example.com'. */
  reply?: Reply | ((ctx: SceneContext, hit: SceneHit) => Reply | undefined | Promise<Reply | undefined>);
  /** Lifetime of a login code; 300 s by default. */
  expireSeconds?: number;
  /** How often a waiting poll looks at the store (works across instances). */
  pollMs?: number;
  /** Login codes one client may create per minute; 600 by default (WeChat's quota is finite). */
  ratePerMinute?: number;
}

interface Result {
  openid: string;
  newFollower: boolean;
}

/**
 * Follow-to-login (关注公众号登录): a website shows a temporary code; whoever scans it (following,
 * or already a follower) is the one logged in. A code is consumed by its first scan, and its result
 * by its first read, so neither logs anyone in twice.
 * @example
 * const { scene, url } = await logins.create()
 * const status = await logins.wait(scene, 25_000) // { status: 'scanned', openid, newFollower }
 */
export class Logins {
  readonly #scenes: Scenes;
  readonly #store: Store;
  readonly #users: Users;
  readonly #options: LoginOptions;

  constructor(options: LoginOptions & { scenes: Scenes; store: Store; users: Users }) {
    this.#scenes = options.scenes;
    this.#store = options.store;
    this.#users = options.users;
    this.#options = options;
    this.#scenes.on('login', (ctx, hit) => this.#scanned(ctx, hit));
  }

  /** Creates a login code. */
  create() {
    return this.#scenes.create({ kind: 'login', expireSeconds: this.#options.expireSeconds ?? 300 });
  }

  /** The status of a login scene, now; undefined for a scene that never existed. */
  async status(scene: string): Promise<LoginStatus | undefined> {
    const record = await this.#scenes.get(scene);
    if (!record || record.kind !== 'login') return undefined;
    const result = await this.#store.get<Result>(this.#resultKey(scene));
    if (result) {
      // Only the first read logs in; the result is gone after it.
      if (!(await this.#store.claim(`login:read:${scene}`, true, Math.max(1000, record.expiresAt - Date.now() + 3600_000))))
        return { status: 'expired' };
      await this.#store.delete(this.#resultKey(scene));
      return { status: 'scanned', openid: result.openid, newFollower: result.newFollower };
    }
    if (Date.now() >= record.expiresAt || (await this.#store.get(`login:read:${scene}`))) return { status: 'expired' };
    return { status: 'pending' };
  }

  /** Waits up to `waitMs` for the scan (a long poll); returns as soon as the status is not pending. */
  async wait(scene: string, waitMs: number): Promise<LoginStatus | undefined> {
    const until = Date.now() + waitMs;
    for (;;) {
      const status = await this.status(scene);
      if (status?.status !== 'pending' || Date.now() >= until) return status;
      await new Promise((resolve) => setTimeout(resolve, Math.min(this.#options.pollMs ?? 200, until - Date.now())));
    }
  }

  async #scanned(ctx: SceneContext, hit: SceneHit): Promise<Reply | undefined> {
    if (Date.now() >= hit.expiresAt) return '登录二维码已过期，请刷新网页重新扫码。';
    const keep = hit.expiresAt - Date.now() + 3600_000;
    const key = this.#resultKey(hit.scene);
    const result: Result = { openid: ctx.event.from, newFollower: hit.newFollower };
    // The first scan wins: a second scan of the same code logs no one in.
    // The marker holds who scanned as the hash of the OpenID, as user keys do.
    const scanner = this.#users.keyOf(ctx.event.from);
    if (!(await this.#store.claim(`login:scanned:${hit.scene}`, scanner, keep))) {
      // The same user again (a second scan, or WeChat retrying the push): still logged in.
      if ((await this.#store.get(`login:scanned:${hit.scene}`)) === scanner) return this.#reply(ctx, hit);
      ctx.log.warn('login code scanned again by someone else: ignored');
      return '此登录二维码已被使用，请刷新网页重新扫码。';
    }
    await this.#store.set(key, result, keep);
    await this.#users.link(ctx.event.from, key, { revive: ctx.event.type === 'subscribe' });
    return this.#reply(ctx, hit);
  }

  async #reply(ctx: SceneContext, hit: SceneHit): Promise<Reply | undefined> {
    const reply = this.#options.reply;
    return typeof reply === 'function' ? reply(ctx, hit) : (reply ?? '登录成功。');
  }

  #resultKey(scene: string): string {
    return `login:result:${scene}`;
  }
}
