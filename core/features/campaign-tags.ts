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

/**
 * Puts campaign tags on users off the push's path: OpenIDs wait a moment to be sent together, in
 * batchtagging calls of at most 50 per tag. A batch WeChat refuses as a whole (a user in it has
 * left) is tried one by one, so the others are still tagged; one who unfollowed before their batch
 * left is dropped from it.
 * @example
 * const tagger = new CampaignTagger({ api, log }); tagger.add('o…', '春季海报'); await tagger.close()
 */
export class CampaignTagger {
  readonly #options: TaggerOptions;
  readonly #tagIds: TagIds;
  readonly #waiting = new Map<string, Set<string>>(); // tag name → OpenIDs
  #timer: NodeJS.Timeout | undefined;
  #sending: Promise<void> = Promise.resolve();

  constructor(options: TaggerOptions) {
    this.#options = options;
    this.#tagIds = new TagIds(options.api);
  }

  /** Queues a user for a tag; a full batch leaves at once, others after flushMs. */
  add(openid: string, tag: string): void {
    let openids = this.#waiting.get(tag);
    if (!openids) this.#waiting.set(tag, (openids = new Set()));
    openids.add(openid);
    if (openids.size >= TAG_LIMITS.perBatch) this.#flushSoon(0);
    else this.#flushSoon(this.#options.flushMs ?? 200);
  }

  /** Drops a user who unfollowed from every batch not yet sent. */
  forget(openid: string): void {
    for (const openids of this.#waiting.values()) openids.delete(openid);
  }

  /** Sends what is waiting, and waits for what is being sent. */
  async close(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#flush();
  }

  #flushSoon(delayMs: number): void {
    if (this.#timer && delayMs > 0) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#flush();
    }, delayMs);
    this.#timer.unref();
  }

  // One batch after another, so calls to WeChat stay few and in order.
  #flush(): Promise<void> {
    const batches: [string, string[]][] = [];
    for (const [tag, openids] of this.#waiting) {
      const all = [...openids];
      for (let i = 0; i < all.length; i += TAG_LIMITS.perBatch) batches.push([tag, all.slice(i, i + TAG_LIMITS.perBatch)]);
    }
    this.#waiting.clear();
    this.#sending = this.#sending.then(async () => {
      for (const [tag, openids] of batches) await this.#send(tag, openids);
    });
    return this.#sending;
  }

  async #send(tag: string, openids: string[]): Promise<void> {
    const { api, log } = this.#options;
    const delays = this.#options.retryMs ?? [1000, 5000, 30_000];
    for (let attempt = 0; ; attempt++) {
      try {
        await api.tags.tag(await this.#tagIds.idOf(tag), openids);
        log.debug({ tag, users: openids.length }, 'campaign tag: users tagged');
        return;
      } catch (error) {
        const delay = delays[attempt];
        const transient = error instanceof ApiError && (error.errcode === -1 || error.errcode === undefined);
        if (transient && delay !== undefined) {
          await new Promise((resolve) => setTimeout(resolve, delay).unref());
          continue;
        }
        if (error instanceof ApiError && error.errcode !== undefined && openids.length > 1) {
          // One OpenID refused (a user who left) refuses the call: the others are tagged one by one.
          for (const openid of openids) await this.#send(tag, [openid]);
          return;
        }
        log.warn({ tag, users: openids.length, err: error }, `campaign tag: not applied (${(error as Error).message})`);
        return;
      }
    }
  }
}
