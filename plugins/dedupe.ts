import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Plugin } from '../core/bot.ts';
import { dedupeKeyOf } from '../core/events.ts';
import type { NormalReply } from '../core/reply.ts';
import type { Store } from '../core/store.ts';

/** Options of {@link dedupe}. */
export interface DedupeOptions {
  /** How long a handled push is remembered; WeChat's retries come within 15 s. */
  ttlMs?: number;
  /** Handled pushes kept in process memory, in front of the store. */
  max?: number;
}

// The reply is kept without its envelope (no OpenID) and re-rendered for the retry.
interface Record {
  reply: NormalReply | null;
}

/**
 * Runs each push once. A retry of a handled push gets the same reply again; a retry that comes
 * while the first is still running waits for it. Keys are hashed: the store holds no OpenID.
 * @example
 * new Bot({ store, log, plugins: [dedupe({ ttlMs: 300_000 }), …] })
 */
export function dedupe(options: DedupeOptions = {}): Plugin {
  const ttl = options.ttlMs ?? 5 * 60_000;
  const recent = new LRUCache<string, Record>({ max: options.max ?? 10_000, ttl });
  const running = new Map<string, Promise<Record>>();
  let store: Store | undefined;
  return {
    name: 'dedupe',
    init(bot) {
      store = bot.store;
    },
    async middleware(ctx, next) {
      const key = `dedupe:${createHash('sha256').update(dedupeKeyOf(ctx.event)).digest('base64url')}`;
      const done = recent.get(key);
      if (done) return replay(done);
      const first = running.get(key);
      if (first) return replay(await first);
      // Claim the key before the first await, so a retry arriving meanwhile waits for this run.
      let settle!: (record: Record) => void;
      running.set(key, new Promise((resolve) => (settle = resolve)));
      let record: Record = { reply: null };
      try {
        const stored = await store?.get<Record>(key).catch((error: unknown) => {
          ctx.log.error({ err: error }, 'dedupe: store unreadable, handling the push as new');
          return undefined;
        });
        if (stored) {
          record = stored;
          return replay(stored);
        }
        await next();
        record = { reply: ctx.response ?? null };
        await store
          ?.set(key, record, ttl)
          .catch((error: unknown) => ctx.log.error({ err: error }, 'dedupe: store unwritable, a retry may run again'));
      } finally {
        recent.set(key, record);
        running.delete(key);
        settle(record);
      }

      function replay(known: Record) {
        ctx.duplicate = true;
        ctx.log.info('duplicate push answered from its first reply');
        if (known.reply) ctx.reply(known.reply);
      }
    },
  };
}
