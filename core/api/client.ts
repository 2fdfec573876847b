import { ApiArgumentError, ApiError, STALE_TOKEN } from './errors.ts';
import { actionNameOf, QR_LIMITS, validateCampaignCode, type CampaignCode, type QrActionName } from '../protocol/qr-codes.ts';
import type { Logger } from '../kernel/log.ts';
import { NO_METRICS, type Metrics } from '../kernel/metrics.ts';
import { validateMenu, type Menu } from '../protocol/menu.ts';
import { isFileReply, type NormalReply } from '../protocol/reply.ts';
import type { Store } from '../state/store.ts';
import { DownloadedFile, type Json } from './calls.ts';
import { SharedCredential } from './credential.ts';
import { MediaApi } from './media.ts';
import { BlacklistApi, TagApi } from './tags.ts';
import { UserApi, type FollowerInfo } from './users.ts';
import { describeFailure, TokenManager, type TokenMode } from './token.ts';

/** Options of {@link WechatApi}. */
export interface ApiOptions {
  appId: string;
  secret: string;
  /** WECHAT_API_BASE: https://api.weixin.qq.com, or the emulator. */
  base: string;
  /** Where web authorization's page is: https://open.weixin.qq.com, or the emulator. */
  authorizeBase?: string;
  /** Where a code's image is (showqrcode): https://mp.weixin.qq.com, or the emulator. */
  qrImageBase?: string;
  store: Store;
  log: Logger;
  tokenMode?: TokenMode;
  /** Per request. */
  timeoutMs?: number;
  /** Delays between attempts when WeChat answers -1 (busy). */
  busyRetryMs?: readonly number[];
  /** Counts each call and its errcode, and each token fetched. */
  metrics?: Metrics;
}

/** What sns/oauth2/access_token answers for a web authorization code. */
export interface OauthGrant {
  openid: string;
  scope: string;
  unionid?: string;
  /** The user's web access_token: for sns/userinfo only, never the account's. */
  accessToken: string;
}

/** What qrcode/create answers. */
export interface QrCode {
  ticket: string;
  /** The code's content: render it yourself. */
  url: string;
  /** Temporary codes only. */
  expireSeconds?: number;
}

/** A customer-service message, as message/custom/send takes it (without touser). */
export type CustomMessage =
  | { msgtype: 'text'; text: { content: string } }
  | { msgtype: 'image'; image: { media_id: string } }
  | { msgtype: 'voice'; voice: { media_id: string } }
  | { msgtype: 'video'; video: { media_id: string; thumb_media_id?: string; title?: string; description?: string } }
  | {
      msgtype: 'music';
      music: { title?: string; description?: string; musicurl?: string; hqmusicurl?: string; thumb_media_id: string };
    }
  | { msgtype: 'news'; news: { articles: { title: string; description?: string; url?: string; picurl?: string }[] } };

/** The account's menu as menu/get returns it. */
export interface MenuInfo {
  menu: Menu & { menuid?: number };
  conditionalmenu?: ConditionalMenuInfo[];
}

/**
 * Who sees a conditional menu (个性化菜单): at least one field. tag_id is a tag's id as a string
 * (a follower with several tags is matched on the one put on last); client_platform_type is 1 iOS,
 * 2 Android, 3 others. WeChat refuses sex, country, province, city and language since 2022 (65320).
 */
export interface MatchRule {
  tag_id?: string;
  client_platform_type?: string;
}

/** A conditional menu as menu/get lists it. */
export interface ConditionalMenuInfo extends Menu {
  matchrule: MatchRule;
  menuid: number;
}

/** A template message (message/template/send), without touser. */
export interface TemplateMessage {
  template_id: string;
  /** Each keyword of the template: `{ thing1: { value: '…' } }`. */
  data: Record<string, { value: string; color?: string }>;
  /** Where a tap leads. */
  url?: string;
  /** A mini program a tap opens instead (url is the fallback for old clients). */
  miniprogram?: { appid: string; pagepath?: string };
  /** Makes a resend of the same message a no-op on WeChat's side. */
  client_msg_id?: string;
}

