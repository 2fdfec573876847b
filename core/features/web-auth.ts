import { randomBytes } from 'node:crypto';
import type { WechatApi } from '../api/client.ts';
import { ApiError } from '../api/errors.ts';
import type { Store } from '../state/store.ts';
import type { Users } from '../state/users.ts';

/** The two scopes of web authorization: the OpenID alone, or the profile too (with the user's consent). */
export type OauthScope = 'snsapi_base' | 'snsapi_userinfo';

/** The oauth section of bot.config.ts. */
export interface OauthOptions {
  /** The hosts a page may be on to be sent back to after authorization: no open redirect. */
  redirectHosts?: readonly string[];
}

/** What a website reads with a one-time ticket: who opened its page. */
export interface WechatUser {
  openid: string;
  unionid?: string;
  scope: OauthScope;
  /** sns/userinfo's answer, for snsapi_userinfo. */
  user?: Record<string, unknown>;
  /** Whether the user follows the account. */
  follower: boolean;
  /** The campaign whose code brought them, from the bot's own record. */
  campaign?: string;
}

/** Options of {@link WebAuth}. */
export interface WebAuthOptions extends OauthOptions {
  api: WechatApi;
  store: Store;
  users: Users;
}

/** A refusal the routes answer with 400 and this message. */
export class WebAuthError extends Error {
  override name = 'WebAuthError';
}

const STATE_MS = 10 * 60_000; // as long as a user may take on WeChat's consent page
const TICKET_MS = 5 * 60_000; // a website redeems its ticket at once
/** How long a page the bot serves remembers its user (its session, and the cookie that names it). */
export const SESSION_MS = 24 * 3600_000;
const SCOPES = new Set<string>(['snsapi_base', 'snsapi_userinfo']);
const token = () => randomBytes(18).toString('base64url'); // 144 bits
// What a state, a ticket or a session id may look like before the store is asked about it.
const wellFormed = (value: string | undefined): value is string => value !== undefined && /^[\w-]{10,64}$/.test(value);

/**
 * WeChat's web authorization (网页授权) for the pages behind the menu: a page is sent through
 * WeChat's authorize URL with a state bound to it, WeChat comes back with a code, the code is
 * exchanged once for the OpenID (and the profile, for snsapi_userinfo), and the page gets a
 * one-time ticket that its back end redeems for who the user is. States and tickets live in the
 * store, single use, so any instance may answer any step.
 * @example
 * const url = await webAuth.authorizeUrl('https://shop.example.com/member', 'snsapi_base', 'https://bot.example.com')
 */
export class WebAuth {
  readonly #options: WebAuthOptions;
  readonly #hosts: ReadonlySet<string>;

  constructor(options: WebAuthOptions) {
    this.#options = options;
    this.#hosts = new Set((options.redirectHosts ?? []).map((host) => host.toLowerCase()));
  }

  /**
   * The URL of WeChat's authorize page for a page, with its keys in WeChat's order. The page must
   * be an https URL on a listed host (or on the bot's own); `publicUrl` is the bot's origin.
   */
  async authorizeUrl(redirect: string, scope: string, publicUrl: string): Promise<string> {
    if (!SCOPES.has(scope)) throw new WebAuthError('scope must be snsapi_base or snsapi_userinfo');
    const page = this.#checkRedirect(redirect, publicUrl);
    const state = token();
    await this.#options.store.set(`oauth:state:${state}`, { redirect: page.href, scope }, STATE_MS);
    const query = [
      `appid=${encodeURIComponent(this.#options.api.appId)}`,
      `redirect_uri=${encodeURIComponent(`${publicUrl}/oauth/callback`)}`,
      'response_type=code',
      `scope=${scope}`,
      `state=${state}`,
    ].join('&');
    return `${this.#options.api.authorizeBase}/connect/oauth2/authorize?${query}#wechat_redirect`;
  }

