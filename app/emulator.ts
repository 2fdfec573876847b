import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import Koa from 'koa';
import getRawBody from 'raw-body';
import { qrPng } from '../core/api/qr-image.ts';
import type { WechatEvent } from '../core/protocol/events.ts';
import type { Menu } from '../core/protocol/menu.ts';
import { QR_LIMITS } from '../core/protocol/qr-codes.ts';
import { error, ok, type Json } from './emulator/answers.ts';
import { EmulatedMediaStore, type EmulatedMedia } from './emulator/media.ts';
import { EmulatedMenus } from './emulator/menus.ts';
import { EmulatedUsers } from './emulator/users.ts';
import { escapeHtml, htmlPage as page } from './html.ts';

/** Options of {@link WechatEmulator}. */
export interface EmulatorOptions {
  appId: string;
  secret: string;
  /** Lifetime of an access_token; WeChat's is 7200 s. */
  tokenTtlSeconds?: number;
  /** Permanent codes an account may ever create; WeChat's is 100,000. */
  permanentQuota?: number;
  /**
   * True (the default): an OpenID or media_id the emulator never saw is refused (40003, 40007), as
   * on WeChat. False: any OpenID is a follower who just wrote, any media_id exists, for tests that
   * do not model them.
   */
  strict?: boolean;
  /** OpenIDs in a page of user/get, user/tag/get and getblacklist; WeChat's is 10,000. */
  userPageSize?: number;
  /** Lifetime of temporary media; WeChat's is three days. */
  mediaLifetimeSeconds?: number;
}

/** A fault to inject into the next calls of one API. */
export interface Fault {
  /** Answer with this errcode. */
  errcode?: number;
  /** Answer with a body that is not JSON. */
  invalidJson?: boolean;
  /** Wait this long before answering (past the client's timeout: a time-out). */
  delayMs?: number;
  /** How many calls it affects; 1 by default. */
  times?: number;
}

/** One call the emulator received: the API name and its errcode (0: success). */
export interface EmulatorCall {
  api: string;
  errcode: number;
}

/** A code the emulator created. */
export interface EmulatedQrCode {
  actionName: string;
  scene: number | string;
  url: string;
  expireSeconds?: number;
}

const ACTION_NAMES = new Set(['QR_SCENE', 'QR_STR_SCENE', 'QR_LIMIT_SCENE', 'QR_LIMIT_STR_SCENE']);
const MSG_TYPES = new Set([
  'text',
  'image',
  'voice',
  'video',
  'music',
  'news',
  'mpnews',
  'msgmenu',
  'wxcard',
  'miniprogrampage',
  'mpnewsarticle',
]);
const OVERLAP_MS = 5 * 60_000;

/**
 * A stand-in for WeChat's HTTP API that behaves like it: tokens that expire and are invalidated,
 * the same validation and errcodes for menus and QR codes, a permanent-code quota, custom messages
 * recorded. Used by `npm start` without an account, by the CLI and by the tests.
 * @example
 * const emulator = new WechatEmulator({ appId: 'wx…', secret: 's' })
 * const { url, close } = await emulator.listen()
 */
export class WechatEmulator {
  readonly calls: EmulatorCall[] = [];
  readonly qrcodes = new Map<string, EmulatedQrCode>();
  readonly customMessages: Json[] = [];
  /** Template and subscribe messages sent, with their touser; typing commands. */
  readonly templateMessages: Json[] = [];
  readonly subscribeMessages: Json[] = [];
  readonly typing: Json[] = [];
  /** Followers, tags and the blacklist. */
  readonly users: EmulatedUsers;
  /** The default menu and the conditional ones. */
  readonly menus = new EmulatedMenus();
  /** Temporary media. */
  readonly media: EmulatedMediaStore;
  readonly app: Koa;
  readonly #options: Required<EmulatorOptions>;
  readonly #tokens = new Map<string, number>(); // token → expiry, epoch ms
  #stable: string | undefined;
  #lastForce = 0;
  readonly #faults = new Map<string, Fault>();

