import { randomUUID } from 'node:crypto';
import type { Store } from './store.ts';

/** A claim this instance tried to take: whether it holds it, and how to let it go. */
export interface OwnedClaim {
  readonly held: boolean;
  /** Lets the claim go, only while it is still this instance's: one that lapsed and was taken by another stays. */
  release(): Promise<void>;
}

/**
 * Claims a key for one piece of work across instances (an upload, applying menus), with an owner
 * of its own so that releasing it never frees another instance's claim.
 * @example
 * const claim = await ownedClaim(store, 'media:…:claim', 60_000)
 * try { if (claim.held) await work() } finally { await claim.release() }
 */
export async function ownedClaim(store: Store, key: string, ttlMs: number): Promise<OwnedClaim> {
  const owner = randomUUID();
  const held = await store.claim(key, owner, ttlMs);
  return {
    held,
    release: async () => {
      if (held && (await store.get(key)) === owner) await store.delete(key);
    },
  };
}
