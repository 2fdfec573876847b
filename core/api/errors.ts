/** What to do about the errcodes a bot author meets most. */
const HINTS: Record<number, string> = {
  [-1]: 'WeChat is busy; retried with backoff',
  40001: 'the access_token is invalid or not the latest (another process may have refreshed it with /cgi-bin/token)',
  40013: 'WECHAT_APPID is not a valid AppID',
  40125: 'WECHAT_SECRET is wrong: copy the AppSecret again from the account console',
  40164: "this machine's IP is not on the account's IP whitelist (设置与开发 → 基本配置 → IP白名单)",
  42001: 'the access_token expired',
  45009: "the API's daily quota is used up; it resets at midnight Beijing time",
  45011: 'called too often; wait and try again',
  48001: 'the account is not authorized for this API (check its type and verification)',
  43004: 'the user no longer follows the account',
  45015: "outside the 48-hour customer-service window: the user hasn't interacted recently",
  45047: 'too many customer-service messages without a reply from the user',
  46003: 'the account has no menu',
  40003: 'not an OpenID of a user of this account',
  40007: 'no such media_id: temporary media last three days; upload it again',
  40032: 'too many OpenIDs in one call (50 a tagging, 20 a blacklisting, 100 a batchget)',
  40037: 'no such template_id: add the template in the account console (广告与服务 → 模板消息)',
  43101: 'the user has not accepted this subscribe message (or used up what they accepted)',
  45056: 'an account may have at most 100 tags',
  45057: 'a tag with more than 100,000 followers cannot be deleted',
  45058: "tags 0, 1 and 2 are the system's own and cannot be changed",
  45059: 'a follower may carry at most 20 tags',
  45157: 'that tag name is taken (or empty)',
  45158: 'a tag name is at most 30 bytes (10 Chinese characters)',
  45159: 'no such tag id',
  65301: 'no conditional menu has that menuid',
  65302: 'no such user',
  65303: 'the account needs a default menu (menu/create) before a conditional one',
  65304: 'the matchrule is empty: give tag_id or client_platform_type',
  65320: 'WeChat no longer matches conditional menus on sex, country, province, city or language: use a tag',
};

/**
 * An error from WeChat's HTTP API, or from reaching it. Carries no token or secret.
 * @example
 * try { await api.createMenu(menu) } catch (e) { if (e instanceof ApiError && e.errcode === 40164) … }
 */
export class ApiError extends Error {
  override name = 'ApiError';
  /** WeChat's errcode; undefined when WeChat was not reached or answered garbage. */
  readonly errcode: number | undefined;
  readonly errmsg: string;
  /** Which API: 'menu/create', 'qrcode/create', … */
  readonly api: string;
  /**
   * False when the request cannot have reached WeChat (its token could not be fetched, the
   * connection was refused, the host not found): nothing WeChat does can have come of it.
   */
  readonly reached: boolean;

  constructor(api: string, errcode: number | undefined, errmsg: string, options: { reached?: boolean; cause?: unknown } = {}) {
    const hint = errcode === undefined ? undefined : HINTS[errcode];
    super(`${api}: ${errcode === undefined ? '' : `errcode ${errcode} `}${errmsg}${hint ? ` (${hint})` : ''}`, { cause: options.cause });
    this.api = api;
    this.errcode = errcode;
    this.errmsg = errmsg;
    this.reached = options.reached ?? true;
  }
}

/** Thrown before sending when the arguments would be refused; says what to change. */
export class ApiArgumentError extends Error {
  override name = 'ApiArgumentError';
}

/** errcodes that mean "this access_token is no good": refresh it and retry once. */
export const STALE_TOKEN = new Set([40001, 40014, 42001]);
