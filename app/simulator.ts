import { hash, randomBytes } from 'node:crypto';
import { WechatCrypto } from '../core/protocol/crypto.ts';
import { sign } from '../core/protocol/signature.ts';
import { cdata, parseXml, type XmlObject } from '../core/protocol/xml.ts';

/**
 * What the simulator can do as a WeChat user: every button type of the menu, every message a
 * person sends, following and scanning. Each kind's fields are strings.
 */
export type SimulatedAction = {
  [K in ActionKind]: { kind: K } & { [F in keyof (typeof ACTIONS)[K]['fields'] as F extends string ? F : never]?: string } & {
    [F in RequiredField<K>]: string;
  };
}[ActionKind];
type ActionKind = keyof typeof ACTIONS;
type RequiredField<K extends ActionKind> = {
  [F in keyof (typeof ACTIONS)[K]['fields']]: (typeof ACTIONS)[K]['fields'][F] extends true ? F : never;
}[keyof (typeof ACTIONS)[K]['fields']];

/**
 * Each action: its fields (true: required), the one given as the CLI's argument, its help, and
 * the pushes WeChat sends for it, in order. After a photo or location button WeChat also pushes
 * the image or location message itself, so those actions are two pushes.
 */
const ACTIONS = {
  subscribe: { fields: { scene: false }, help: "follow (through a campaign's code with --scene)" },
  scan: { fields: { scene: true }, help: "scan a campaign's code as a follower" },
  unsubscribe: { fields: {}, help: 'unfollow' },
  text: { fields: { text: true }, argument: 'text', help: 'send a text message' },
  image: { fields: {}, help: 'send a photo' },
  voice: { fields: { recognition: false }, help: 'send a voice message (--recognition: what WeChat heard)' },
  video: { fields: {}, help: 'send a video' },
  location: { fields: { latitude: true, longitude: true, label: false }, help: 'send a location' },
  link: { fields: { url: true, title: false }, argument: 'url', help: 'send a link (a favourite)' },
  click: { fields: { key: true }, argument: 'key', help: 'tap a menu click button' },
  view: { fields: { url: true }, argument: 'url', help: 'open a menu link' },
  view_miniprogram: { fields: { path: true }, argument: 'path', help: 'open a menu mini-program button' },
  scancode_push: { fields: { key: true, result: true }, argument: 'key', help: 'scan with a menu button (--result: what was scanned)' },
  scancode_waitmsg: {
    fields: { key: true, result: true },
    argument: 'key',
    help: 'scan with a menu button that waits for the answer',
  },
  pic_sysphoto: { fields: { key: true }, argument: 'key', help: 'take a photo with a menu button; the photo follows' },
  pic_photo_or_album: { fields: { key: true }, argument: 'key', help: 'send a photo or one from the album; the photo follows' },
  pic_weixin: { fields: { key: true }, argument: 'key', help: "send a photo from WeChat's album; the photo follows" },
  location_select: {
    fields: { key: true, latitude: true, longitude: true, label: false },
    argument: 'key',
    help: 'send a location with a menu button; the location follows',
  },
} as const satisfies Record<string, { fields: Record<string, boolean>; argument?: string; help: string }>;

/** The actions, with their fields, for the CLI's usage and the console. */
export const ACTION_KINDS = Object.keys(ACTIONS) as ActionKind[];

/** One line of usage per action: `click <key>`, `location --latitude <…> --longitude <…> [--label <…>]`. */
export function actionUsage(kind: ActionKind): { usage: string; help: string } {
  const spec: { fields: Record<string, boolean>; argument?: string; help: string } = ACTIONS[kind];
  const parts = Object.entries(spec.fields).map(([field, required]) => {
    const shown = field === spec.argument ? `<${field}${field === 'text' ? '…' : ''}>` : `--${field} <${field}>`;
    return required ? shown : `[${shown}]`;
  });
  return { usage: [kind, ...parts].join(' '), help: spec.help };
}

/** The field given as the CLI's argument (`click TODAY`), if the action has one. */
export function argumentOf(kind: ActionKind): string | undefined {
  return (ACTIONS[kind] as { argument?: string }).argument;
}

// Limits: WeChat's own where it has them (a scene_str 64 characters, a menu key 128 bytes).
const MAX_LENGTH: Record<string, number> = { scene: 64, key: 128, url: 1024, path: 1024, text: 2048, recognition: 2048, result: 2048 };
const NUMBER = /^-?\d{1,3}(\.\d{1,8})?$/;

/**
 * Checks an action that came from outside (the console's JSON, the CLI's words): the kind is one
 * of {@link SimulatedAction}'s, each field a string of bounded length (a scene may be a number,
 * as campaign scenes are; a latitude and longitude are decimal degrees). Otherwise a short message
 * naming the field.
 * @example
 * parseAction({ kind: 'click', key: 'TODAY' }) // { action: { kind: 'click', key: 'TODAY' } }
 * parseAction({ kind: 'click', key: 42 }) // { error: 'action.key must be a string of 1 to 128 characters' }
 */
