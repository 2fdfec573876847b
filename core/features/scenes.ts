import { randomBytes } from 'node:crypto';
import type { WechatApi } from '../api/client.ts';
import { DYNAMIC_SCENE_PREFIX, QR_LIMITS } from '../protocol/qr-codes.ts';
import type { ApiFlavor } from '../api/client.ts';
import type { Context } from '../kernel/context.ts';
import type { Reply } from '../protocol/reply.ts';
import type { Store } from '../state/store.ts';
import type { Users } from '../state/users.ts';

export { DYNAMIC_SCENE_PREFIX };

// Kept past the code's end, so a late poll can tell "expired" from "never existed".
const GRACE_MS = 3600_000;

/** What a run-time scene is bound to, in the store. */
export interface SceneRecord<D = unknown> {
  kind: string;
  data: D;
  /** Epoch ms: when WeChat stops accepting the code. */
  expiresAt: number;
}

/** A scan of a run-time code, as its kind's handler sees it. */
export interface SceneHit<D = unknown> {
  scene: string;
  kind: string;
  data: D;
  /** True on `subscribe` (the scan brought a follow), false on `SCAN` by a follower. */
  newFollower: boolean;
  /** Epoch ms: when the code stops being accepted. */
  expiresAt: number;
}

/** Handles scans of one kind of run-time code; may return (or ctx.reply) a reply. */
/** The context the features' handlers receive: the push's, with WeChat's API. */
export type SceneContext = Context & ApiFlavor;

export type SceneHandler<D = unknown> = (
  ctx: SceneContext,
  hit: SceneHit<D>,
) => Reply | void | undefined | Promise<Reply | void | undefined>;

/** A code made at run time. */
export interface CreatedScene {
  scene: string;
  ticket: string;
  /** The code's content: render it as the image. */
  url: string;
  /** Epoch ms. */
  expiresAt: number;
}

/** Options of {@link Scenes.create}. */
export interface CreateSceneOptions<D> {
  /** Routes scans to the handler registered with `on(kind)`: 'login', 'invite', … */
  kind: string;
  data?: D;
  /** Lifetime of the code; 300 s by default, at most 30 days. */
  expireSeconds?: number;
  /** The OpenID whose personal data `data` is: deleted with that user's record on unsubscribe. */
  owner?: string;
}

/**
 * Run-time parametric codes: one per visitor (follow-to-login) or per follower (referral invites).
 * Each gets an unguessable scene (144 random bits) bound to its data for the code's lifetime, and
 * scans are routed by kind, on `subscribe` with `qrscene_` and on `SCAN` alike.
 * @example
 * scenes.on('login', (ctx, hit) => `已登录 ${hit.data.site}`)
 * const { scene, url } = await scenes.create({ kind: 'login', data: { site: 'example.com' } })
 */
export class Scenes {
  readonly #handlers = new Map<string, SceneHandler<never>>();
  readonly #unfollows: ((ctx: Context) => Promise<void>)[] = [];
  readonly #api: WechatApi;
  readonly #store: Store;
  readonly #users: Users;

  constructor(options: { api: WechatApi; store: Store; users: Users }) {
    this.#api = options.api;
    this.#store = options.store;
    this.#users = options.users;
  }

  /** Registers the handler of a kind (one per kind). */
  on<D>(kind: string, handler: SceneHandler<D>): this {
    this.#handlers.set(kind, handler as SceneHandler<never>);
    return this;
  }

  /** Runs on every unsubscribe, before the user's record is purged (to undo what a scan counted). */
  onUnfollow(handler: (ctx: Context) => Promise<void>): this {
    this.#unfollows.push(handler);
    return this;
  }

  /** Called by the scene plugin on unsubscribe. */
  async unfollowed(ctx: Context): Promise<void> {
    for (const handler of this.#unfollows) await handler(ctx);
  }

  handlerOf(kind: string): SceneHandler | undefined {
    return this.#handlers.get(kind) as SceneHandler | undefined;
  }

  /** True for a scene made by {@link create}. */
  isDynamic(scene: string): boolean {
    return scene.startsWith(DYNAMIC_SCENE_PREFIX);
  }

  /** Creates a temporary code for a new scene bound to `data`. */
  async create<D>(options: CreateSceneOptions<D>): Promise<CreatedScene> {
    const expireSeconds = options.expireSeconds ?? 300;
    if (!/^[a-z][a-z0-9_-]{0,31}$/.test(options.kind))
      throw new RangeError('scene kind: 1 to 32 lowercase letters, digits, _ or -, starting with a letter');
    if (!Number.isInteger(expireSeconds) || expireSeconds < 1 || expireSeconds > QR_LIMITS.expireSeconds.max) {
      throw new RangeError(`expireSeconds must be a whole number from 1 to ${QR_LIMITS.expireSeconds.max}`);
    }
    const scene = DYNAMIC_SCENE_PREFIX + randomBytes(18).toString('base64url');
    const code = await this.#api.createQrCode({ scene, expireSeconds });
    const expiresAt = Date.now() + (code.expireSeconds ?? expireSeconds) * 1000;
    const record: SceneRecord<D | null> = { kind: options.kind, data: options.data ?? null, expiresAt };
    await this.#store.set(this.keyOf(scene), record, expiresAt - Date.now() + GRACE_MS);
    if (options.owner) await this.#users.link(options.owner, this.keyOf(scene));
    return { scene, ticket: code.ticket, url: code.url, expiresAt };
  }

  /** The record of a scene, if it exists (expired ones stay a while, with their expiresAt). */
  async get<D = unknown>(scene: string): Promise<SceneRecord<D> | undefined> {
    if (!this.isDynamic(scene) || scene.length > QR_LIMITS.sceneStrLength.max) return undefined;
    return this.#store.get<SceneRecord<D>>(this.keyOf(scene));
  }

  keyOf(scene: string): string {
    return `scene:${scene}`;
  }
}
