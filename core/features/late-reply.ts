// The outbox of late replies: a reply the chain made after WeChat's 5 s goes out as a
// customer-service message. It is written to the store before it is sent, so an instance that
// stops or dies first leaves it to the next one to start, which sends it once.
import { customMessageOf, type CustomMessage, type WechatApi } from '../api/client.ts';
import { ApiError } from '../api/errors.ts';
import type { Context } from '../kernel/context.ts';
import type { Logger } from '../kernel/log.ts';
import { NO_METRICS, type Metrics } from '../kernel/metrics.ts';
import type { NormalReply } from '../protocol/reply.ts';
import type { Store } from '../state/store.ts';
import type { Users } from '../state/users.ts';

// WeChat lets an account write to a user within 48 hours of the user's last interaction.
const WINDOW_SECONDS = 48 * 3600;
/** A late reply not sent by then is given up: an answer that much later is no longer one. */
export const LATE_REPLY_LIFETIME_MS = 15 * 60_000;
// Between attempts after a failure WeChat may recover from (no answer, busy, a quota per minute).
const RETRY_MS = [5_000, 30_000, 120_000];
// How long one instance holds an entry it is sending: past the API client's own retries (~25 s).
const SENDING_MS = 60_000;
// How often each instance looks for entries left by one that stopped.
const SWEEP_MS = 30_000;
// Entries looked at per sweep, at most.
const SWEEP_BATCH = 1000;
// Errcodes after which the same message may yet go out: -1 busy, 45011 the per-minute quota.
const TRANSIENT = new Set([-1, 45011]);

/** One late reply in the store: `late:item:<n>`, linked to the user's record (the purge deletes it). */
interface Entry {
  openid: string;
  message: CustomMessage;
  /** The push's CreateTime, seconds: the 48-hour window counts from it. */
  createTime: number;
  /** Given up after this (ms). */
  until: number;
  attempts: number;
  /** Not tried again before this (ms). */
  nextAt: number;
}

/** Options of {@link LateReplies}. */
export interface LateRepliesOptions {
  api: WechatApi;
  store: Store;
  users: Users;
  log: Logger;
  metrics?: Metrics;
  lifetimeMs?: number;
  retryMs?: readonly number[];
  sweepMs?: number;
}

/**
 * The outbox. `send` is the transport's late-reply hook; `start` sends what an earlier instance
 * left and keeps looking; `close` stops looking (what is left stays in the store).
 * Sending is at least once with one gap: an instance killed between WeChat's answer and the
 * entry's deletion (a millisecond) leaves it to be sent again.
 * @example
 * const late = new LateReplies({ api, store, users, log })
 * wechatRouter(bot, { token, log, onLateReply: late.send })
 */
export class LateReplies {
  readonly #options: LateRepliesOptions;
  readonly #metrics: Metrics;
  readonly #lifetimeMs: number;
  readonly #timers = new Set<NodeJS.Timeout>();
  #sweeper: NodeJS.Timeout | undefined;
  // The sequence number seen by the previous sweep: entries up to it have had time to be written.
  #settled = 0;
  #closed = false;

  constructor(options: LateRepliesOptions) {
    this.#options = options;
    this.#metrics = options.metrics ?? NO_METRICS;
    this.#lifetimeMs = options.lifetimeMs ?? LATE_REPLY_LIFETIME_MS;
    this.send = this.send.bind(this);
  }

  /** Writes the reply to the store, then sends it. Never throws: failures are logged and counted. */
  async send(ctx: Context, reply: NormalReply): Promise<void> {
    const { store, users } = this.#options;
    const message = customMessageOf(reply);
    if (!message) return this.#giveUp(ctx.log, `a ${reply.type} reply cannot be sent as a customer-service message`);
    if (Date.now() / 1000 - ctx.event.createTime > WINDOW_SECONDS)
      return this.#giveUp(ctx.log, 'the 48-hour customer-service window has closed');
    const now = Date.now();
    const entry: Entry = {
      openid: ctx.event.from,
      message,
      createTime: ctx.event.createTime,
      until: now + this.#lifetimeMs,
      attempts: 0,
      nextAt: now,
    };
    let n: number;
    try {
      n = await store.increment('late:seq');
      await this.#save(n, entry);
      // The user's record lists it, so an unsubscribe deletes it with the rest (and it is not sent).
      if (!(await users.link(entry.openid, itemKey(n)))) return this.#giveUp(ctx.log, 'the user has unsubscribed');
    } catch (error) {
      // Not in the store: sent from memory alone, as before there was an outbox.
      ctx.log.error({ err: error }, 'late reply: not saved in the store, sending it from memory');
      return this.#attempt(ctx.log, undefined, entry);
    }
    await this.#deliver(n, ctx.log, entry);
  }

