import { ApiError, type WechatApi } from '../api/client.ts';
import { TAG_LIMITS } from '../api/tags.ts';
import type { Logger } from '../kernel/log.ts';
import { TagIds } from './tag-ids.ts';

/** Options of {@link CampaignTagger}. */
export interface TaggerOptions {
  api: WechatApi;
  log: Logger;
  /** How long an OpenID waits for others to join its batch (200 ms). */
  flushMs?: number;
  /** Delays before a batch WeChat refused with -1 (busy), or could not be reached for, is tried again. */
  retryMs?: readonly number[];
}

/** Users waiting to be tagged, at most: beyond, during a long outage, new ones are dropped and logged. */
const MAX_WAITING = 100_000;
// Codes that refuse one user of a batch (not a follower, not of this account, 20 tags already):
// the others are then tagged one by one.
const PER_USER = new Set([40003, 43004, 49003, 45059]);

/**
 * Puts campaign tags on users off the push's path: OpenIDs wait a moment to be sent together, in
 * batchtagging calls of at most 50 per tag, one call at a time. A batch WeChat refuses because of
 * one user (one who left) is tried one by one, so the others are still tagged; a tag someone
 * deleted (45159) is found or made again; -1 and no answer are tried again. One who unfollowed
 * before their batch left is dropped from it.
 * @example
 * const tagger = new CampaignTagger({ api, log }); tagger.add('o…', '春季海报'); await tagger.close()
 */
export class CampaignTagger {
  readonly #options: TaggerOptions;
  readonly #tagIds: TagIds;
  readonly #waiting = new Map<string, Set<string>>(); // tag name → OpenIDs, merged while a call is out
  #count = 0;
  #timer: NodeJS.Timeout | undefined;
  #pumping: Promise<void> | undefined;
  #dropped = 0;
  #closing = false;

  constructor(options: TaggerOptions) {
    this.#options = options;
    this.#tagIds = new TagIds(options.api);
  }

  /** Queues a user for a tag; a full batch leaves at once, others after flushMs. */
  add(openid: string, tag: string): void {
    let openids = this.#waiting.get(tag);
    if (!openids) this.#waiting.set(tag, (openids = new Set()));
    if (openids.has(openid)) return;
    if (this.#count >= MAX_WAITING) {
      if (this.#dropped++ % 1000 === 0)
        this.#options.log.error({ tag, dropped: this.#dropped }, 'campaign tag: too many users waiting, not tagged');
      return;
    }
    openids.add(openid);
    this.#count++;
    this.#flushSoon(openids.size >= TAG_LIMITS.perBatch ? 0 : (this.#options.flushMs ?? 200));
  }

  /** Drops a user who unfollowed from every batch not yet sent. */
  forget(openid: string): void {
    for (const openids of this.#waiting.values()) if (openids.delete(openid)) this.#count--;
  }

  /** Sends what is waiting, and waits for what is being sent. */
  async close(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#closing = true;
    await this.#pump();
  }

  #flushSoon(delayMs: number): void {
    if (this.#pumping) return; // the running pump takes what arrives
    if (this.#timer && delayMs > 0) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#pump();
    }, delayMs);
    this.#timer.unref();
  }

  // One call after another, each taking up to 50 of one tag's waiting users, until none wait.
  // Between calls, a batch that is not full waits flushMs for others to join it.
  #pump(): Promise<void> {
    this.#pumping ??= (async () => {
      for (let first = true; ; first = false) {
        const full = [...this.#waiting.values()].some((openids) => openids.size >= TAG_LIMITS.perBatch);
        if (!first && !full && !this.#closing) await new Promise((resolve) => setTimeout(resolve, this.#options.flushMs ?? 200).unref());
        const next = this.#take();
        if (!next) return;
        await this.#send(next[0], next[1]);
      }
    })().finally(() => {
      this.#pumping = undefined;
      if (this.#count > 0) this.#flushSoon(0); // what came while the last call was out
    });
    return this.#pumping;
  }

  #take(): [string, string[]] | undefined {
    for (const [tag, openids] of this.#waiting) {
      const batch: string[] = [];
      for (const openid of openids) {
        if (batch.length === TAG_LIMITS.perBatch) break;
        batch.push(openid);
      }
      for (const openid of batch) openids.delete(openid);
      if (openids.size === 0) this.#waiting.delete(tag);
      this.#count -= batch.length;
      if (batch.length > 0) return [tag, batch];
    }
    return undefined;
  }

  async #send(tag: string, openids: string[]): Promise<void> {
    const { api, log } = this.#options;
    const delays = this.#options.retryMs ?? [1000, 5000, 30_000];
    for (let attempt = 0, reresolved = false; ; attempt++) {
      try {
        await api.tags.tag(await this.#tagIds.idOf(tag), openids);
        log.debug({ tag, users: openids.length }, 'campaign tag: users tagged');
        return;
      } catch (error) {
        const errcode = error instanceof ApiError ? error.errcode : undefined;
        const delay = delays[attempt];
        // Shutting down, a call is not waited for again: the process must stop in its time.
        if ((errcode === -1 || errcode === undefined) && delay !== undefined && !this.#closing) {
          await new Promise((resolve) => setTimeout(resolve, delay).unref());
          continue;
        }
        if (errcode === 45159 && !reresolved) {
          reresolved = true;
          this.#tagIds.forget(tag);
          continue;
        }
        if (errcode !== undefined && PER_USER.has(errcode) && openids.length > 1) {
          for (const openid of openids) await this.#send(tag, [openid]);
          return;
        }
        log.warn({ tag, users: openids.length, err: error }, `campaign tag: not applied (${(error as Error).message})`);
        return;
      }
    }
  }
}
