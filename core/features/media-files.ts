import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { LRUCache } from 'lru-cache';
import { ApiError } from '../api/errors.ts';
import { basename, resolve } from 'node:path';
import { MEDIA_LIFETIME_S, type MediaType } from '../api/media.ts';
import type { WechatApi } from '../api/client.ts';
import type { Logger } from '../kernel/log.ts';
import { isFileReply, type FileReply, type NormalReply, type SendableReply } from '../protocol/reply.ts';
import { ownedClaim } from '../state/owned-claim.ts';
import type { Store } from '../state/store.ts';

/** Options of {@link MediaFiles}. */
export interface MediaFilesOptions {
  api: WechatApi;
  store: Store;
  log: Logger;
  /** A media_id's lifetime: WeChat's three days. */
  lifetimeS?: number;
  /** Uploaded again when less than this is left (6 hours): no reply ever names a lapsed id. */
  renewBeforeS?: number;
}

/** A file's media_id, as the store keeps it for every instance. */
interface MediaRecord {
  mediaId: string;
  /** Epoch ms. */
  expiresAt: number;
}

/**
 * The media_id of each file a reply names: uploaded once as temporary media, kept in the store
 * for its lifetime so every instance shares it, and uploaded again before it lapses. One upload
 * per file at a time across instances (a claim in the store); a file is known by its content, so
 * a changed file (another size or modification time) is a new upload. An upload WeChat refused
 * is not tried again for a minute.
 * @example
 * const files = new MediaFiles({ api, store, log })
 * const reply = await files.resolve({ type: 'image', file: './assets/coupon.png' })
 */
export class MediaFiles {
  readonly #options: MediaFilesOptions;
  // Bounded: a handler may name a file per user.
  readonly #known = new LRUCache<string, MediaRecord>({ max: 1000 }); // record key → record, this process's copy
  readonly #refused = new LRUCache<string, ApiError>({ max: 1000, ttl: 60_000 });
  readonly #pending = new Map<string, Promise<string>>();
  readonly #digests = new LRUCache<string, string>({ max: 1000 }); // type, path, size and mtime → record key

  constructor(options: MediaFilesOptions) {
    this.#options = options;
  }

  /** The reply with its file replaced by the file's media_id (uploading it if need be). */
  async resolve(reply: FileReply): Promise<SendableReply> {
    if ('thumbFile' in reply) {
      const { thumbFile, ...rest } = reply;
      return { ...rest, thumbMediaId: await this.mediaIdOf('thumb', thumbFile) };
    }
    const { file, ...rest } = reply;
    return { ...rest, mediaId: await this.mediaIdOf(reply.type, file) } as SendableReply;
  }

  /** A file's media_id, valid for a while yet. */
  async mediaIdOf(type: MediaType, path: string): Promise<string> {
    const at = resolve(path);
    const key = await this.#keyOf(type, at);
    const renewAt = (record: MediaRecord | undefined) => (record?.expiresAt ?? 0) - this.#renewBeforeMs();
    const cached = this.#known.get(key);
    if (cached && Date.now() < renewAt(cached)) return cached.mediaId;
    const refused = this.#refused.get(key);
    if (refused) throw refused;
    let pending = this.#pending.get(key);
    if (!pending) {
      pending = this.#fetch(type, at, key, renewAt).finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
    }
    return pending;
  }

  /** Uploads what these replies name, ahead of the first push that needs them; failures are logged. */
  async preload(replies: readonly NormalReply[]): Promise<void> {
    for (const reply of replies) {
      if (!isFileReply(reply)) continue;
      await this.resolve(reply).catch((error: unknown) =>
        this.#options.log.warn({ err: error }, `file reply: ${fileOf(reply)} not uploaded yet (${(error as Error).message})`),
      );
    }
  }

  #renewBeforeMs(): number {
    return (this.#options.renewBeforeS ?? 6 * 3600) * 1000;
  }

  // The record's key of a file: its type and a hash of its content, read again when its size or
  // modification time changes.
  async #keyOf(type: MediaType, at: string): Promise<string> {
    const { size, mtimeMs } = await stat(at);
    const version = `${type}:${size}:${mtimeMs}:${at}`;
    let key = this.#digests.get(version);
    if (!key) {
      key = `media:${type}:${createHash('sha256')
        .update(await readFile(at))
        .digest('hex')
        .slice(0, 32)}`;
      this.#digests.set(version, key);
    }
    return key;
  }

  async #fetch(type: MediaType, at: string, key: string, renewAt: (r: MediaRecord | undefined) => number): Promise<string> {
    const { api, store, log } = this.#options;
    const shared = await store.get<MediaRecord>(key);
    if (shared && Date.now() < renewAt(shared)) return this.#keep(key, shared);
    // Another instance uploading it: wait for its record rather than upload the same file twice.
    const claim = await ownedClaim(store, `${key}:claim`, 60_000);
    if (!claim.held) {
      for (let waited = 0; waited < 10_000; waited += 100) {
        await new Promise((r) => setTimeout(r, 100));
        const record = await store.get<MediaRecord>(key);
        if (record && Date.now() < renewAt(record)) return this.#keep(key, record);
      }
    }
    try {
      const uploaded = await api.media.upload(type, { data: await readFile(at), filename: basename(at) });
      const lifetimeMs = (this.#options.lifetimeS ?? MEDIA_LIFETIME_S) * 1000;
      const record = { mediaId: uploaded.mediaId, expiresAt: uploaded.createdAt * 1000 + lifetimeMs };
      await store.set(key, record, Math.max(1000, record.expiresAt - Date.now()));
      log.info({ type, file: basename(at) }, `file reply: ${basename(at)} uploaded as temporary media`);
      return this.#keep(key, record);
    } catch (error) {
      if (error instanceof ApiError && error.errcode !== undefined && error.errcode !== -1) this.#refused.set(key, error);
      throw error;
    } finally {
      await claim.release().catch(() => undefined);
    }
  }

  #keep(key: string, record: MediaRecord): string {
    this.#known.set(key, record);
    return record.mediaId;
  }
}

const fileOf = (reply: FileReply) => ('thumbFile' in reply ? reply.thumbFile : reply.file);