  constructor(options: EmulatorOptions) {
    this.#options = {
      tokenTtlSeconds: 7200,
      permanentQuota: QR_LIMITS.permanentSceneId.max,
      strict: true,
      userPageSize: 10_000,
      mediaLifetimeSeconds: 3 * 24 * 3600,
      ...options,
    };
    this.users = new EmulatedUsers({ strict: this.#options.strict, pageSize: this.#options.userPageSize });
    this.media = new EmulatedMediaStore(this.#options.mediaLifetimeSeconds);
    this.app = new Koa();
    // Its authorize page asks for consent, as WeChat's does: no other page may frame it.
    this.app.use((koa, next) => {
      koa.set({ 'X-Frame-Options': 'DENY', 'Content-Security-Policy': "frame-ancestors 'none'", 'X-Content-Type-Options': 'nosniff' });
      return next();
    });
    this.app.use(this.#routes().routes());
    // Any other API path: WeChat answers 200 with an errcode, never a bare 404 (which some clients
    // would take for success).
    this.app.use((koa, next) => {
      if (!/^\/(cgi-bin|sns)\//.test(koa.path)) return next();
      koa.body = error(40066, 'invalid url');
      return undefined;
    });
  }

  /** The account's default menu. */
  get menu(): Menu | undefined {
    return this.menus.menu;
  }

  /**
   * Takes note of a push WeChat sent the bot: who followed (through which code), who left, who
   * wrote and opened the 48-hour window. The bot does this in emulator mode for every push.
   */
  observe(event: WechatEvent): void {
    this.users.observe(event, (ticket) => {
      const code = this.qrcodes.get(ticket);
      return code ? (code.actionName.endsWith('STR_SCENE') ? 'str' : 'id') : undefined;
    });
  }

  /** Makes the next calls of an API fail (api: 'menu/create', 'stable_token', …). */
  fail(api: string, fault: Fault): void {
    this.#faults.set(api, { times: 1, ...fault });
  }

  /** Invalidates every token, as a refresh by another party would. */
  invalidateTokens(): void {
    this.#tokens.clear();
    this.#stable = undefined;
  }

  /** How many calls an API received. */
  count(api: string): number {
    return this.calls.filter((c) => c.api === api).length;
  }

  /** Permanent codes created so far. */
  get permanentCount(): number {
    return [...this.qrcodes.values()].filter((c) => c.actionName.startsWith('QR_LIMIT')).length;
  }

  /** Serves the emulator on 127.0.0.1. */
  async listen(port = 0): Promise<{ url: string; close(): Promise<void> }> {
    // Exclusive: under BOT_WORKERS each worker has an emulator of its own, not one port shared by all.
    const server: Server = await new Promise((resolve) => {
      const s = createServer(this.app.callback()).listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(s));
    });
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () =>
        new Promise((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  }

  #routes(): Router {
    const router = new Router();
    type Answer = Json | EmulatedMedia;
    type Handler = (input: Json, query: Json, form?: FormData) => Answer | Promise<Answer>;
    const isMedia = (answer: Answer): answer is EmulatedMedia => answer.bytes instanceof Uint8Array;
    const endpoint = (method: 'get' | 'post' | 'form', path: string, api: string, handle: Handler, auth = true) => {
      // The other method is answered as WeChat answers it: 200 with 43001 or 43002.
      router[method === 'get' ? 'post' : 'get'](path, (koa) => {
        koa.body = method === 'get' ? error(43001, 'require GET method') : error(43002, 'require POST method');
      });
      router[method === 'get' ? 'get' : 'post'](path, async (koa) => {
        const fault = this.#takeFault(api);
        if (fault?.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
        if (fault?.invalidJson) {
          this.calls.push({ api, errcode: NaN });
          koa.type = 'text/html';
          koa.body = '<html>502 Bad Gateway</html>';
          return;
        }
        const query = koa.query as Json;
        let answer: Answer;
        if (fault?.errcode !== undefined) answer = error(fault.errcode, 'injected fault');
        else if (auth && this.#tokenError(query.access_token)) answer = this.#tokenError(query.access_token)!;
        else if (method === 'form') answer = await handle({}, query, await formBody(koa.req, koa.get('content-type')));
        else {
          const read = method === 'post' ? await jsonBody(koa.req) : { body: {} };
          answer = 'refusal' in read ? read.refusal : await handle(read.body, query);
        }
        if (isMedia(answer)) {
          this.calls.push({ api, errcode: 0 });
          koa.type = answer.contentType;
          // A header is ASCII: the name as is for an ASCII one, else encoded (RFC 6266), as WeChat does.
          const ascii = answer.filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
          koa.set('content-disposition', `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(answer.filename)}`);
          koa.body = Buffer.from(answer.bytes);
          return;
        }
        this.calls.push({ api, errcode: Number(answer.errcode ?? 0) });
        koa.body = answer;
      });
    };
    const users = this.users;
    const menus = this.menus;
    endpoint('get', '/cgi-bin/token', 'token', (_, q) => this.#classicToken(q), false);
    endpoint('post', '/cgi-bin/stable_token', 'stable_token', (body) => this.#stableToken(body), false);
    endpoint('post', '/cgi-bin/qrcode/create', 'qrcode/create', (body) => this.#createQr(body));
    endpoint('post', '/cgi-bin/menu/create', 'menu/create', (body) => menus.create(body));
    endpoint('get', '/cgi-bin/menu/get', 'menu/get', () => menus.get());
    endpoint('get', '/cgi-bin/get_current_selfmenu_info', 'get_current_selfmenu_info', () => menus.selfMenuInfo());
    endpoint('get', '/cgi-bin/menu/delete', 'menu/delete', () => menus.delete());
    endpoint('post', '/cgi-bin/menu/addconditional', 'menu/addconditional', (body) => menus.addConditional(body, (id) => users.hasTag(id)));
    endpoint('post', '/cgi-bin/menu/delconditional', 'menu/delconditional', (body) => menus.deleteConditional(body));
    endpoint('post', '/cgi-bin/menu/trymatch', 'menu/trymatch', (body) =>
      menus.tryMatch(
        typeof body.user_id === 'string'
          ? (users.get(body.user_id) ?? (this.#options.strict ? undefined : users.follow(body.user_id)))
          : undefined,
      ),
    );
    endpoint('post', '/cgi-bin/message/custom/send', 'message/custom/send', (body) => this.#customSend(body));
    endpoint('post', '/cgi-bin/message/custom/typing', 'message/custom/typing', (body) => this.#typing(body));
    endpoint('post', '/cgi-bin/message/template/send', 'message/template/send', (body) => this.#templateSend(body));
    endpoint('post', '/cgi-bin/message/subscribe/bizsend', 'message/subscribe/bizsend', (body) => this.#subscribeSend(body));
    endpoint('get', '/cgi-bin/user/info', 'user/info', (_, q) => users.info(q));
    endpoint('post', '/cgi-bin/user/info/batchget', 'user/info/batchget', (body) => users.batchInfo(body));
    endpoint('get', '/cgi-bin/user/get', 'user/get', (_, q) => users.followers(q));
    endpoint('post', '/cgi-bin/user/info/updateremark', 'user/info/updateremark', (body) => users.updateRemark(body));
    endpoint('post', '/cgi-bin/tags/create', 'tags/create', (body) => users.createTag(body));
    endpoint('get', '/cgi-bin/tags/get', 'tags/get', () => users.listTags());
    endpoint('post', '/cgi-bin/tags/update', 'tags/update', (body) => users.updateTag(body));
    endpoint('post', '/cgi-bin/tags/delete', 'tags/delete', (body) => users.deleteTag(body));
    endpoint('post', '/cgi-bin/tags/members/batchtagging', 'tags/members/batchtagging', (body) => users.tagging(body, true));
    endpoint('post', '/cgi-bin/tags/members/batchuntagging', 'tags/members/batchuntagging', (body) => users.tagging(body, false));
    endpoint('post', '/cgi-bin/tags/getidlist', 'tags/getidlist', (body) => users.tagsOf(body));
    endpoint('post', '/cgi-bin/user/tag/get', 'user/tag/get', (body) => users.tagMembers(body));
    endpoint('post', '/cgi-bin/tags/members/getblacklist', 'tags/members/getblacklist', (body) => users.blacklist(body));
    endpoint('post', '/cgi-bin/tags/members/batchblacklist', 'tags/members/batchblacklist', (body) => users.blacklisting(body, true));
    endpoint('post', '/cgi-bin/tags/members/batchunblacklist', 'tags/members/batchunblacklist', (body) => users.blacklisting(body, false));
    endpoint('form', '/cgi-bin/media/upload', 'media/upload', (_, q, form) => this.media.upload(q.type, form));
    endpoint('get', '/cgi-bin/media/get', 'media/get', (_, q) => this.media.get(q));
    endpoint('get', '/cgi-bin/ticket/getticket', 'ticket/getticket', (_, q) => this.#jsapiTicket(q));
    endpoint('get', '/sns/oauth2/access_token', 'sns/oauth2/access_token', (_, q) => this.#oauthToken(q), false);
    endpoint('get', '/sns/userinfo', 'sns/userinfo', (_, q) => this.#snsUserInfo(q), false);
    // mp.weixin.qq.com's showqrcode, played here: the image of a code the emulator made.
    router.get('/cgi-bin/showqrcode', async (koa) => {
      // A ticket is base64, to be URL-encoded; some clients do not encode it (co-wechat-api's
      // showQRCodeURL), and its + then arrives as a space.
      const ticket = String(koa.query.ticket ?? '');
      const code = this.qrcodes.get(ticket) ?? this.qrcodes.get(ticket.replaceAll(' ', '+'));
      if (!code) {
        koa.status = 404;
        koa.type = 'text/plain';
        return void (koa.body = 'no such ticket');
      }
      koa.type = 'image/png';
      koa.body = await qrPng(code.url, { size: 430, margin: 2 });
    });
    // open.weixin.qq.com's authorize page, played on this machine: which simulated user opens the
    // page, and, for snsapi_userinfo, their consent as WeChat asks for it.
    router.get('/connect/oauth2/authorize', (koa) => {
      const q = koa.query as Record<string, string | undefined>;
      koa.type = 'text/html';
      if (q.appid !== this.#options.appId) return void (koa.body = page('参数错误', '<p>appid 无效 (invalid appid)</p>'));
      if (q.response_type !== 'code' || !q.redirect_uri || !['snsapi_base', 'snsapi_userinfo'].includes(q.scope ?? '')) {
        return void (koa.body = page('参数错误', '<p>redirect_uri, response_type=code and scope are required</p>'));
      }
      const hidden = ['redirect_uri', 'state', 'scope']
        .map((n) => `<input type="hidden" name="${n}" value="${escapeHtml(q[n] ?? '')}">`)
        .join('');
      const consent =
        q.scope === 'snsapi_userinfo'
          ? '<p>该网页申请获得你的昵称、头像、地区及性别</p><button name="allow" value="1" data-testid="oauth-allow">允许</button> <button name="allow" value="0" data-testid="oauth-deny">拒绝</button>'
          : '<button name="allow" value="1" data-testid="oauth-allow">继续</button>';
      koa.body = page(
        '微信授权 (emulator)',
        `<form action="/connect/oauth2/authorize/decide" method="get">${hidden}
          <label>Simulated user (OpenID) <input name="openid" value="${escapeHtml(q.openid ?? 'oEmulatedUser0001')}" data-testid="oauth-openid"></label>
          ${consent}</form>`,
      );
    });
    router.get('/connect/oauth2/authorize/decide', (koa) => {
      const q = koa.query as Record<string, string | undefined>;
      const openid = q.openid && /^[\w-]{1,64}$/.test(q.openid) ? q.openid : 'oEmulatedUser0001';
      let back: URL;
      try {
        back = new URL(q.redirect_uri ?? '');
      } catch {
        koa.status = 400;
        return void (koa.body = 'redirect_uri is not a URL');
      }
      // A user who refuses comes back with the state alone, as WeChat sends them.
      if (q.allow === '1') {
        const code = randomBytes(16).toString('hex');
        this.#codes.set(code, { openid, scope: q.scope ?? 'snsapi_base', expiresAt: Date.now() + 5 * 60_000, used: false });
        back.searchParams.set('code', code);
      }
      back.searchParams.set('state', q.state ?? '');
      koa.redirect(back.href);
    });
    return router;
  }

  // Web authorization codes: one use each, 5 minutes.
  readonly #codes = new Map<string, { openid: string; scope: string; expiresAt: number; used: boolean }>();
  readonly #webTokens = new Map<string, { openid: string; scope: string; expiresAt: number }>();
  #ticket: { value: string; expiresAt: number } | undefined;

  #jsapiTicket(query: Json): Json {
    if (query.type !== 'jsapi') return error(40097, 'invalid args: type');
    if (!this.#ticket || this.#ticket.expiresAt <= Date.now()) {
      this.#ticket = { value: randomBytes(64).toString('base64url'), expiresAt: Date.now() + 7200_000 };
    }
    return { errcode: 0, errmsg: 'ok', ticket: this.#ticket.value, expires_in: Math.floor((this.#ticket.expiresAt - Date.now()) / 1000) };
  }

  #oauthToken(query: Json): Json {
    const refused = this.#credentialsError(query.appid, query.secret);
    if (refused) return refused;
    if (query.grant_type !== 'authorization_code') return error(40002, 'invalid grant_type');
    const grant = typeof query.code === 'string' ? this.#codes.get(query.code) : undefined;
    if (!grant || grant.expiresAt <= Date.now()) return error(40029, 'invalid code');
    if (grant.used) return error(40163, 'code been used');
    grant.used = true;
    const token = randomBytes(48).toString('base64url');
    this.#webTokens.set(token, { openid: grant.openid, scope: grant.scope, expiresAt: Date.now() + 7200_000 });
    return {
      access_token: token,
      expires_in: 7200,
      refresh_token: randomBytes(48).toString('base64url'),
      openid: grant.openid,
      scope: grant.scope,
    };
  }

  #snsUserInfo(query: Json): Json {
    const token = typeof query.access_token === 'string' ? this.#webTokens.get(query.access_token) : undefined;
    if (!token) return error(40001, 'invalid credential, access_token is invalid or not latest');
    if (token.expiresAt <= Date.now()) return error(42001, 'access_token expired');
    if (query.openid !== token.openid) return error(40003, 'invalid openid');
    if (token.scope !== 'snsapi_userinfo') return error(48001, 'api unauthorized');
    return {
      openid: token.openid,
      nickname: `模拟用户${token.openid.slice(-4)}`,
      sex: 0,
      province: '',
      city: '',
      country: '',
      headimgurl: '',
      privilege: [],
    };
  }

  #takeFault(api: string): Fault | undefined {
    const fault = this.#faults.get(api);
    if (!fault) return undefined;
    if (--fault.times! <= 0) this.#faults.delete(api);
    return fault;
  }

  #credentialsError(appid: unknown, secret: unknown): Json | undefined {
    if (appid !== this.#options.appId) return error(40013, 'invalid appid');
    if (secret !== this.#options.secret) return error(40125, 'invalid appsecret');
    return undefined;
  }

  #issue(): string {
    const token = randomBytes(96).toString('base64url'); // WeChat's are long: clients must store ≥ 512 chars
    this.#tokens.set(token, Date.now() + this.#options.tokenTtlSeconds * 1000);
    return token;
  }

  #remaining(token: string): number {
    return Math.max(0, Math.floor(((this.#tokens.get(token) ?? 0) - Date.now()) / 1000));
  }

  // Each call invalidates earlier classic tokens, after a 5-minute overlap.
  #classicToken(query: Json): Json {
    if (query.grant_type !== 'client_credential') return error(40002, 'invalid grant_type');
    const refused = this.#credentialsError(query.appid, query.secret);
    if (refused) return refused;
    for (const [token, expiry] of this.#tokens)
      if (token !== this.#stable) this.#tokens.set(token, Math.min(expiry, Date.now() + OVERLAP_MS));
    const token = this.#issue();
    return { access_token: token, expires_in: this.#options.tokenTtlSeconds };
  }

  // The same token while valid; a new one in its last 5 minutes, or on a (rate-limited) force_refresh.
  #stableToken(body: Json): Json {
    if (body.grant_type !== 'client_credential') return error(40002, 'invalid grant_type');
    const refused = this.#credentialsError(body.appid, body.secret);
    if (refused) return refused;
    const current = this.#stable;
    if (body.force_refresh === true) {
      if (Date.now() - this.#lastForce < 30_000) return error(45011, 'api minute-quota reach limit: force_refresh at most every 30 s');
      this.#lastForce = Date.now();
      if (current) this.#tokens.delete(current); // WeChat invalidates the previous token at once
    } else if (current && this.#remaining(current) * 1000 > OVERLAP_MS) {
      return { access_token: current, expires_in: this.#remaining(current) };
    }
    this.#stable = this.#issue();
    return { access_token: this.#stable, expires_in: this.#options.tokenTtlSeconds };
  }

  #tokenError(token: unknown): Json | undefined {
    if (typeof token !== 'string' || token === '') return error(41001, 'access_token missing');
    const expiry = this.#tokens.get(token);
    if (expiry === undefined) return error(40001, 'invalid credential, access_token is invalid or not latest');
    if (expiry <= Date.now()) return error(42001, 'access_token expired');
    return undefined;
  }

  #createQr(body: Json): Json {
    const actionName = body.action_name;
    if (typeof actionName !== 'string' || !ACTION_NAMES.has(actionName)) return error(40097, 'invalid args: action_name');
    const scene = (body.action_info as { scene?: { scene_id?: unknown; scene_str?: unknown } } | undefined)?.scene;
    const permanent = actionName.startsWith('QR_LIMIT');
    let value: number | string;
    if (actionName.endsWith('STR_SCENE')) {
      const str = scene?.scene_str;
      if (typeof str !== 'string' || str.length < 1 || str.length > QR_LIMITS.sceneStrLength.max)
        return error(40097, 'invalid args: scene_str');
      value = str;
    } else {
      const id = scene?.scene_id;
      const { min, max } = permanent ? QR_LIMITS.permanentSceneId : QR_LIMITS.temporarySceneId;
      if (typeof id !== 'number' || !Number.isInteger(id) || id < min || id > max) return error(40097, 'invalid args: scene_id');
      value = id;
    }
    let expireSeconds: number | undefined;
    if (!permanent) {
      expireSeconds = body.expire_seconds === undefined ? 60 : Number(body.expire_seconds);
      if (!Number.isInteger(expireSeconds) || expireSeconds < 1 || expireSeconds > QR_LIMITS.expireSeconds.max) {
        return error(40097, 'invalid args: expire_seconds');
      }
    } else if (this.permanentCount >= this.#options.permanentQuota) {
      return error(45029, 'qrcode count out of limit');
    }
    const ticket = `gQ${randomBytes(30).toString('base64')}`; // base64: + / = must be URL-encoded by clients
    const url = `http://weixin.qq.com/q/${randomBytes(16).toString('base64url')}`;
    this.qrcodes.set(ticket, { actionName, scene: value, url, ...(expireSeconds ? { expireSeconds } : {}) });
    return { ticket, url, ...(expireSeconds ? { expire_seconds: expireSeconds } : {}) };
  }

  #customSend(body: Json): Json {
    if (typeof body.touser !== 'string' || body.touser === '') return error(40003, 'invalid openid');
    if (typeof body.msgtype !== 'string' || !MSG_TYPES.has(body.msgtype)) return error(40008, 'invalid message type');
    const content = (body[body.msgtype] as Json | undefined) ?? undefined;
    if (!content || typeof content !== 'object') return error(44002, 'empty post data');
    // WeChat's codes: 44004 for a text without content, 44003 for news without an article.
    if (body.msgtype === 'text' && !(content as { content?: unknown }).content) return error(44004, 'empty content');
    const articles = (content as { articles?: unknown }).articles;
    if (body.msgtype === 'news' && !(Array.isArray(articles) && articles.length > 0)) return error(44003, 'empty news data');
    const mediaId = body.msgtype === 'music' ? content.thumb_media_id : content.media_id;
    if (['image', 'voice', 'video', 'music'].includes(body.msgtype) && this.#options.strict && !this.media.has(mediaId))
      return error(40007, 'invalid media_id');
    const refused = this.users.messageRefusal(body.touser, true);
    if (refused) return refused;
    this.customMessages.push(body);
    return ok();
  }

  #typing(body: Json): Json {
    if (body.command !== 'Typing' && body.command !== 'CancelTyping') return error(40001, 'invalid command');
    const refused = this.users.messageRefusal(body.touser, true);
    if (refused) return refused;
    this.typing.push(body);
    return ok();
  }

  // Template and subscribe messages: to a follower, outside the 48-hour window too.
  #templateSend(body: Json): Json {
    const refused = this.#templateRefusal(body);
    if (refused) return refused;
    this.templateMessages.push(body);
    return { errcode: 0, errmsg: 'ok', msgid: this.templateMessages.length };
  }

  #subscribeSend(body: Json): Json {
    const refused = this.#templateRefusal(body);
    if (refused) return refused;
    this.subscribeMessages.push(body);
    return ok();
  }

  #templateRefusal(body: Json): Json | undefined {
    if (typeof body.template_id !== 'string' || body.template_id === '') return error(40037, 'invalid template_id');
    const data = body.data;
    if (!data || typeof data !== 'object' || Array.isArray(data)) return error(47003, 'argument invalid! data is empty');
    for (const [key, field] of Object.entries(data as Json))
      if (typeof (field as Json | undefined)?.value !== 'string') return error(47003, `argument invalid! data.${key}.value is empty`);
    return this.users.messageRefusal(body.touser, false);
  }
}

// A POST body as WeChat reads it: JSON whatever the content type says; or, when it cannot be
// read, WeChat's answer (44002 empty, 47001 not a JSON object).
async function jsonBody(req: IncomingMessage): Promise<{ body: Json } | { refusal: Json }> {
  const malformed = { refusal: error(47001, 'data format error') };
  let text: string;
  try {
    text = await getRawBody(req, { limit: '1mb', encoding: 'utf8' });
  } catch {
    return malformed;
  }
  if (text.trim() === '') return { refusal: error(44002, 'empty post data') };
  try {
    const body: unknown = JSON.parse(text);
    return typeof body === 'object' && body !== null && !Array.isArray(body) ? { body: body as Json } : malformed;
  } catch {
    return malformed;
  }
}

// A multipart body, as media/upload takes it (the file in its `media` field); undefined when it is not one.
async function formBody(req: IncomingMessage, contentType: string): Promise<FormData | undefined> {
  try {
    const bytes = await getRawBody(req, { limit: '12mb' });
    return await new Response(bytes, { headers: { 'content-type': contentType } }).formData();
  } catch {
    return undefined;
  }
}
