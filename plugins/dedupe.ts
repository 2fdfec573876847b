import { hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Plugin } from '../core/config/bot-config.ts';
import { NotAdmitted } from '../core/kernel/bot.ts';
import type { Context } from '../core/kernel/context.ts';
import { dedupeKeyOf } from '../core/protocol/events.ts';
import type { NormalReply } from '../core/protocol/reply.ts';
import type { Store } from '../core/state/store.ts';

/** Options of {@link dedupe}. */
export interface DedupeOptions {
  /** How long a handled push is remembered; WeChat's retries come within 15 s. */
  ttlMs?: number;
  /** Handled pushes kept in process memory, in front of the store. */
  max?: number;
  /** A running claim lapses after this unless its owner renews it: an instance that died mid-push frees it. */
  claimMs?: number;
  /** How often a waiting instance looks for the first run's reply. */
  pollMs?: number;
}

// What the store holds under a push's key: a claim while it runs, then its reply without the
// envelope (no OpenID), re-rendered for each retry.
type Running = { running: true };
type Done = { reply: NormalReply | null };
type Outcome = { own: true } | { done: Done } | { gaveUp: true };

const RUNNING: Running = { running: true };
// What a run refused at admission leaves to the pushes of its key that waited for it.
const REFUSED = Symbol('refused');
const WAIT_MS = 30_000; // the transport answered long before; stop looking after this

/**
 * Runs each push once, across every instance sharing the store. A retry of a handled push gets the
 * same reply again; a retry that arrives while the first is still running, here or on another
 * instance, waits for it. Keys are hashed: the store holds no OpenID. With the store down, it
 * falls back to this process's memory and says so. With a memory store, only the bounded LRU
 * remembers (nothing is shared anyway).
 * @example
 * new Bot({ services, plugins: [dedupe({ ttlMs: 300_000 }), …] })
 */
export function dedupe(options: DedupeOptions = {}): Plugin {
  const ttl = options.ttlMs ?? 5 * 60_000;
  // A dead owner's claim lapses within 3 s, so WeChat's next retry (5 s apart) is answered in its own window.
  const claimMs = options.claimMs ?? 3000;
  const pollMs = options.pollMs ?? 50;
  const recent = new LRUCache<string, Done>({ max: options.max ?? 10_000, ttl });
  const running = new Map<string, Promise<Done | typeof REFUSED | undefined>>();
  let store: Store | undefined;

  // Claim the push, or find its reply, or wait while another instance runs it.
  async function claimOrWait(ctx: Context, store: Store, key: string): Promise<Outcome> {
    const until = Date.now() + WAIT_MS;
    try {
      while (Date.now() < until) {
        if (await store.claim(key, RUNNING, claimMs)) return { own: true };
        const found = await store.get<Running | Done>(key);
        if (found && 'reply' in found) return { done: found };
        if (found) {
          ctx.duplicate = true; // another instance runs it: nothing here may reply late
          await new Promise((resolve) => setTimeout(resolve, pollMs));
        }
      }
      ctx.log.warn('dedupe: the first run of this push never finished; answered without a reply');
      return { gaveUp: true };
    } catch (error) {
      ctx.log.error({ err: error }, 'dedupe: STORE UNAVAILABLE, deduplicating in this process only');
      return { own: true };
    }
  }

  return {
    name: 'dedupe',
    // Its claim goes to the store in the same turn as the transport's nonce check: one round trip.
    beforeAdmission: true,
    init(services) {
      // A memory store is this process's own: the LRU in front of it already holds what it would.
      if (!services.store.local) store = services.store;
    },
    middleware: function run(ctx, next): Promise<void> | void {
      // Hashed for the shared store, which must hold no OpenID. A key that stays in this process's
      // memory (which holds the push anyway) is not: the hash is 1.7 µs of every push (BENCHMARKS.md).
      const id = dedupeKeyOf(ctx.event);
      // The push's CreateTime leads the shared key (a retry carries the same): the records of one
      // moment sit side by side in SQLite's index, so a commit writes a few pages of it, not one
      // page per push (BENCHMARKS.md).
      const key = store ? `dedupe:${ctx.event.createTime}:${hash('sha256', id, 'base64url')}` : id;
      const known = recent.get(key);
      if (known) return replay(ctx, known);
      const first = running.get(key);
      if (first) {
        ctx.duplicate = true;
        return first.then((done) => {
          // The first was a forgery refused at admission: this push is no duplicate of it, and runs.
          if (done === REFUSED) {
            ctx.duplicate = false;
            return run(ctx, next);
          }
          if (done) replay(ctx, done);
        });
      }
      // Registered before anything is awaited, so a retry arriving meanwhile waits for this run.
      // Neither way of running rejects (the chain reports its own errors), so `running` never
      // keeps a key.
      // A push refused at admission (a replayed nonce with another body) is not remembered: its
      // claim is released, and the genuine push of that key, if any, runs.
      const forget = (error: unknown) => {
        running.delete(key);
        throw error;
      };
      const started = store
        ? runShared(ctx, store, key, next).then((done) => remember(key, done), forget)
        : next().then(() => remember(key, { reply: ctx.response ?? null }), forget);
      running.set(
        key,
        started.catch((error: unknown) => (error instanceof NotAdmitted ? REFUSED : undefined)),
      );
      return started.then(() => undefined);
    },
  };

  // The run is over: a retry finds its reply in `recent` from now on (none if the run gave up).
  function remember(key: string, done: Done | undefined): Done | undefined {
    if (done) recent.set(key, done);
    running.delete(key);
    return done;
  }

  function replay(ctx: Context, done: Done): void {
    ctx.duplicate = true;
    ctx.log.info('duplicate push answered from its first reply');
    if (done.reply) ctx.reply(done.reply);
  }

  // With a shared store: claim the push, or replay the reply another instance recorded, or give up
  // after waiting for it. Never rejects.
  async function runShared(ctx: Context, shared: Store, key: string, next: () => Promise<void>): Promise<Done | undefined> {
    const outcome = await claimOrWait(ctx, shared, key);
    if ('done' in outcome) {
      replay(ctx, outcome.done);
      return outcome.done;
    }
    if ('gaveUp' in outcome) return undefined;
    ctx.duplicate = false;
    return runOwned(ctx, shared, key, next);
  }

  // Runs the chain while renewing the claim, then records the reply for retries everywhere.
  async function runOwned(ctx: Context, shared: Store, key: string, next: () => Promise<void>): Promise<Done> {
    let renewal: Promise<void> = Promise.resolve();
    const renew = setInterval(() => {
      renewal = shared.set(key, RUNNING, claimMs).catch((error: unknown) => ctx.log.warn({ err: error }, 'dedupe: claim not renewed'));
    }, claimMs / 3);
    renew.unref();
    let refused = false;
    try {
      await next();
    } catch (error) {
      refused = error instanceof NotAdmitted;
      throw error;
    } finally {
      clearInterval(renew);
      await renewal; // a renewal still in flight must not land on top of the reply, or the release
      if (refused) await shared.delete(key).catch(() => undefined);
    }
    const done: Done = { reply: ctx.response ?? null };
    await shared
      .set(key, done, ttl)
      .catch((error: unknown) => ctx.log.error({ err: error }, 'dedupe: reply not recorded, a retry may run again'));
    return done;
  }
}