export function parseAction(input: unknown): { action: SimulatedAction } | { error: string } {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return { error: 'action must be an object with a kind' };
  const given = input as Record<string, unknown>;
  const kinds = new Map<string, Record<string, boolean>>(Object.entries(ACTIONS).map(([kind, spec]) => [kind, spec.fields]));
  const fields = typeof given.kind === 'string' ? kinds.get(given.kind) : undefined;
  if (!fields) return { error: `action.kind must be one of ${[...kinds.keys()].join(', ')}` };
  const action: Record<string, string> = { kind: given.kind as string };
  for (const [name, required] of Object.entries(fields)) {
    let value = given[name];
    if (value === undefined && !required) continue;
    if (name === 'scene' && Number.isSafeInteger(value) && (value as number) >= 0) value = String(value);
    if (name === 'latitude' || name === 'longitude') {
      if (typeof value === 'number' && Number.isFinite(value)) value = String(value);
      if (typeof value !== 'string' || !NUMBER.test(value)) return { error: `action.${name} must be decimal degrees, as 23.1291` };
    }
    const max = MAX_LENGTH[name] ?? 256;
    if (typeof value !== 'string' || value.length === 0 || value.length > max) {
      return { error: `action.${name} must be a string of 1 to ${max} characters${name === 'scene' ? ' or a number' : ''}` };
    }
    action[name] = value;
  }
  return { action: action as unknown as SimulatedAction };
}

/** Options of {@link simulate}. */
export interface SimulateOptions {
  /** The bot's callback URL, e.g. http://localhost:3000/wechat. */
  url: string;
  token: string;
  /** The user's OpenID. */
  user: string;
  /** The account id the push is addressed to. */
  account?: string;
  /** Safe mode: encrypt the push and decrypt the reply. */
  aes?: { appId: string; encodingAESKey: string };
}

/** The bot's answer, decoded. */
export interface SimulatedReply {
  status: number;
  /** 'success' or empty means no reply. */
  raw: string;
  /** The reply's fields (decrypted in safe mode), when it is a reply. */
  reply?: XmlObject;
}

/**
 * The XML WeChat pushes for a user's action, in order: one push, or two after a photo or location
 * button (the button's event, then the message).
 * @example
 * pushesFor({ kind: 'subscribe', scene: 'spring' }, 'oUser', 'gh_x') // […<EventKey>qrscene_spring</EventKey>…]
 */
export function pushesFor(action: SimulatedAction, user: string, account: string, createTime = Math.floor(Date.now() / 1000)): string[] {
  const head = { ToUserName: account, FromUserName: user, CreateTime: String(createTime) };
  const event = (name: string, key: string, more: Record<string, Field> = {}) => ({
    ...head,
    MsgType: 'event',
    Event: name,
    EventKey: key,
    ...more,
  });
  const message = (type: string, more: Record<string, Field>) => ({ ...head, MsgType: type, ...more, MsgId: messageId() });
  const id = () => randomBytes(8).toString('hex');
  const photo = (mediaId = `simulated-${id()}`) =>
    message('image', { PicUrl: `http://mmbiz.qpic.cn/simulated/${id()}/0`, MediaId: mediaId });
  const place = (a: { latitude: string; longitude: string; label?: string }) => ({
    Location_X: a.latitude,
    Location_Y: a.longitude,
    Scale: '15',
    Label: a.label ?? '',
  });
  switch (action.kind) {
    case 'subscribe':
      return [render(event('subscribe', action.scene ? `qrscene_${action.scene}` : '', action.scene ? { Ticket: `sim-${id()}` } : {}))];
    case 'scan':
      return [render(event('SCAN', action.scene, { Ticket: `sim-${id()}` }))];
    case 'unsubscribe':
      return [render(event('unsubscribe', ''))];
    case 'text':
      return [render(message('text', { Content: action.text }))];
    case 'image':
      return [render(photo())];
    case 'voice':
      return [
        render(
          message('voice', {
            MediaId: `simulated-${id()}`,
            Format: 'amr',
            ...(action.recognition ? { Recognition: action.recognition } : {}),
          }),
        ),
      ];
    case 'video':
      return [render(message('video', { MediaId: `simulated-${id()}`, ThumbMediaId: `simulated-${id()}` }))];
    case 'location':
      return [render(message('location', place(action)))];
    case 'link':
      return [render(message('link', { Title: action.title ?? action.url, Description: '', Url: action.url }))];
    case 'click':
      return [render(event('CLICK', action.key))];
    case 'view':
      return [render(event('VIEW', action.url))];
    case 'view_miniprogram':
      return [render(event('view_miniprogram', action.path))];
    case 'scancode_push':
    case 'scancode_waitmsg':
      return [render(event(action.kind, action.key, { ScanCodeInfo: { ScanType: 'qrcode', ScanResult: action.result } }))];
    case 'pic_sysphoto':
    case 'pic_photo_or_album':
    case 'pic_weixin': {
      const mediaId = `simulated-${id()}`;
      const sendPicsInfo = { Count: '1', PicList: { item: { PicMd5Sum: hash('md5', mediaId) } } };
      return [render(event(action.kind, action.key, { SendPicsInfo: sendPicsInfo })), render(photo(mediaId))];
    }
    case 'location_select': {
      const where = place(action);
      return [
        render(event('location_select', action.key, { SendLocationInfo: { ...where, Poiname: action.label ?? '' } })),
        render(message('location', where)),
      ];
    }
  }
}

