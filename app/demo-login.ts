import Router from '@koa/router';
import { pageHeaders } from './browser-guards.ts';

// A tiny website that logs in through the bot: shows a login code and waits for the scan.
const PAGE = `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>Demo login · 关注公众号登录</title>
<style>body{font:16px system-ui,sans-serif;max-width:32rem;margin:3rem auto;text-align:center;color:#222}
img{width:16rem;height:16rem}code{background:#f2f2f2;padding:.2rem .4rem;border-radius:4px;word-break:break-all}
#status{font-weight:600;margin:1rem}</style></head>
<body><h1>Demo login</h1><p>Scan with WeChat to log in (关注公众号登录).</p>
<img id="qr" alt="login code"><div id="status">loading…</div>
<p>No phone? Run <code id="cmd"></code></p>
<script>
async function start() {
  const code = await (await fetch('/demo/api/login', { method: 'POST' })).json();
  document.getElementById('qr').src = code.qrPng;
  document.getElementById('cmd').textContent = 'npm run simulate -- scan --scene ' + code.scene;
  document.getElementById('status').textContent = 'waiting for the scan…';
  for (;;) {
    const s = await (await fetch('/demo/api/login/' + code.scene + '?wait=25')).json();
    if (s.status === 'scanned') return void (document.getElementById('status').textContent = 'logged in as ' + s.openid + (s.newFollower ? ' (new follower)' : ''));
    if (s.status === 'expired') return void (document.getElementById('status').textContent = 'the code expired: reload the page');
  }
}
start();
</script></body></html>`;

/**
 * The demo login page, served in emulator mode at /demo/login.
 * @example
 * app.use(demoLoginPage().routes())
 */
export function demoLoginPage(): Router {
  const router = new Router();
  // Its script and style are inline; what matters here is that no other site can frame it.
  router.get('/demo/login', pageHeaders("frame-ancestors 'none'"), (koa) => {
    koa.type = 'html';
    koa.body = PAGE;
  });
  return router;
}
