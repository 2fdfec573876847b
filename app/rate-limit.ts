import { createHash } from 'node:crypto';
import type { Context as KoaContext, Middleware } from 'koa';
import type { Store } from '../core/state/store.ts';

/** Options of {@link rateLimit}. */
export interface RateLimitOptions {
  store: Store;
  /** Names the counter: `rate:<name>:<address hash>:<minute>`. */
  name: string;
  /** What one address may do in a minute. */
  perMinute: number;
}

/**
 * One address's count in the current minute, kept in the store so every instance sharing the store
 * shares the count. A store that fails lets the request through: the limit must not take the
 * route down with the store.
 * @example
 * const limit = rateLimit({ store, name: 'qr', perMinute: 60 })
 * if (!(await limit.take(koa))) return tooManyRequests(koa, 'at most 60 images a minute')
 */
export interface RateLimit {
  /** Counts one (a request, or a failed attempt); false once the address has gone over its minute's limit. */
  take(koa: KoaContext): Promise<boolean>;
  /** Adds to the address's count (0 reads it, in the store's order) and returns the count; 0 if the store fails. */
  add(koa: KoaContext, by: number): Promise<number>;
}

const WINDOW_MS = 60_000;

/**
 * A per-address, per-minute limit through the store.
 * @example
 * const renders = rateLimit({ store, name: 'qr', perMinute: 60 })
 * if (!(await renders.take(koa))) return tooManyRequests(koa, 'at most 60 images a minute')
 */
export function rateLimit(options: RateLimitOptions): RateLimit {
  const { store, name, perMinute } = options;
  // Hashed so the keys do not show addresses at a glance (not a secret: IPv4 can be tried in full).
  const keyOf = (koa: KoaContext) =>
    `rate:${name}:${createHash('sha256').update(koa.ip).digest('hex').slice(0, 16)}:${Math.floor(Date.now() / WINDOW_MS)}`;
  return {
    // The counter lives a little over its minute, so it outlasts the window it counts.
    take: async (koa) => (await store.increment(keyOf(koa), 1, WINDOW_MS + 1000).catch(() => 0)) <= perMinute,
    add: (koa, by) => store.increment(keyOf(koa), by, WINDOW_MS + 1000).catch(() => 0),
  };
}

/**
 * The count of wrong tokens (BOT_CONSOLE_TOKEN at /console/login, BOT_API_TOKEN at /api) one
 * address may send in a minute, both together. Once it is used up, even the right one is refused
 * until the minute ends.
 * @example
 * const verdict = await wrongTokens(store).judge(koa, secretMatches(given, token))
 * if (verdict === 'limited') return tooManyRequests(koa, { error: 'too many wrong tokens' })
 */
export function wrongTokens(store: Store): TokenBudget {
  const limit = rateLimit({ store, name: 'wrong-token', perMinute: WRONG_TOKENS_PER_MINUTE });
  return {
    // One atomic increment per attempt: 1 for a wrong token, 0 for the right one. A burst sent at
    // once is thus put in one order by the store, and a right token is let in only if fewer than
    // the limit of wrong ones came before it. Reading the count first and counting failures after
    // let a burst of hundreds through before the first failure landed.
    judge: async (koa, matches) => {
      const count = await limit.add(koa, matches ? 0 : 1);
      if (matches) return count < WRONG_TOKENS_PER_MINUTE ? 'right' : 'limited';
      return count <= WRONG_TOKENS_PER_MINUTE ? 'wrong' : 'limited';
    },
  };
}

/** An address's budget of wrong tokens: see {@link wrongTokens}. */
export interface TokenBudget {
  /** Counts a token that was checked; 'limited' once the address has used up its minute. */
  judge(koa: KoaContext, matches: boolean): Promise<'right' | 'wrong' | 'limited'>;
}

/** Wrong tokens an address may send in a minute before it is refused (429) until the minute ends. */
export const WRONG_TOKENS_PER_MINUTE = 10;

/**
 * Answers 429 with Retry-After set to the end of the current minute, when the count starts again.
 * @example
 * if (!(await limit.take(koa))) return tooManyRequests(koa, 'too many requests')
 */
export function tooManyRequests(koa: KoaContext, body: unknown): void {
  koa.status = 429;
  koa.set('Retry-After', String(Math.ceil((WINDOW_MS - (Date.now() % WINDOW_MS)) / 1000)));
  koa.body = body;
}

/** Requests an address may make a minute to the HTTP API and the console's API, all together. */
export const API_REQUESTS_PER_MINUTE = 1200;

/**
 * One budget per address for every request under the given path prefixes (the HTTP API, the
 * console's API): a flood from one address gets 429 and costs one counter per request, whatever
 * route it aims at. The callback is not among them: WeChat's servers are few addresses, and a
 * push is never refused for coming too often.
 * @example
 * app.use(apiRequestLimit(store, ['/api/', '/console/api/']))
 */
export function apiRequestLimit(store: Store, prefixes: readonly string[], perMinute = API_REQUESTS_PER_MINUTE): Middleware {
  const limit = rateLimit({ store, name: 'api', perMinute });
  return async (koa, next) => {
    if (!prefixes.some((prefix) => koa.path.startsWith(prefix))) return next();
    if (!(await limit.take(koa)))
      return tooManyRequests(koa, { error: `more than ${perMinute} requests a minute from this address: wait` });
    return next();
  };
}
