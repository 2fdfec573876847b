import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { DownloadedFile, type Json } from './calls.ts';

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

/** The file extensions WeChat takes for each type of temporary media. */
export const MEDIA_EXTENSIONS: Readonly<Record<MediaType, readonly string[]>> = {
  image: ['bmp', 'png', 'jpeg', 'jpg', 'gif'],
  voice: ['mp3', 'wma', 'wav', 'amr'],
  video: ['mp4'],
  thumb: ['jpg', 'jpeg'],
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
    return {
      type,
      mediaId: String(answer.media_id ?? answer.thumb_media_id ?? ''),
      createdAt: Number(answer.created_at ?? Math.floor(Date.now() / 1000)),
    };
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