/** A subscribe message (message/subscribe/bizsend), without touser: the user must have accepted the template. */
export interface SubscribeMessage {
  template_id: string;
  data: Record<string, { value: string }>;
  page?: string;
  miniprogram?: { appid: string; pagepath?: string };
}

type Body = Json | FormData;

/** What the app adds to each push's context: WeChat's API, when the bot has one. */
export interface ApiFlavor {
  /** WeChat's HTTP API (customer-service messages, user info, …); undefined when the bot has none. */
  readonly api?: WechatApi;
}

/**
 * The one client of WeChat's HTTP API. Every call has a timeout; a stale token is refreshed and
 * the call retried once; -1 (busy) is retried with backoff; other errors throw ApiError.
 * @example
 * const api = new WechatApi({ appId, secret, base: 'https://api.weixin.qq.com', store, log })
 * const { ticket, url } = await api.createQrCode({ scene: 'spring', expireSeconds: 86400 })
 */
export class WechatApi {
  readonly tokens: TokenManager;
  readonly appId: string;
  /** Web authorization's page: https://open.weixin.qq.com, or the emulator. */
  readonly authorizeBase: string;
  /** Followers: user/info, batchget, user/get (all of them, as an async iterator), remarks. */
  readonly users: UserApi;
  /** Tags: create, list, rename, delete, tag and untag in calls of 50, a user's tags, a tag's members. */
  readonly tags: TagApi;
  /** The blacklist: list, add, remove. */
  readonly blacklist: BlacklistApi;
  /** Temporary media: upload (multipart) and get. */
  readonly media: MediaApi;
  readonly #options: ApiOptions;
  readonly #jsapiTickets: SharedCredential;

