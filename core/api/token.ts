import { randomBytes } from 'node:crypto';
import { ApiError } from './errors.ts';
import type { Logger } from '../kernel/log.ts';
import type { Store } from '../state/store.ts';

/** How a token is fetched: `stable` (/cgi-bin/stable_token, the default) or `classic` (/cgi-bin/token). */
export type TokenMode = 'stable' | 'classic';

/** Options of {@link TokenManager}. */
export interface TokenOptions {
  appId: string;
  secret: string;
  base: string;
  store: Store;
  log: Logger;
  mode?: TokenMode;
  timeoutMs?: number;
  /** Refresh this long before expiry; stable_token rotates 5 minutes before. */
  marginMs?: number;
}

// A refresh takes one call; an instance that died holding the lock frees it after this.
const LOCK_MS = 10_000;

interface Cached {
  token: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  /** When to fetch again: the margin before expiry, at most half the token's life. */
  refreshAt?: number;
}

/**
 * The one access_token of the account, shared by every process through the store, refreshed ahead
 * of expiry, one refresh at a time.
 * @example
 * const tokens = new TokenManager({ appId, secret, base, store, log })
 * const token = await tokens.get()
 */
export class TokenManager {
  readonly #options: TokenOptions;
  readonly #key: string;
  #cached: Cached | undefined;
  #refreshing: Promise<Cached> | undefined;

  constructor(options: TokenOptions) {
    this.#options = options;
    // Per API host too: tokens of the emulator and of WeChat must never mix in a shared store.
    this.#key = `token:${options.appId}@${new URL(options.base).host}`;
  }

  /** A valid token: from memory, else the store, else WeChat. */
  async get(): Promise<string> {
    if (this.#fresh(this.#cached)) return this.#cached.token;
    this.#refreshing ??= this.#load().finally(() => (this.#refreshing = undefined));
    return (await this.#refreshing).token;
  }

  /**
   * Forgets a token WeChat refused, unless a newer one is already known: so one stale-token error
   * does not make every caller (or every instance) refresh.
   */
  async invalidate(failed: string): Promise<void> {
    if (this.#cached?.token === failed) this.#cached = undefined;
    const stored = await this.#options.store.get<Cached>(this.#key);
    if (stored?.token === failed) await this.#options.store.delete(this.#key);
  }

  #fresh(cached: Cached | undefined): cached is Cached {
    return cached !== undefined && (cached.refreshAt ?? cached.expiresAt - this.#margin) > Date.now();
  }

  get #margin(): number {
    return this.#options.marginMs ?? 5 * 60_000;
  }

  // One refresh at a time across every instance: the one holding a short lock in the store
  // fetches; the others wait for the token it shares. With the store down, fetch alone.
  async #load(): Promise<Cached> {
    const { store, log } = this.#options;
    const lock = `${this.#key}:refreshing`;
    const owner = randomBytes(8).toString('hex');
    const until = Date.now() + LOCK_MS;
    try {
      while (Date.now() < until) {
        const stored = await store.get<Cached>(this.#key);
        if (this.#fresh(stored)) return (this.#cached = stored);
        if (await store.claim(lock, owner, LOCK_MS)) {
          try {
            const again = await store.get<Cached>(this.#key); // refreshed by another instance just now?
            if (this.#fresh(again)) return (this.#cached = again);
            return await this.#fetchAndShare();
          } finally {
            // Only our own lock: one that lapsed may be another instance's by now.
            if ((await store.get(lock).catch(() => undefined)) === owner) await store.delete(lock).catch(() => {});
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } catch (error) {
      if (error instanceof ApiError) throw error;
      log.error({ err: error }, 'token: store unavailable, refreshing without the cross-instance lock');
    }
    return this.#fetchAndShare();
  }

  async #fetchAndShare(): Promise<Cached> {
    const fetched = await this.#fetch();
    this.#cached = fetched;
    await this.#options.store
      .set(this.#key, fetched, Math.max(1, fetched.expiresAt - Date.now()))
      .catch((error: unknown) => this.#options.log.error({ err: error }, 'token: could not share the new token through the store'));
    return fetched;
  }

  async #fetch(): Promise<Cached> {
    const { appId, secret, base, mode = 'stable' } = this.#options;
    const api = mode === 'stable' ? 'stable_token' : 'token';
    const request =
      mode === 'stable'
        ? fetch(`${base}/cgi-bin/stable_token`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ grant_type: 'client_credential', appid: appId, secret }),
            signal: AbortSignal.timeout(this.#options.timeoutMs ?? 5000),
          })
        : fetch(`${base}/cgi-bin/token?${new URLSearchParams({ grant_type: 'client_credential', appid: appId, secret })}`, {
            signal: AbortSignal.timeout(this.#options.timeoutMs ?? 5000),
          });
    let body: { access_token?: unknown; expires_in?: unknown; errcode?: number; errmsg?: string };
    try {
      body = (await (await request).json()) as typeof body;
    } catch (error) {
      throw new ApiError(api, undefined, describeFailure(error));
    }
    if (typeof body.access_token !== 'string' || typeof body.expires_in !== 'number') {
      throw new ApiError(api, body.errcode, body.errmsg ?? 'no access_token in the answer');
    }
    this.#options.log.info({ api, expiresIn: body.expires_in }, 'token: fetched a new access_token');
    const lifetime = body.expires_in * 1000;
    // stable_token hands back the same token until about 5 minutes before its end: a token that
    // arrives with less than the margin left is still refreshed no sooner than half-way.
    return {
      token: body.access_token,
      expiresAt: Date.now() + lifetime,
      refreshAt: Date.now() + lifetime - Math.min(this.#margin, lifetime / 2),
    };
  }
}

/** A short, secret-free description of why a request failed. */
export function describeFailure(error: unknown): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return 'timed out';
  if (error instanceof SyntaxError) return 'answer is not JSON';
  const cause = (error as { cause?: { code?: string } })?.cause?.code;
  return cause ? `unreachable (${cause})` : 'unreachable';
}
