import type { Plugin } from '../core/config/bot-config.ts';
import { MediaFiles } from '../core/features/media-files.ts';
import { isFileReply } from '../core/protocol/reply.ts';

/** Options of {@link fileReplies}. */
export interface FileRepliesOptions {
  /** A media_id's lifetime (WeChat's three days); shorter only in tests. */
  lifetimeS?: number;
  /** Uploaded again when less than this is left (6 hours). */
  renewBeforeS?: number;
}

/**
 * Sends replies from files (`{ type: 'image', file: './assets/coupon.png' }`, voice, video, a
 * music thumb): each file is uploaded once as temporary media, its media_id kept in the store for
 * every instance and renewed before it lapses. The files the config names are uploaded at start,
 * so the first push is answered at once; a file only a handler names is uploaded on first use,
 * and if that takes past the deadline the reply goes out late, as a customer-service message.
 * Right after dedupe in the chain, so a retry is answered with the media_id.
 * @example
 * clicks: { COUPON: { type: 'image', file: './assets/coupon.png' } }
 */
export function fileReplies(options: FileRepliesOptions = {}): Plugin {
  let files: MediaFiles | undefined;
  return {
    name: 'file-replies',
    init({ api, store, log, config }) {
      if (!api) return;
      files = new MediaFiles({ api, store, log: log.child({ plugin: 'file-replies' }), ...options });
      void files.preload(config.fileReplies);
    },
    async middleware(ctx, next) {
      await next();
      const reply = ctx.response;
      if (!reply || !isFileReply(reply)) return;
      if (!files) throw new Error('a reply from a file needs WeChat’s API to upload it (WECHAT_APPID, or the emulator)');
      ctx.reply(await files.resolve(reply));
    },
  };
}