  constructor(options: ApiOptions) {
    this.#options = options;
    this.appId = options.appId;
    this.authorizeBase = options.authorizeBase ?? 'https://open.weixin.qq.com';
    // Like the token: one fetch across every instance, before it lapses.
    this.#jsapiTickets = new SharedCredential({
      key: `jsapi_ticket:${options.appId}@${new URL(options.base).host}`,
      store: options.store,
      log: options.log,
      fetch: async () => {
        const answer = await this.#call('ticket/getticket', 'GET', '/cgi-bin/ticket/getticket', undefined, { type: 'jsapi' });
        if (typeof answer.ticket !== 'string' || typeof answer.expires_in !== 'number')
          throw new ApiError('ticket/getticket', undefined, 'no ticket in the answer');
        return { value: answer.ticket, lifetimeS: answer.expires_in };
      },
    });
    this.users = new UserApi(this);
    this.tags = new TagApi(this);
    this.blacklist = new BlacklistApi(this);
    this.media = new MediaApi(this);
    this.tokens = new TokenManager({
      appId: options.appId,
      secret: options.secret,
      base: options.base,
      store: options.store,
      log: options.log,
      ...(options.tokenMode ? { mode: options.tokenMode } : {}),
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.metrics ? { metrics: options.metrics } : {}),
    });
  }

  /**
   * Calls any endpoint of WeChat's API under /cgi-bin/ with GET, with what every call gets: the
   * shared access_token (refreshed once on 40001, 40014 or 42001), the retry with backoff on -1,
   * the timeout, and an ApiError carrying the errcode and its hint for any errcode but 0.
   * @example
   * const { tags } = await api.get('tags/get')
   * const info = await api.get('user/info', { openid, lang: 'zh_CN' })
   */
  async get(path: string, query: Record<string, string> = {}): Promise<Json> {
    const api = endpointOf(path, query);
    return this.#call(api, 'GET', `/cgi-bin/${api}`, undefined, query);
  }

  /**
   * Calls any endpoint of WeChat's API under /cgi-bin/ with POST and a JSON body, as {@link get} does.
   * @example
   * await api.post('tags/create', { tag: { name: 'VIP' } })
   */
  async post(path: string, body: Json, query: Record<string, string> = {}): Promise<Json> {
    const api = endpointOf(path, query);
    return this.#call(api, 'POST', `/cgi-bin/${api}`, body, query);
  }

  /**
   * Uploads a multipart form (media/upload and the like) with what every call gets, as {@link post} does.
   * @example
   * const form = new FormData(); form.set('media', new Blob([bytes]), 'a.png')
   * await api.upload('media/upload', form, { type: 'image' })
   */
  async upload(path: string, form: FormData, query: Record<string, string> = {}): Promise<Json> {
    const api = endpointOf(path, query);
    return this.#call(api, 'POST', `/cgi-bin/${api}`, form, query);
  }

  /**
   * Downloads what an endpoint answers with a file (media/get): its bytes, or the JSON it answers
   * instead (a video's URL). Errcodes throw ApiError as in {@link get}.
   * @example
   * const answer = await api.download('media/get', { media_id })
   * if (answer instanceof DownloadedFile) writeFileSync(answer.filename ?? 'media', answer.bytes)
   */
  async download(path: string, query: Record<string, string> = {}): Promise<Json | DownloadedFile> {
    const api = endpointOf(path, query);
    return this.#call(api, 'GET', `/cgi-bin/${api}`, undefined, query, true);
  }

  /**
   * Creates a parametric QR code. Permanent codes are limited to 100,000 per account, for ever.
   * @example
   * await api.createQrCode({ scene: 1001, permanent: true }) // QR_LIMIT_SCENE
   */
  async createQrCode(code: CampaignCode): Promise<QrCode> {
    const issues = validateCampaignCode(code, 'code');
    if (issues.length > 0) throw new ApiArgumentError(issues.map((i) => `${i.path}: ${i.message}`).join('; '));
    const actionName: QrActionName = actionNameOf(code);
    const scene = typeof code.scene === 'number' ? { scene_id: code.scene } : { scene_str: code.scene };
    const body: Json = { action_name: actionName, action_info: { scene } };
    if (!code.permanent) body.expire_seconds = code.expireSeconds;
    const answer = await this.#call('qrcode/create', 'POST', '/cgi-bin/qrcode/create', body);
    if (typeof answer.ticket !== 'string' || typeof answer.url !== 'string')
      throw new ApiError('qrcode/create', undefined, 'no ticket in the answer');
    return {
      ticket: answer.ticket,
      url: answer.url,
      ...(typeof answer.expire_seconds === 'number' ? { expireSeconds: answer.expire_seconds } : {}),
    };
  }

  /** The address of the code's image on WeChat's server (the ticket URL-encoded). */
  qrImageUrl(ticket: string): string {
    return `${this.#options.qrImageBase ?? 'https://mp.weixin.qq.com'}/cgi-bin/showqrcode?ticket=${encodeURIComponent(ticket)}`;
  }

  /** Replaces the account's menu; checked against WeChat's limits before sending. */
  async createMenu(menu: Menu): Promise<void> {
    const issues = validateMenu(menu);
    if (issues.length > 0) throw new ApiArgumentError(issues.map((i) => `${i.path}: ${i.message}`).join('; '));
    await this.#call('menu/create', 'POST', '/cgi-bin/menu/create', menu as unknown as Json);
  }

  /** The account's menu, or undefined when it has none (46003). */
  async getMenu(): Promise<MenuInfo | undefined> {
    try {
      return (await this.#call('menu/get', 'GET', '/cgi-bin/menu/get')) as unknown as MenuInfo;
    } catch (error) {
      if (error instanceof ApiError && error.errcode === 46003) return undefined;
      throw error;
    }
  }

  /** The menu as set in the console or by the API (get_current_selfmenu_info). */
  async getCurrentSelfMenuInfo(): Promise<Json> {
    return this.#call('get_current_selfmenu_info', 'GET', '/cgi-bin/get_current_selfmenu_info');
  }

  /** Deletes the menu, and every conditional menu with it. */
  async deleteMenu(): Promise<void> {
    await this.#call('menu/delete', 'GET', '/cgi-bin/menu/delete');
  }

  /**
   * Adds a conditional menu (个性化菜单), shown to the followers its rule matches; returns its
   * menuid. The account needs a default menu first (65303). WeChat cannot change one: delete it
   * and add it again.
   * @example
   * const menuid = await api.addConditionalMenu({ button, matchrule: { tag_id: '101' } })
   */
  async addConditionalMenu(menu: Menu & { matchrule: MatchRule }): Promise<number> {
    const issues = validateMenu({ button: menu.button });
    if (issues.length > 0) throw new ApiArgumentError(issues.map((i) => `${i.path}: ${i.message}`).join('; '));
    const answer = await this.#call('menu/addconditional', 'POST', '/cgi-bin/menu/addconditional', menu as unknown as Json);
    if (typeof answer.menuid !== 'number' && typeof answer.menuid !== 'string')
      throw new ApiError('menu/addconditional', undefined, 'no menuid in the answer');
    return Number(answer.menuid);
  }

  /** Deletes one conditional menu (65301 when there is none of that id). */
  async deleteConditionalMenu(menuid: number): Promise<void> {
    await this.#call('menu/delconditional', 'POST', '/cgi-bin/menu/delconditional', { menuid: String(menuid) });
  }

  /** The menu a follower sees (their OpenID or WeChat ID): the conditional one their rule picks, or the default. */
  async tryMatchMenu(userId: string): Promise<Menu> {
    const answer = await this.#call('menu/trymatch', 'POST', '/cgi-bin/menu/trymatch', { user_id: userId });
    return { button: (answer.button as Menu['button'] | undefined) ?? [] };
  }

  /** Sends a customer-service message (within 48 h of the user's last interaction). */
  async sendCustom(openid: string, message: CustomMessage): Promise<void> {
    if (!openid) throw new ApiArgumentError('sendCustom needs the OpenID of the user');
    await this.#call('message/custom/send', 'POST', '/cgi-bin/message/custom/send', { touser: openid, ...message });
  }

  /**
   * Sends a template message; returns its msgid. WeChat reports delivery later, in a
   * TEMPLATESENDJOBFINISH push. Not bound to the 48-hour window, but to the user following (43004).
   * @example
   * await ctx.api.sendTemplate(openid, { template_id, data: { thing1: { value: '已发货' } }, url })
   */
  async sendTemplate(openid: string, message: TemplateMessage): Promise<number> {
    if (!openid) throw new ApiArgumentError('sendTemplate needs the OpenID of the user');
    const answer = await this.#call('message/template/send', 'POST', '/cgi-bin/message/template/send', { touser: openid, ...message });
    return Number(answer.msgid ?? 0);
  }

  /**
   * Sends a subscribe message (订阅通知) of a template the user accepted (43101 when they did not).
   * @example
   * await ctx.api.sendSubscribe(openid, { template_id, data: { thing1: { value: '预约成功' } }, page: 'https://…' })
   */
  async sendSubscribe(openid: string, message: SubscribeMessage): Promise<void> {
    if (!openid) throw new ApiArgumentError('sendSubscribe needs the OpenID of the user');
    await this.#call('message/subscribe/bizsend', 'POST', '/cgi-bin/message/subscribe/bizsend', { touser: openid, ...message });
  }

  /** Shows "对方正在输入" to the user for up to 15 s, or cancels it; within the 48-hour window. */
  async typing(openid: string, typing = true): Promise<void> {
    const command = typing ? 'Typing' : 'CancelTyping';
    await this.#call('message/custom/typing', 'POST', '/cgi-bin/message/custom/typing', { touser: openid, command });
  }

  /** A user's info; the same as `users.info`. */
  async userInfo(openid: string, lang = 'zh_CN'): Promise<FollowerInfo> {
    return this.users.info(openid, lang);
  }

  /** The JS-SDK's jsapi_ticket, shared and refreshed like the access_token. */
  jsapiTicket(): Promise<string> {
    return this.#jsapiTickets.get();
  }

  /**
   * Exchanges a web authorization code (one use, 5 minutes) for the user's OpenID and scope.
   * @example
   * const { openid, scope } = await api.oauthGrant(code)
   */
  async oauthGrant(code: string): Promise<OauthGrant> {
    const { appId, secret } = this.#options;
    const query = { appid: appId, secret, code, grant_type: 'authorization_code' };
    const answer = await this.#plain('sns/oauth2/access_token', `/sns/oauth2/access_token?${new URLSearchParams(query)}`);
    if (typeof answer.openid !== 'string' || typeof answer.access_token !== 'string')
      throw new ApiError('sns/oauth2/access_token', undefined, 'no openid in the answer');
    return {
      openid: answer.openid,
      scope: String(answer.scope ?? ''),
      accessToken: answer.access_token,
      ...(typeof answer.unionid === 'string' ? { unionid: answer.unionid } : {}),
    };
  }

  /** The user's profile, for a grant of scope snsapi_userinfo (48001 for snsapi_base). */
  async oauthUserInfo(grant: OauthGrant, lang = 'zh_CN'): Promise<Json> {
    return this.#plain(
      'sns/userinfo',
      `/sns/userinfo?${new URLSearchParams({ access_token: grant.accessToken, openid: grant.openid, lang })}`,
    );
  }

  // A call that carries its own credentials rather than the account's access_token.
  async #plain(api: string, pathAndQuery: string): Promise<Json> {
    const answer = await this.#fetch(api, 'GET', `${this.#options.base}${pathAndQuery}`, undefined);
    const errcode = typeof answer.errcode === 'number' ? answer.errcode : 0;
    if (errcode !== 0) throw new ApiError(api, errcode, String(answer.errmsg ?? ''));
    return answer;
  }

  async #call(api: string, method: 'GET' | 'POST', path: string, body?: Body, query?: Record<string, string>): Promise<Json>;
  async #call(
    api: string,
    method: 'GET' | 'POST',
    path: string,
    body: Body | undefined,
    query: Record<string, string>,
    file: true,
  ): Promise<Json | DownloadedFile>;
  async #call(
    api: string,
    method: 'GET' | 'POST',
    path: string,
    body?: Body,
    query: Record<string, string> = {},
    file = false,
  ): Promise<Json | DownloadedFile> {
    const delays = this.#options.busyRetryMs ?? [300, 1000, 3000];
    for (let busy = 0, refreshed = false; ;) {
      const token = await this.tokens.get().catch((error: unknown) => {
        // The call itself never left: say so, and what stopped it.
        const why = error instanceof Error ? error.message : String(error);
        throw new ApiError(api, undefined, `not sent: the token could not be fetched (${why})`, { reached: false, cause: error });
      });
      const url = `${this.#options.base}${path}?${new URLSearchParams({ access_token: token, ...query })}`;
      const answer = await this.#fetch(api, method, url, body, file);
      if (answer instanceof DownloadedFile) return answer;
      const errcode = typeof answer.errcode === 'number' ? answer.errcode : 0;
      if (errcode === 0) return answer;
      if (STALE_TOKEN.has(errcode) && !refreshed) {
        refreshed = true;
        this.#options.log.warn({ api, errcode }, 'api: stale access_token, refreshing once');
        await this.tokens.invalidate(token);
        continue;
      }
      const delay = delays[busy++];
      if (errcode === -1 && delay !== undefined) {
        this.#options.log.warn({ api, attempt: busy, delayMs: delay }, 'api: WeChat busy (-1), retrying');
        await new Promise((resolve) => setTimeout(resolve, delay));
        continue;
      }
      throw new ApiError(api, errcode, String(answer.errmsg ?? ''));
    }
  }

  async #fetch(api: string, method: string, url: string, body: Body | undefined): Promise<Json>;
  async #fetch(api: string, method: string, url: string, body: Body | undefined, file: boolean): Promise<Json | DownloadedFile>;
  async #fetch(api: string, method: string, url: string, body: Body | undefined, file = false): Promise<Json | DownloadedFile> {
    const metrics = this.#options.metrics ?? NO_METRICS;
    try {
      // A file may take a while to go up or come down (10 MB at most): a minute, not the call's 5 s.
      const timeoutMs =
        body instanceof FormData || file ? Math.max(60_000, this.#options.timeoutMs ?? 0) : (this.#options.timeoutMs ?? 5000);
      const response = await fetch(url, {
        method,
        // A form sets its own multipart content type, boundary included.
        ...(body instanceof FormData
          ? { body }
          : body
            ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }
            : {}),
        signal: AbortSignal.timeout(timeoutMs),
      });
      // A file comes as itself; an error, even from a file's endpoint, as JSON (or text/plain JSON).
      const type = response.headers.get('content-type') ?? '';
      if (file && !/json|text\/plain/i.test(type)) {
        metrics.apiCall(api, 0);
        return new DownloadedFile(
          new Uint8Array(await response.arrayBuffer()),
          type,
          filenameOf(response.headers.get('content-disposition')),
        );
      }
      const answer: unknown = await response.json();
      if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) throw new SyntaxError('not an object');
      const { errcode } = answer as Json;
      metrics.apiCall(api, typeof errcode === 'number' ? errcode : 0);
      return answer as Json;
    } catch (error) {
      metrics.apiCall(api, 'network');
      throw new ApiError(api, undefined, describeFailure(error), { reached: !neverLeft(error) });
    }
  }
}

