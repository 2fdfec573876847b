import { SharedCredential } from './credential.ts';
import { ApiError } from './errors.ts';
import type { Logger } from '../kernel/log.ts';
import { NO_METRICS, type Metrics } from '../kernel/metrics.ts';
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
  metrics?: Metrics;
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
  readonly #shared: SharedCredential;

  constructor(options: TokenOptions) {
    this.#options = options;
    this.#shared = new SharedCredential({
      // Per API host too: tokens of the emulator and of WeChat must never mix in a shared store.
      key: `token:${options.appId}@${new URL(options.base).host}`,
      store: options.store,
      log: options.log,
      // stable_token rotates 5 minutes before its end, and hands back the same token until then.
      marginMs: options.marginMs ?? 5 * 60_000,
      fetch: () => this.#fetch(),
    });
  }

  /** A valid token: from memory, else the store, else WeChat. */
  get(): Promise<string> {
    return this.#shared.get();
  }

  /** Forgets a token WeChat refused, unless a newer one is already known. */
  invalidate(failed: string): Promise<void> {
    return this.#shared.invalidate(failed);
  }

  async #fetch(): Promise<{ value: string; lifetimeS: number }> {
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
    const metrics = this.#options.metrics ?? NO_METRICS;
    let body: { access_token?: unknown; expires_in?: unknown; errcode?: number; errmsg?: string };
    try {
      body = (await (await request).json()) as typeof body;
    } catch (error) {
      metrics.apiCall(api, 'network');
      throw new ApiError(api, undefined, describeFailure(error));
    }
    metrics.apiCall(api, typeof body.errcode === 'number' ? body.errcode : 0);
    if (typeof body.access_token !== 'string' || typeof body.expires_in !== 'number') {
      throw new ApiError(api, body.errcode, body.errmsg ?? 'no access_token in the answer');
    }
    metrics.tokenRefresh();
    this.#options.log.info({ api, expiresIn: body.expires_in }, 'token: fetched a new access_token');
    return { value: body.access_token, lifetimeS: body.expires_in };
  }
}

/** A short, secret-free description of why a request failed. */
export function describeFailure(error: unknown): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return 'timed out';
  if (error instanceof SyntaxError) return 'answer is not JSON';
  const cause = (error as { cause?: { code?: string } })?.cause?.code;
  return cause ? `unreachable (${cause})` : 'unreachable';
}
