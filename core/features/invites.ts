import { randomBytes } from 'node:crypto';
import type { Reply } from '../protocol/reply.ts';
import type { CreatedScene, SceneContext, SceneHit, Scenes } from './scenes.ts';
import type { Store } from '../state/store.ts';
import type { Users } from '../state/users.ts';

/** What an invite code's scene is bound to: personal data of the inviter, purged with them. */
interface InviteData {
  inviter: string;
  /** A random id that keys the inviter's counters, so the counts stay anonymous after a purge. */
  inviterId: string;
}

/** A follow through an invite, as the inviter's handler sees it. */
export interface InviteFollow {
  /** The inviter's OpenID: thank them with ctx.api.sendCustom(inviter, …). */
  inviter: string;
  /** Followers the inviter has brought who still follow, this one included. */
  follows: number;
}

/** Options of {@link Invites}. */
export interface InviteOptions {
  /** Lifetime of an invite code; 30 days (WeChat's maximum) by default. */
  expireSeconds?: number;
  /** Runs when someone follows through an invite; may reply to the new follower. */
  onFollow?(ctx: SceneContext, follow: InviteFollow): Reply | void | undefined | Promise<Reply | void | undefined>;
}

/**
 * Referral invites: each follower gets their own temporary code; who follows through it is
 * attributed to the inviter, with a counter per inviter.
 * @example
 * const { url } = await invites.codeFor(openid) // render it, show it to the follower
 * await invites.followsOf(openid)               // 3
 */
export class Invites {
  readonly #scenes: Scenes;
  readonly #store: Store;
  readonly #users: Users;
  readonly #options: InviteOptions;

  constructor(options: InviteOptions & { scenes: Scenes; store: Store; users: Users }) {
    this.#scenes = options.scenes;
    this.#store = options.store;
    this.#users = options.users;
    this.#options = options;
    this.#scenes.on<InviteData>('invite', (ctx, hit) => this.#followed(ctx, hit));
    // A follow that is undone no longer counts: unfollowing and following again cannot farm rewards.
    this.#scenes.onUnfollow(async (ctx) => {
      const inviterId = (await ctx.user.get())?.invitedBy as string | undefined;
      if (inviterId)
        await Promise.all([this.#store.increment(`invites:${inviterId}:follows`, -1), this.#store.increment('invites:follows', -1)]);
    });
  }

  /** The follower's invite code: reused while it has more than a tenth of its life left. */
  async codeFor(openid: string): Promise<CreatedScene> {
    const expireSeconds = this.#options.expireSeconds ?? 2_592_000;
    const record = await this.#users.get(openid);
    const current = record?.inviteCode as CreatedScene | undefined;
    if (current && current.expiresAt - Date.now() > expireSeconds * 100) return current;
    const inviterId = (record?.inviterId as string | undefined) ?? randomBytes(12).toString('base64url');
    const code = await this.#scenes.create<InviteData>({
      kind: 'invite',
      data: { inviter: openid, inviterId },
      expireSeconds,
      owner: openid,
    });
    await this.#users.update(openid, { inviteCode: code, inviterId });
    return code;
  }

  /** Followers the user's invites have brought and who still follow. */
  async followsOf(openid: string): Promise<number> {
    const inviterId = (await this.#users.get(openid))?.inviterId as string | undefined;
    return inviterId ? ((await this.#store.get<number>(`invites:${inviterId}:follows`)) ?? 0) : 0;
  }

  async #followed(ctx: SceneContext, hit: SceneHit<InviteData>): Promise<Reply | void | undefined> {
    const { inviter, inviterId } = hit.data;
    if (!hit.newFollower || inviter === ctx.event.from) return undefined;
    const record = await ctx.user.get();
    if (record?.invitedBy) return undefined; // attributed once, to the first inviter
    await ctx.user.update({ invitedBy: inviterId });
    const follows = await this.#store.increment(`invites:${inviterId}:follows`);
    await this.#store.increment('invites:follows');
    return this.#options.onFollow?.(ctx, { inviter, follows });
  }
}