type Field = string | { [name: string]: Field };
const UNQUOTED = new Set(['CreateTime', 'MsgId', 'Count', 'Scale']);

function render(fields: Record<string, Field>): string {
  const inner = (values: Record<string, Field>): string =>
    Object.entries(values)
      .map(
        ([name, value]) => `<${name}>${typeof value === 'string' ? (UNQUOTED.has(name) ? value : cdata(value)) : inner(value)}</${name}>`,
      )
      .join('');
  return `<xml>${inner(fields)}</xml>`;
}

function messageId(): string {
  return String(BigInt(Date.now()) * 1000n + BigInt(randomBytes(2).readUInt16BE(0)));
}

/**
 * Plays WeChat's side of the callback: signs (and encrypts) a push, posts it, decodes the answer.
 * @example
 * await simulate({ kind: 'click', key: 'TODAY' }, { url: 'http://localhost:3000/wechat', token, user: 'oUser' }) // [reply]
 */
export async function simulate(action: SimulatedAction, options: SimulateOptions): Promise<SimulatedReply[]> {
  const account = options.account ?? 'gh_simulator';
  const replies: SimulatedReply[] = [];
  // One after another, as WeChat sends them: the photo after its button's event.
  for (const push of pushesFor(action, options.user, account)) replies.push(await post(push, account, options));
  return replies;
}

async function post(push: string, account: string, options: SimulateOptions): Promise<SimulatedReply> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = String(randomBytes(4).readUInt32BE(0));
  const query = new URLSearchParams({ signature: sign(options.token, timestamp, nonce), timestamp, nonce, openid: options.user });
  let body = push;
  const crypto = options.aes
    ? new WechatCrypto({ token: options.token, appId: options.aes.appId, encodingAESKeys: [options.aes.encodingAESKey] })
    : undefined;
  if (crypto) {
    const encrypt = crypto.encrypt(body);
    query.set('encrypt_type', 'aes');
    query.set('msg_signature', crypto.signature(timestamp, nonce, encrypt));
    body = `<xml><ToUserName>${cdata(account)}</ToUserName><Encrypt>${cdata(encrypt)}</Encrypt></xml>`;
  }
  const response = await fetch(`${options.url}?${query}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body });
  const raw = await response.text();
  if (response.status !== 200 || raw === 'success' || raw === '') return { status: response.status, raw };
  let reply = await parseXml(raw);
  if (crypto && typeof reply.Encrypt === 'string') {
    if (reply.MsgSignature !== crypto.signature(String(reply.TimeStamp), String(reply.Nonce), reply.Encrypt))
      throw new Error('the reply has a wrong MsgSignature');
    reply = await parseXml(crypto.decrypt(reply.Encrypt).xml);
  }
  return { status: response.status, raw, reply };
}

/**
 * A reply as a person would read it.
 * @example
 * describeReply(await simulate(…)) // 'text: 欢迎关注！'
 */
export function describeReply(result: SimulatedReply): string {
  if (result.status !== 200) return `HTTP ${result.status}: ${result.raw}`;
  const reply = result.reply;
  if (!reply) return 'success (no reply)';
  const inner = (name: string) => (reply[name] ?? {}) as XmlObject;
  switch (reply.MsgType) {
    case 'text':
      return `text: ${String(reply.Content)}`;
    case 'image':
    case 'voice':
      return `${reply.MsgType}: ${String(inner(reply.MsgType === 'image' ? 'Image' : 'Voice').MediaId ?? '')}`;
    case 'video': {
      const video = inner('Video');
      return `video: ${[video.Title, video.MediaId].filter(Boolean).map(String).join(' ')}`;
    }
    case 'music': {
      const music = inner('Music');
      return `music: ${[music.Title, music.MusicUrl].filter(Boolean).map(String).join(' ')}`;
    }
    case 'news': {
      const items = inner('Articles').item;
      const first = (Array.isArray(items) ? items[0] : items) as XmlObject | undefined;
      return `news: ${String(first?.Title ?? '')} ${String(first?.Url ?? '')}`.trim();
    }
    case 'transfer_customer_service':
      return 'transferred to customer service';
    default:
      return `${String(reply.MsgType)}: ${JSON.stringify(Object.fromEntries(Object.entries(reply).filter(([k]) => !['ToUserName', 'FromUserName', 'CreateTime', 'MsgType'].includes(k))))}`;
  }
}
