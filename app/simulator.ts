import { randomBytes } from 'node:crypto';
import { WechatCrypto } from '../core/crypto.ts';
import { sign } from '../core/signature.ts';
import { cdata, parseXml, type XmlObject } from '../core/xml.ts';

/** What the simulator can do as a WeChat user. */
export type SimulatedAction =
  | { kind: 'subscribe'; scene?: string }
  | { kind: 'scan'; scene: string }
  | { kind: 'click'; key: string }
  | { kind: 'view'; url: string }
  | { kind: 'text'; text: string }
  | { kind: 'unsubscribe' };

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