  /**
   * WeChat came back: the state is used up, the code exchanged, and the page's URL returned with
   * `wx_ticket` (or `wx_error=denied` when the user refused: WeChat then sends no code).
   */
  async callback(code: string | undefined, state: string | undefined): Promise<string> {
    const { store } = this.#options;
    if (!wellFormed(state)) throw new WebAuthError('unknown or expired state');
    // Single use, across instances: whoever claims it first goes on.
    const pending = await store.get<{ redirect: string; scope: OauthScope }>(`oauth:state:${state}`);
    if (!pending || !(await store.claim(`oauth:used:${state}`, true, STATE_MS))) throw new WebAuthError('unknown, expired or used state');
    await store.delete(`oauth:state:${state}`);
    const back = new URL(pending.redirect);
    if (!code) {
      back.searchParams.set('wx_error', 'denied');
      return back.href;
    }
    const grant = await this.#options.api.oauthGrant(code);
    const user = pending.scope === 'snsapi_userinfo' ? await this.#options.api.oauthUserInfo(grant) : undefined;
    const ticket = token();
    const key = `oauth:ticket:${ticket}`;
    const record = {
      openid: grant.openid,
      scope: pending.scope,
      ...(grant.unionid ? { unionid: grant.unionid } : {}),
      ...(user ? { user: withoutCredentials(user) } : {}),
    };
    await store.set(key, record, TICKET_MS);
    // Personal data: the purge on unsubscribe finds it through the user's record.
    await this.#options.users.link(grant.openid, key, { revive: true }); // the user opened the page: theirs afresh
    back.searchParams.set('wx_ticket', ticket);
    return back.href;
  }

  /** Who the ticket's page was opened by, the first time it is asked; undefined after, or when unknown. */
  async redeem(ticket: string): Promise<WechatUser | undefined> {
    const { store, users, api } = this.#options;
    if (!wellFormed(ticket)) return undefined;
    const key = `oauth:ticket:${ticket}`;
    const record = await store.get<Omit<WechatUser, 'follower' | 'campaign'>>(key);
    if (!record || !(await store.claim(`oauth:redeemed:${ticket}`, true, TICKET_MS))) return undefined;
    await store.delete(key);
    await users.unlink(record.openid, key);
    const held = await users.get(record.openid);
    const follower = await api.userInfo(record.openid).then(
      (info) => info.subscribe === 1,
      // user/info failing (quota, an unverified account) must not lose the user: the bot's own record says.
      (error: unknown) => (error instanceof ApiError ? held?.followedAt !== undefined : Promise.reject(error)),
    );
    return { ...record, follower, ...(typeof held?.campaign === 'string' ? { campaign: held.campaign } : {}) };
  }

  /** Keeps a user for a day under a new session id (a page's cookie), linked to their record for the purge. */
  async openSession(user: WechatUser): Promise<string> {
    const id = token();
    await this.#options.store.set(`oauth:session:${id}`, user, SESSION_MS);
    await this.#options.users.link(user.openid, `oauth:session:${id}`, { revive: true });
    return id;
  }

  /** The user of a session, while it lasts and until they unfollow. */
  async session(id: string | undefined): Promise<WechatUser | undefined> {
    return wellFormed(id) ? this.#options.store.get<WechatUser>(`oauth:session:${id}`) : undefined;
  }

  #checkRedirect(redirect: string, publicUrl: string): URL {
    let page: URL;
    try {
      page = new URL(redirect);
    } catch {
      throw new WebAuthError('redirect must be an absolute URL');
    }
    const own = new URL(publicUrl);
    const local = own.protocol === 'http:' && page.host === own.host; // the emulator's demo pages, on this machine
    if (page.protocol !== 'https:' && !local) throw new WebAuthError('redirect must be an https URL');
    if (page.host !== own.host && !this.#hosts.has(page.hostname.toLowerCase())) {
      throw new WebAuthError(`redirect host ${page.hostname} is not in oauth.redirectHosts`);
    }
    if (page.username || page.password) throw new WebAuthError('redirect must not carry credentials');
    return page;
  }
}

// sns/userinfo answers with the profile; nothing in it is a credential, but keep only the profile.
function withoutCredentials(user: Record<string, unknown>): Record<string, unknown> {
  const { access_token: _token, refresh_token: _refresh, errcode: _errcode, errmsg: _errmsg, ...profile } = user;
  return profile;
}
