import Router from '@koa/router';
import type { WechatApi } from '../core/api/client.ts';
import type { WebAuth, WechatUser } from '../core/features/web-auth.ts';
import { jssdkConfig } from '../core/protocol/jssdk.ts';
import { pageHeaders } from './browser-guards.ts';
import { requireWechatUser } from './oauth-routes.ts';

const escape = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const page = (title: string, body: string) =>
  `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>${title}</title>
<style>body{font:16px system-ui,sans-serif;max-width:32rem;margin:3rem auto;color:#222}code{background:#f2f2f2;padding:.1rem .3rem;border-radius:4px;word-break:break-all}</style>
</head><body><h1>${title}</h1>${body}</body></html>`;

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
    koa.body = page(
      '会员中心 · Member',
      `<p data-testid="greeting">你好，${escape(nickname)}！</p>
       <p data-testid="campaign">${user.campaign ? `你通过「${escape(user.campaign)}」关注了我们。` : user.follower ? '感谢关注！' : '你还没有关注我们。'}</p>`,
    );
  });
  router.get('/demo/jssdk', headers, async (koa) => {
    const config = jssdkConfig({ appId: options.api.appId, ticket: await options.api.jsapiTicket(), url: koa.href });
    koa.type = 'html';
    koa.body = page(
      'JS-SDK',
      `<p>This page signed itself: pass these to <code>wx.config</code>, with the APIs it needs.</p>
       <pre data-testid="jssdk-config">${escape(JSON.stringify(config, null, 2))}</pre>`,
    );
  });
  return router;
}
