import { randomBytes } from 'node:crypto';
import { ApiError } from './errors.ts';
import type { Logger } from '../kernel/log.ts';
import type { Store } from '../state/store.ts';

/** A credential WeChat hands out for a while (an access_token, a jsapi_ticket), and when it ends. */
export interface Credential {
  value: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  /** When to fetch again: a margin before expiry, at most half its life. */
  refreshAt: number;
}

/** Options of {@link SharedCredential}. */
export interface SharedCredentialOptions {
  /** Its store key: one per account and API host, so the emulator's and WeChat's never mix. */
  key: string;
  store: Store;
  log: Logger;
  /** Fetches a new one from WeChat; `lifetimeS` is its expires_in. */
  fetch(): Promise<{ value: string; lifetimeS: number }>;
  /** Refresh this long before expiry (5 minutes by default). */
  marginMs?: number;
}

// A refresh takes one call; an instance that died holding the lock frees it after this.
const LOCK_MS = 10_000;

/**
 * One credential of the account, shared by every process through the store, refreshed ahead of
 * expiry, one fetch at a time across all of them.
 * @example
 * const tickets = new SharedCredential({ key: 'jsapi:wx…@api.weixin.qq.com', store, log, fetch })
 * await tickets.get()
 */
export class SharedCredential {
  readonly #options: SharedCredentialOptions;
  #cached: Credential | undefined;
  #refreshing: Promise<Credential> | undefined;

  constructor(options: SharedCredentialOptions) {
    this.#options = options;
  }

  /** A valid value: from memory, else the store, else WeChat. */
  async get(): Promise<string> {
    if (fresh(this.#cached)) return this.#cached.value;
    this.#refreshing ??= this.#load().finally(() => (this.#refreshing = undefined));
    return (await this.#refreshing).value;
  }

  /**
   * Forgets a value WeChat refused, unless a newer one is already known: so one stale error does
   * not make every caller (or every instance) fetch again.
   */
  async invalidate(failed: string): Promise<void> {
    if (this.#cached?.value === failed) this.#cached = undefined;
    const stored = await this.#options.store.get<Credential>(this.#options.key);
    if (stored?.value === failed) await this.#options.store.delete(this.#options.key);
  }

  // The instance holding a short lock in the store fetches; the others wait for what it shares.
  // With the store down, fetch alone.
  async #load(): Promise<Credential> {
    const { store, log, key } = this.#options;
    const lock = `${key}:refreshing`;
    const owner = randomBytes(8).toString('hex');
    const until = Date.now() + LOCK_MS;
    try {
      while (Date.now() < until) {
        const stored = await store.get<Credential>(key);
        if (fresh(stored)) return (this.#cached = stored);
        if (await store.claim(lock, owner, LOCK_MS)) {
          try {
            const again = await store.get<Credential>(key); // fetched by another instance just now?
            if (fresh(again)) return (this.#cached = again);
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
      log.error({ err: error, key: key.split(':')[0] }, 'credential: store unavailable, fetching without the cross-instance lock');
    }
    return this.#fetchAndShare();
  }

  async #fetchAndShare(): Promise<Credential> {
    const { value, lifetimeS } = await this.#options.fetch();
    const lifetime = lifetimeS * 1000;
    const margin = this.#options.marginMs ?? 5 * 60_000;
    // A value that arrives with less than the margin left is still fetched again no sooner than half-way.
    const fetched = { value, expiresAt: Date.now() + lifetime, refreshAt: Date.now() + lifetime - Math.min(margin, lifetime / 2) };
    this.#cached = fetched;
    await this.#options.store
      .set(this.#options.key, fetched, Math.max(1, lifetime))
      .catch((error: unknown) => this.#options.log.error({ err: error }, 'credential: could not share it through the store'));
    return fetched;
  }
}

function fresh(cached: Credential | undefined): cached is Credential {
  return cached !== undefined && typeof cached.value === 'string' && cached.refreshAt > Date.now();
}
