import Router from '@koa/router';
import type { WechatApi } from '../core/api/client.ts';
import type { WebAuth, WechatUser } from '../core/features/web-auth.ts';
import { jssdkConfig } from '../core/protocol/jssdk.ts';
import { pageHeaders } from './browser-guards.ts';
import { escapeHtml, htmlPage } from './html.ts';
import { requireWechatUser } from './oauth-routes.ts';

const STYLE =
  'body{font:16px system-ui,sans-serif;max-width:32rem;margin:3rem auto;color:#222}code{background:#f2f2f2;padding:.1rem .3rem;border-radius:4px;word-break:break-all}';

/**
 * The pages behind a menu's view buttons, as a bot serves them itself, in emulator mode:
 * `/demo/member` knows who opened it through web authorization (and greets them by nickname and
 * campaign), `/demo/jssdk` signs itself for the JS-SDK.
 * @example
 * app.use(demoPages({ webAuth, api }).routes())
 */
export function demoPages(options: { webAuth: WebAuth; api: WechatApi }): Router {
  const router = new Router();
  const headers = pageHeaders("default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
  const member = requireWechatUser({ webAuth: options.webAuth, publicUrl: undefined, emulator: true, scope: 'snsapi_userinfo' });
  router.get('/demo/member', headers, member, (koa) => {
    const user = koa.state.wechatUser as WechatUser;
    const nickname = typeof user.user?.nickname === 'string' ? user.user.nickname : user.openid;
    koa.type = 'html';
    koa.body = htmlPage(
      '会员中心 · Member',
      `<p data-testid="greeting">你好，${escapeHtml(nickname)}！</p>
       <p data-testid="campaign">${user.campaign ? `你通过「${escapeHtml(user.campaign)}」关注了我们。` : user.follower ? '感谢关注！' : '你还没有关注我们。'}</p>`,
      STYLE,
    );
  });
  router.get('/demo/jssdk', headers, async (koa) => {
    const config = jssdkConfig({ appId: options.api.appId, ticket: await options.api.jsapiTicket(), url: koa.href });
    koa.type = 'html';
    koa.body = htmlPage(
      'JS-SDK',
      `<p>This page signed itself: pass these to <code>wx.config</code>, with the APIs it needs.</p>
       <pre data-testid="jssdk-config">${escapeHtml(JSON.stringify(config, null, 2))}</pre>`,
      STYLE,
    );
  });
  return router;
}