  /** Sends what an instance left behind, now and every half minute. */
  start(): void {
    if (this.#sweeper || this.#closed) return;
    void this.#sweep();
    this.#sweeper = setInterval(() => void this.#sweep(), this.#options.sweepMs ?? SWEEP_MS);
    this.#sweeper.unref();
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#sweeper);
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  // Entries from `late:low` to `late:seq`: each present one is sent when due; the low mark moves
  // past those that are gone, but never past what the previous sweep saw, since an entry whose
  // number was just taken may not be written yet.
  async #sweep(): Promise<void> {
    const { store, log } = this.#options;
    try {
      const seq = (await store.get<number>('late:seq')) ?? 0;
      let low = (await store.get<number>('late:low')) ?? 1;
      const settled = this.#settled;
      this.#settled = seq;
      let movable = true;
      let soonest = Infinity; // the next entry due, so it is tried then rather than at the next sweep
      for (let n = low; n <= Math.min(seq, low + SWEEP_BATCH) && !this.#closed; n++) {
        const entry = await store.get<Entry>(itemKey(n));
        if (!entry && movable && n <= settled) low = n + 1;
        else movable = false;
        if (entry && entry.nextAt <= Date.now()) await this.#deliver(n, log);
        else if (entry) soonest = Math.min(soonest, entry.nextAt);
      }
      await store.set('late:low', low);
      if (soonest < Infinity) this.#later(soonest - Date.now(), () => this.#sweep());
    } catch (error) {
      log.warn({ err: error }, 'late replies: the outbox could not be read; trying again later');
    }
  }

  // One instance at a time sends an entry: the one that claims it. With the store failing, the
  // entry in hand (a reply just made) is sent all the same.
  async #deliver(n: number, log: Logger, known?: Entry): Promise<void> {
    const { store } = this.#options;
    let entry: Entry | undefined;
    try {
      if (!(await store.claim(`late:sending:${n}`, true, SENDING_MS))) return;
      entry = await store.get<Entry>(itemKey(n));
      if (!entry) return; // sent by another instance meanwhile, or purged
    } catch (error) {
      if (!known) throw error;
      log.error({ err: error }, 'late reply: the store failed, sending it from memory');
      entry = known;
    }
    await this.#attempt(log, n, entry);
  }

  async #attempt(log: Logger, n: number | undefined, entry: Entry): Promise<void> {
    const { api, store, users } = this.#options;
    // Sent or given up: out of the outbox. A store failing here leaves the entry, and a later
    // sweep sends it again: logged, since that is the one way a reply goes out twice.
    const done = async () => {
      if (n === undefined) return;
      try {
        await store.forget([itemKey(n)]);
        await users.unlink(entry.openid, itemKey(n));
      } catch (error) {
        log.error({ err: error }, 'late reply: could not be removed from the outbox, and may be sent again');
      }
    };
    if (Date.now() > entry.until) {
      await done();
      return this.#giveUp(log, `not sent within ${Math.round(this.#lifetimeMs / 60_000)} minutes`);
    }
    try {
      await api.sendCustom(entry.openid, entry.message);
    } catch (error) {
      const transient = error instanceof ApiError && (error.errcode === undefined || TRANSIENT.has(error.errcode));
      if (!transient) {
        await done();
        return this.#giveUp(log, error instanceof Error ? error.message : String(error));
      }
      return this.#retryLater(log, n, entry, error);
    }
    await done();
    this.#metrics.lateReply('sent');
    log.info({ reply: entry.message.msgtype, attempts: entry.attempts + 1 }, 'late reply sent as a customer-service message');
  }

  async #retryLater(log: Logger, n: number | undefined, entry: Entry, error: unknown): Promise<void> {
    const delays = this.#options.retryMs ?? RETRY_MS;
    const delay = delays[Math.min(entry.attempts, delays.length - 1)]!;
    const next: Entry = { ...entry, attempts: entry.attempts + 1, nextAt: Date.now() + delay };
    this.#metrics.lateReply('retry');
    if (n !== undefined) {
      await this.#save(n, next).catch(() => {});
      await this.#options.store.delete(`late:sending:${n}`).catch(() => {});
    }
    // Said once the entry is saved for its retry and free for any instance: not before.
    log.warn({ err: error, attempts: next.attempts, retryInMs: delay }, 'late reply not sent yet: will retry');
    this.#later(delay, () => (n === undefined ? this.#attempt(log, n, next) : this.#deliver(n, log, next)));
  }

  // An entry lives in the store until its own end, and the time one instance may hold it past that.
  #save(n: number, entry: Entry): Promise<void> {
    return this.#options.store.set(itemKey(n), entry, entry.until - Date.now() + SENDING_MS);
  }

  // Runs work after delayMs, unless the outbox is closed by then (what is left stays in the store).
  #later(delayMs: number, work: () => Promise<void>): void {
    if (this.#closed) return;
    const timer = setTimeout(
      () => {
        this.#timers.delete(timer);
        work().catch((error: unknown) => this.#options.log.warn({ err: error }, 'late replies: a retry failed'));
      },
      Math.max(0, delayMs),
    );
    timer.unref();
    this.#timers.add(timer);
  }

  #giveUp(log: Logger, reason: string): void {
    this.#metrics.lateReply('given_up');
    log.warn({ reason }, `late reply given up: ${reason}`);
  }
}

const itemKey = (n: number) => `late:item:${n}`;