// The name in Content-Disposition: filename*=UTF-8''… (a name that is not ASCII), else filename="a.jpg".
function filenameOf(disposition: string | null): string | undefined {
  const encoded = disposition?.match(/filename\*=UTF-8''([^;\s]+)/i)?.[1];
  if (encoded) {
    try {
      return decodeURIComponent(encoded);
    } catch {
      // a malformed encoding: fall back to the plain name
    }
  }
  return disposition?.match(/filename="?([^";]+)"?/)?.[1];
}

// The endpoint of a path given to get/post: `tags/get` or `/cgi-bin/tags/get`. Its query goes apart,
// and access_token is the client's to add.
function endpointOf(path: string, query: Record<string, string>): string {
  const api = path.replace(/^\/?(cgi-bin\/)?/, '');
  if (!/^[a-z0-9_]+(\/[a-z0-9_]+)*$/i.test(api)) {
    throw new ApiArgumentError(`an endpoint under /cgi-bin/, as 'tags/get' (its query in the query argument), got ${JSON.stringify(path)}`);
  }
  if ('access_token' in query) throw new ApiArgumentError('access_token is added by the client: leave it out of the query');
  return api;
}

// Errors of connecting, before a byte of the request was sent.
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);
function neverLeft(error: unknown): boolean {
  const code = (error as { cause?: { code?: string } })?.cause?.code;
  return code !== undefined && CONNECT_ERRORS.has(code);
}

