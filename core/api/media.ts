import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { DownloadedFile, type Json } from './calls.ts';
import { ApiError } from './errors.ts';

/** The kinds of temporary media: what a reply or a customer-service message refers to by media_id. */
export type MediaType = 'image' | 'voice' | 'video' | 'thumb';

/** What media/upload answers. */
export interface UploadedMedia {
  type: MediaType;
  /** For three days. A thumb's id comes as thumb_media_id, given here too. */
  mediaId: string;
  /** When WeChat took it, in seconds: the id lapses three days later. */
  createdAt: number;
}

/**
 * What WeChat takes as temporary media of each type: the file's extension and its size (over it:
 * 40009 image, 40010 voice, 40011 video, 40012 thumb). Permanent material takes more; these are
 * the temporary ones'.
 */
export const MEDIA_LIMITS: Readonly<Record<MediaType, { extensions: readonly string[]; maxBytes: number }>> = {
  image: { extensions: ['png', 'jpeg', 'jpg', 'gif'], maxBytes: 10 << 20 },
  voice: { extensions: ['amr', 'mp3'], maxBytes: 2 << 20 },
  video: { extensions: ['mp4'], maxBytes: 10 << 20 },
  thumb: { extensions: ['jpg'], maxBytes: 64 << 10 },
};

/** A temporary media_id's lifetime: three days from its upload. */
export const MEDIA_LIFETIME_S = 3 * 24 * 3600;

/** What the media family needs of the client. */
export interface MediaCalls {
  upload(path: string, form: FormData, query?: Record<string, string>): Promise<Json>;
  download(path: string, query?: Record<string, string>): Promise<Json | DownloadedFile>;
}

/**
 * Temporary media (临时素材): uploaded for three days, for replies and messages that take a media_id.
 * @example
 * const { mediaId } = await api.media.uploadFile('image', './assets/coupon.png')
 * ctx.reply({ type: 'image', mediaId })
 */
export class MediaApi {
  readonly #api: MediaCalls;

  constructor(api: MediaCalls) {
    this.#api = api;
  }

  /** Uploads bytes as a file of this name; WeChat goes by its extension (png, jpg, mp3, amr, mp4, …). */
  async upload(type: MediaType, file: { data: Uint8Array; filename: string; contentType?: string }): Promise<UploadedMedia> {
    const form = new FormData();
    form.set('media', new Blob([file.data], file.contentType ? { type: file.contentType } : {}), file.filename);
    const answer = await this.#api.upload('media/upload', form, { type });
    const mediaId = answer.media_id ?? answer.thumb_media_id;
    if (typeof mediaId !== 'string' || mediaId === '') throw new ApiError('media/upload', undefined, 'no media_id in the answer');
    return { type, mediaId, createdAt: Number(answer.created_at ?? Math.floor(Date.now() / 1000)) };
  }

  /** Reads a file and uploads it under its own name. */
  async uploadFile(type: MediaType, path: string): Promise<UploadedMedia> {
    return this.upload(type, { data: await readFile(path), filename: basename(path) });
  }

  /** A temporary media's bytes; a video's comes as the URL WeChat serves it from. */
  async get(mediaId: string): Promise<DownloadedFile | { videoUrl: string }> {
    const answer = await this.#api.download('media/get', { media_id: mediaId });
    if (answer instanceof DownloadedFile) return answer;
    return { videoUrl: String(answer.video_url ?? '') };
  }
}
