import { hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Logger } from '../kernel/log.ts';
import { throttledErrorLog, type Store } from '../state/store.ts';

/** Options of {@link replayGuard}. */
export interface ReplayGuardOptions {
  /**
   * How far a push's timestamp may be from now, in seconds (WECHAT_MAX_SKEW_S, 300 by default);
   * 0 turns the check off, and with it the memory of nonces.
   */
  maxSkewS: number;
  /** Where the nonces of the window are remembered, so that every instance sharing it sees them. */
  store: Store;
  log: Logger;
  /** Nonces kept in this process's memory when the store is too (memory://). */
  max?: number;
}

/** What {@link replayGuard} makes: two checks of a push whose signature holds. */
export interface ReplayGuard {
  /** False when the timestamp is not a number of seconds within the window around now. */
  fresh(timestamp: string): boolean;
  /**
   * Remembers the push's (timestamp, nonce) with its body. False when that pair was seen with
   * another body: a signed URL taken from a log and replayed with a body of someone else's making.
   * The same body again is WeChat's own retry, which dedupe answers. Synchronous with a memory
   * store: the push's path then waits for nothing.
   */
  admit(timestamp: string, nonce: string, body: string): boolean | Promise<boolean>;
}

/**
 * Bounds what a leaked signed URL is worth. The signature covers the token, timestamp and nonce
 * but not a plaintext body, so a URL from a proxy's access log would otherwise sign any push for
 * ever: a timestamp far from now is refused, and within the window a nonce signs one body only.
 * @example
 * const guard = replayGuard({ maxSkewS: 300, store, log })
 * if (!guard.fresh(q.timestamp) || !(await guard.admit(q.timestamp, q.nonce, body))) refuse()
 */
export function replayGuard(options: ReplayGuardOptions): ReplayGuard {
  const windowMs = options.maxSkewS * 1000;
  if (windowMs === 0) return { fresh: () => true, admit: () => true };
  const { store } = options;
  // A pair is remembered until its timestamp has left the window on both sides of now.
  const ttl = 2 * windowMs;
  const logError = throttledErrorLog(options.log, 'replay guard: the store is unavailable, nonces are not checked');
  const fingerprint = (body: string) => hash('sha256', body, 'base64url');

  // memory:// is this process's own, and bounded: nonces would evict the records that matter
  // (users, codes, the token), so they get a cache of their own. It keeps a push's body itself
  // (compared as it is, with no hash to make), a long one by its hash; bounded in entries and size.
  if (store.local) {
    const seen = new LRUCache<string, string>({
      max: options.max ?? 100_000,
      maxSize: LOCAL_MAX_CHARS,
      sizeCalculation: (kept) => kept.length + 64,
      ttl,
    });
    return {
      fresh: (timestamp) => fresh(timestamp, windowMs),
      admit: (timestamp, nonce, body) => {
        const key = `${timestamp}:${nonce}`;
        // Tagged, so that a short body can never equal a long one's hash.
        const kept = body.length <= LOCAL_BODY_CHARS ? `b${body}` : `h${fingerprint(body)}`;
        const before = seen.get(key);
        if (before === undefined) seen.set(key, kept);
        return before === undefined || before === kept;
      },
    };
  }

  async function admit(timestamp: string, nonce: string, body: string): Promise<boolean> {
    const key = `nonce:${timestamp}:${nonce}`;
    const print = fingerprint(body);
    try {
      if (await store.claim(key, print, ttl)) return true;
      const before = await store.get<string>(key);
      return before === undefined || before === print;
    } catch (error) {
      // A push whose signature holds is answered: with the store down, it is let through.
      logError(error);
      return true;
    }
  }

  return { fresh: (timestamp) => fresh(timestamp, windowMs), admit };
}

// A push is a few hundred characters: kept as it is up to this, by its hash beyond.
const LOCAL_BODY_CHARS = 2048;
// What the in-memory nonces may hold in all, in characters (about 100,000 pushes of 300).
const LOCAL_MAX_CHARS = 40 * 1024 * 1024;

function fresh(timestamp: string, windowMs: number): boolean {
  return /^\d{1,12}$/.test(timestamp) && Math.abs(Number(timestamp) * 1000 - Date.now()) <= windowMs;
}