/**
 * A passive reply as a customer-service message, for a reply that missed the 5-second window.
 * @example
 * customMessageOf({ type: 'text', content: 'hi' }) // { msgtype: 'text', text: { content: 'hi' } }
 */
export function customMessageOf(reply: NormalReply): CustomMessage | undefined {
  if (isFileReply(reply)) return undefined; // uploaded first, by the file-replies plugin
  switch (reply.type) {
    case 'text':
      return { msgtype: 'text', text: { content: reply.content } };
    case 'image':
      return { msgtype: 'image', image: { media_id: reply.mediaId } };
    case 'voice':
      return { msgtype: 'voice', voice: { media_id: reply.mediaId } };
    case 'video':
      return { msgtype: 'video', video: { media_id: reply.mediaId, title: reply.title ?? '', description: reply.description ?? '' } };
    case 'music':
      return {
        msgtype: 'music',
        music: {
          title: reply.title ?? '',
          description: reply.description ?? '',
          musicurl: reply.musicUrl ?? '',
          hqmusicurl: reply.hqMusicUrl ?? '',
          thumb_media_id: reply.thumbMediaId,
        },
      };
    case 'news': {
      // The custom-message API takes one article for news since 2018.
      const a = reply.articles[0]!;
      return {
        msgtype: 'news',
        news: { articles: [{ title: a.title, description: a.description ?? '', url: a.url ?? '', picurl: a.picUrl ?? '' }] },
      };
    }
    case 'transfer_customer_service':
      return undefined;
  }
}

export { ApiArgumentError, ApiError, DownloadedFile, QR_LIMITS };
