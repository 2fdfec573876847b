import { randomBytes } from 'node:crypto';
import { WechatCrypto } from '../core/protocol/crypto.ts';
import { sign } from '../core/protocol/signature.ts';
import { cdata, parseXml, type XmlObject } from '../core/protocol/xml.ts';

/** What the simulator can do as a WeChat user. */
export type SimulatedAction =
  | { kind: 'subscribe'; scene?: string }
  | { kind: 'scan'; scene: string }
  | { kind: 'click'; key: string }
  | { kind: 'view'; url: string }
  | { kind: 'text'; text: string }
  | { kind: 'unsubscribe' };

// Each kind's fields and whether each is required, checked against SimulatedAction by the compiler
// so that the type and the runtime check cannot drift apart.
const ACTION_FIELDS = {
  subscribe: { scene: false },
  scan: { scene: true },
  click: { key: true },
  view: { url: true },
  text: { text: true },
  unsubscribe: {},
} as const satisfies { [K in SimulatedAction['kind']]: { [F in Exclude<keyof Extract<SimulatedAction, { kind: K }>, 'kind'>]-?: boolean } };

// WeChat's own limits: a scene_str is at most 64 characters, a menu key 128 bytes.
const MAX_LENGTH = { scene: 64, key: 128, url: 1024, text: 2048 } as const;

/**
 * Checks an action that came from outside (the console's JSON): the kind is one of
 * {@link SimulatedAction}'s, each field a string of bounded length (a scene may be a number, as
 * campaign scenes are). Otherwise a short message naming the field.
 * @example
 * parseAction({ kind: 'click', key: 'TODAY' }) // { action: { kind: 'click', key: 'TODAY' } }
 * parseAction({ kind: 'click', key: 42 }) // { error: 'action.key must be a string of 1 to 128 characters' }
 */
export function parseAction(input: unknown): { action: SimulatedAction } | { error: string } {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return { error: 'action must be an object with a kind' };
  const given = input as Record<string, unknown>;
  const kinds = new Map(Object.entries(ACTION_FIELDS));
  const fields = typeof given.kind === 'string' ? kinds.get(given.kind) : undefined;
  if (!fields) return { error: `action.kind must be one of ${[...kinds.keys()].join(', ')}` };
  const action: Record<string, string> = { kind: given.kind as string };
  for (const [name, required] of Object.entries(fields) as [keyof typeof MAX_LENGTH, boolean][]) {
    let value = given[name];
    if (value === undefined && !required) continue;
    if (name === 'scene' && Number.isSafeInteger(value) && (value as number) >= 0) value = String(value);
    if (typeof value !== 'string' || value.length === 0 || value.length > MAX_LENGTH[name]) {
      return { error: `action.${name} must be a string of 1 to ${MAX_LENGTH[name]} characters${name === 'scene' ? ' or a number' : ''}` };
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
 * The XML WeChat would push for a user's action.
 * @example
 * pushXmlFor({ kind: 'subscribe', scene: 'spring' }, 'oUser', 'gh_x') // …<EventKey>qrscene_spring</EventKey>…
 */
export function pushXmlFor(action: SimulatedAction, user: string, account: string, createTime = Math.floor(Date.now() / 1000)): string {
  const fields: Record<string, string> = { ToUserName: account, FromUserName: user, CreateTime: String(createTime) };
  const event = (name: string, key = '') => Object.assign(fields, { MsgType: 'event', Event: name, EventKey: key });
  switch (action.kind) {
    case 'subscribe':
      event('subscribe', action.scene ? `qrscene_${action.scene}` : '');
      if (action.scene) fields.Ticket = `sim-${randomBytes(6).toString('hex')}`;
      break;
    case 'scan':
      event('SCAN', action.scene);
      fields.Ticket = `sim-${randomBytes(6).toString('hex')}`;
      break;
    case 'click':
      event('CLICK', action.key);
      break;
    case 'view':
      event('VIEW', action.url);
      break;
    case 'unsubscribe':
      event('unsubscribe');
      break;
    case 'text':
      Object.assign(fields, {
        MsgType: 'text',
        Content: action.text,
        MsgId: String(BigInt(Date.now()) * 1000n + BigInt(randomBytes(2).readUInt16BE(0))),
      });
      break;
  }
  return `<xml>${Object.entries(fields)
    .map(([name, value]) => `<${name}>${name === 'CreateTime' || name === 'MsgId' ? value : cdata(value)}</${name}>`)
    .join('')}</xml>`;
}

/**
 * Plays WeChat's side of the callback: signs (and encrypts) a push, posts it, decodes the answer.
 * @example
 * await simulate({ kind: 'click', key: 'TODAY' }, { url: 'http://localhost:3000/wechat', token, user: 'oUser' })
 */
export async function simulate(action: SimulatedAction, options: SimulateOptions): Promise<SimulatedReply> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = String(randomBytes(4).readUInt32BE(0));
  const query = new URLSearchParams({ signature: sign(options.token, timestamp, nonce), timestamp, nonce, openid: options.user });
  const account = options.account ?? 'gh_simulator';
  let body = pushXmlFor(action, options.user, account);
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
  switch (reply.MsgType) {
    case 'text':
      return `text: ${String(reply.Content)}`;
    case 'news': {
      const items = (reply.Articles as XmlObject | undefined)?.item;
      const first = (Array.isArray(items) ? items[0] : items) as XmlObject | undefined;
      return `news: ${String(first?.Title ?? '')} ${String(first?.Url ?? '')}`.trim();
    }
    default:
      return `${String(reply.MsgType)}: ${JSON.stringify(Object.fromEntries(Object.entries(reply).filter(([k]) => !['ToUserName', 'FromUserName', 'CreateTime', 'MsgType'].includes(k))))}`;
  }
}
