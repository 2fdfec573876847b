import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { MEDIA_LIFETIME_S, type MediaType } from '../api/media.ts';
import type { WechatApi } from '../api/client.ts';
import type { Logger } from '../kernel/log.ts';
import { isFileReply, type FileReply, type NormalReply, type SendableReply } from '../protocol/reply.ts';
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
 * a changed file is a new upload.
 * @example
 * const files = new MediaFiles({ api, store, log })
 * const reply = await files.resolve({ type: 'image', file: './assets/coupon.png' })
 */
export class MediaFiles {
  readonly #options: MediaFilesOptions;
  readonly #known = new Map<string, MediaRecord>(); // record key → record, this process's copy
  readonly #pending = new Map<string, Promise<string>>();
  readonly #digests = new Map<string, Promise<{ key: string; data: Buffer }>>();

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
    const { key, data } = await this.#read(type, path);
    const renewAt = (record: MediaRecord | undefined) => (record?.expiresAt ?? 0) - this.#renewBeforeMs();
    const cached = this.#known.get(key);
    if (cached && Date.now() < renewAt(cached)) return cached.mediaId;
    let pending = this.#pending.get(key);
    if (!pending) {
      pending = this.#fetch(type, path, key, data, renewAt).finally(() => this.#pending.delete(key));
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

  // The file's bytes and its record's key: by type and content.
  #read(type: MediaType, path: string): Promise<{ key: string; data: Buffer }> {
    const at = resolve(path);
    let read = this.#digests.get(`${type}:${at}`);
    if (!read) {
      read = readFile(at).then((data) => ({ key: `media:${type}:${createHash('sha256').update(data).digest('hex').slice(0, 32)}`, data }));
      read.catch(() => this.#digests.delete(`${type}:${at}`));
      this.#digests.set(`${type}:${at}`, read);
    }
    return read;
  }

  async #fetch(type: MediaType, path: string, key: string, data: Buffer, renewAt: (r: MediaRecord | undefined) => number): Promise<string> {
    const { api, store, log } = this.#options;
    const shared = await store.get<MediaRecord>(key);
    if (shared && Date.now() < renewAt(shared)) return this.#keep(key, shared);
    // Another instance uploading it: wait for its record rather than upload the same file twice.
    if (!(await store.claim(`${key}:claim`, Date.now(), 60_000))) {
      for (let waited = 0; waited < 10_000; waited += 100) {
        await new Promise((r) => setTimeout(r, 100));
        const record = await store.get<MediaRecord>(key);
        if (record && Date.now() < renewAt(record)) return this.#keep(key, record);
      }
    }
    try {
      const uploaded = await api.media.upload(type, { data, filename: basename(path) });
      const lifetimeMs = (this.#options.lifetimeS ?? MEDIA_LIFETIME_S) * 1000;
      const record = { mediaId: uploaded.mediaId, expiresAt: uploaded.createdAt * 1000 + lifetimeMs };
      await store.set(key, record, Math.max(1000, record.expiresAt - Date.now()));
      log.info({ type, file: basename(path) }, `file reply: ${basename(path)} uploaded as temporary media`);
      return this.#keep(key, record);
    } finally {
      await store.delete(`${key}:claim`).catch(() => undefined);
    }
  }

  #keep(key: string, record: MediaRecord): string {
    this.#known.set(key, record);
    return record.mediaId;
  }
}

const fileOf = (reply: FileReply) => ('thumbFile' in reply ? reply.thumbFile : reply.file);
