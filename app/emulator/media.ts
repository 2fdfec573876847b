import { randomBytes } from 'node:crypto';
import { MEDIA_LIMITS, type MediaType } from '../../core/api/media.ts';
import { error, type Json } from './answers.ts';

/** A temporary media the emulator holds. */
export interface EmulatedMedia {
  type: string;
  bytes: Uint8Array;
  filename: string;
  contentType: string;
  /** Epoch ms. */
  createdAt: number;
}

// WeChat's rules for temporary media (the client's table, MEDIA_LIMITS), and the errcode of a file
// over its size: 40009 image, 40010 voice, 40011 video, 40012 thumb.
const SIZE_CODES: Record<MediaType, number> = { image: 40009, voice: 40010, video: 40011, thumb: 40012 };
const CONTENT_TYPES: Record<MediaType, string> = { image: 'image/jpeg', voice: 'audio/mpeg', video: 'video/mp4', thumb: 'image/jpeg' };

/** Temporary media: media/upload takes a multipart `media` file, media/get gives it back for three days. */
export class EmulatedMediaStore {
  readonly #media = new Map<string, EmulatedMedia>();
  readonly #lifetimeMs: number;
  /** Uploads received, lapsed ones included: a test can count them. */
  uploads = 0;

  constructor(lifetimeSeconds: number) {
    this.#lifetimeMs = lifetimeSeconds * 1000;
  }

  /** Whether a media_id names a media that has not lapsed. */
  has(mediaId: unknown): boolean {
    const media = typeof mediaId === 'string' ? this.#media.get(mediaId) : undefined;
    return media !== undefined && Date.now() - media.createdAt < this.#lifetimeMs;
  }

  async upload(type: unknown, form: FormData | undefined): Promise<Json> {
    if (typeof type !== 'string' || !Object.hasOwn(MEDIA_LIMITS, type)) return error(40004, 'invalid media type');
    const file = form?.get('media');
    if (!file || typeof file === 'string') return error(41005, 'media data missing');
    return this.#take(type as MediaType, file);
  }

  /** media/get: the bytes, or for a video its URL. */
  get(query: Json): Json | EmulatedMedia {
    if (!this.has(query.media_id)) return error(40007, 'invalid media_id');
    const media = this.#media.get(query.media_id as string)!;
    if (media.type === 'video') return { video_url: `http://emulator.invalid/video/${query.media_id}` };
    return media;
  }

  async #take(type: MediaType, file: File): Promise<Json> {
    const extension = file.name.split('.').pop()?.toLowerCase() ?? '';
    const rule = MEDIA_LIMITS[type];
    if (!rule.extensions.includes(extension)) return error(40005, 'invalid file type');
    if (file.size === 0 || file.size > rule.maxBytes) return error(SIZE_CODES[type], 'invalid file size');
    this.uploads++;
    const mediaId = randomBytes(32).toString('base64url');
    const createdAt = Date.now();
    const bytes = new Uint8Array(await file.arrayBuffer());
    this.#media.set(mediaId, { type, bytes, filename: file.name, contentType: file.type || CONTENT_TYPES[type], createdAt });
    const id = type === 'thumb' ? { thumb_media_id: mediaId } : { media_id: mediaId };
    return { type, ...id, created_at: Math.floor(createdAt / 1000) };
  }
}
