import { cdata } from './xml.ts';

/** One article of a news reply. WeChat shows only the first since 2018. */
export interface Article {
  title: string;
  description?: string;
  picUrl?: string;
  url?: string;
}

/**
 * A passive reply. A string is a text reply.
 * @example
 * ctx.reply('欢迎关注')
 * ctx.reply({ type: 'news', articles: [{ title: 'Spring sale', url: 'https://…' }] })
 */
export type Reply =
  | string
  | { type: 'text'; content: string }
  | { type: 'image'; mediaId: string }
  | { type: 'voice'; mediaId: string }
  | { type: 'video'; mediaId: string; title?: string; description?: string }
  | {
      type: 'music';
      thumbMediaId: string;
      title?: string;
      description?: string;
      musicUrl?: string;
      hqMusicUrl?: string;
    }
  | { type: 'news'; articles: readonly Article[] }
  | { type: 'transfer_customer_service'; kfAccount?: string }
  | FileReply;

/**
 * A reply whose media is a file of this machine (a path, relative to the folder the bot runs in):
 * uploaded once as temporary media, then sent by its media_id.
 * @example
 * ctx.reply({ type: 'image', file: './assets/coupon.png' })
 */
export type FileReply =
  | { type: 'image' | 'voice'; file: string }
  | { type: 'video'; file: string; title?: string; description?: string }
  | { type: 'music'; thumbFile: string; title?: string; description?: string; musicUrl?: string; hqMusicUrl?: string };

/** A reply with its string shorthand expanded. */
export type NormalReply = Exclude<Reply, string>;

/** A reply that can be sent as it is: its media named by a media_id. */
export type SendableReply = Exclude<NormalReply, FileReply>;

/** Whether a reply names a file still to be uploaded. */
export function isFileReply(reply: NormalReply): reply is FileReply {
  return 'file' in reply || 'thumbFile' in reply;
}

/** Thrown for a reply WeChat would reject, so the bad reply is logged instead of sent. */
export class ReplyError extends Error {
  override name = 'ReplyError';
}

/** Who the reply goes to: the push's parties, swapped by {@link renderReply}. */
export interface Envelope {
  /** The user's OpenID (the push's FromUserName). */
  user: string;
  /** The account id (the push's ToUserName). */
  account: string;
  /** Seconds. */
  createTime: number;
}

/**
 * Expands and checks a reply; `undefined` means "answer success".
 * @example
 * normalizeReply('hi') // { type: 'text', content: 'hi' }
 * normalizeReply({ type: 'news', articles: [] }) // throws ReplyError
 */
export function normalizeReply(reply: Reply | undefined | null): NormalReply | undefined {
  if (reply === undefined || reply === null) return undefined;
  const normal: NormalReply = typeof reply === 'string' ? { type: 'text', content: reply } : reply;
  if (typeof normal !== 'object') throw new ReplyError(`a reply is a string or an object, not ${typeof normal}`);
  switch (normal.type) {
    case 'text':
      text(normal.content, 'a text reply needs content');
      break;
    case 'image':
    case 'voice':
      text('file' in normal ? normal.file : normal.mediaId, `a ${normal.type} reply needs a mediaId or a file`);
      break;
    case 'video':
      text('file' in normal ? normal.file : normal.mediaId, 'a video reply needs a mediaId or a file');
      optionalTexts(normal, ['title', 'description'], 'video');
      break;
    case 'music':
      text('thumbFile' in normal ? normal.thumbFile : normal.thumbMediaId, 'a music reply needs a thumbMediaId or a thumbFile');
      optionalTexts(normal, ['title', 'description', 'musicUrl', 'hqMusicUrl'], 'music');
      break;
    case 'news':
      if (!Array.isArray(normal.articles) || normal.articles.length < 1 || normal.articles.length > 8) {
        throw new ReplyError('a news reply holds 1 to 8 articles');
      }
      for (const article of normal.articles) {
        text(article?.title, 'every news article needs a title');
        optionalTexts(article, ['description', 'picUrl', 'url'], 'news article');
      }
      break;
    case 'transfer_customer_service':
      optionalTexts(normal, ['kfAccount'], 'transfer_customer_service');
      break;
    default:
      throw new ReplyError(`unknown reply type ${String((normal as { type?: unknown }).type)}`);
  }
  return normal;
}

function text(value: unknown, message: string): void {
  if (typeof value !== 'string' || value === '') throw new ReplyError(message);
}

function optionalTexts(reply: object, fields: string[], what: string): void {
  for (const field of fields) {
    const value = (reply as Record<string, unknown>)[field];
    if (value !== undefined && typeof value !== 'string') throw new ReplyError(`${what}.${field} must be a string`);
  }
}

const optional = (name: string, value: string | undefined) => (value === undefined ? '' : `<${name}>${cdata(value)}</${name}>`);

function body(reply: SendableReply): string {
  switch (reply.type) {
    case 'text':
      return `<Content>${cdata(reply.content)}</Content>`;
    case 'image':
      return `<Image><MediaId>${cdata(reply.mediaId)}</MediaId></Image>`;
    case 'voice':
      return `<Voice><MediaId>${cdata(reply.mediaId)}</MediaId></Voice>`;
    case 'video':
      return `<Video><MediaId>${cdata(reply.mediaId)}</MediaId>${optional('Title', reply.title)}${optional('Description', reply.description)}</Video>`;
    case 'music':
      return (
        `<Music>${optional('Title', reply.title)}${optional('Description', reply.description)}` +
        `${optional('MusicUrl', reply.musicUrl)}${optional('HQMusicUrl', reply.hqMusicUrl)}` +
        `<ThumbMediaId>${cdata(reply.thumbMediaId)}</ThumbMediaId></Music>`
      );
    case 'news':
      return (
        `<ArticleCount>${reply.articles.length}</ArticleCount><Articles>` +
        reply.articles
          .map(
            (a) =>
              `<item><Title>${cdata(a.title)}</Title><Description>${cdata(a.description ?? '')}</Description>` +
              `<PicUrl>${cdata(a.picUrl ?? '')}</PicUrl><Url>${cdata(a.url ?? '')}</Url></item>`,
          )
          .join('') +
        '</Articles>'
      );
    case 'transfer_customer_service':
      return reply.kfAccount ? `<TransInfo><KfAccount>${cdata(reply.kfAccount)}</KfAccount></TransInfo>` : '';
  }
}

/**
 * Renders a passive reply: ToUserName is the user, FromUserName the account, CreateTime in seconds.
 * @example
 * renderReply({ type: 'text', content: 'hi' }, { user: 'o…', account: 'gh_…', createTime: 1700000000 })
 */
export function renderReply(reply: NormalReply, to: Envelope): string {
  if (isFileReply(reply)) throw new ReplyError('a file reply is sent once its file is uploaded (the file-replies plugin does it)');
  return (
    `<xml><ToUserName>${cdata(to.user)}</ToUserName><FromUserName>${cdata(to.account)}</FromUserName>` +
    `<CreateTime>${Math.floor(to.createTime)}</CreateTime><MsgType>${cdata(reply.type)}</MsgType>${body(reply)}</xml>`
  );
}
