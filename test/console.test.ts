import test from 'ava';
import { request } from 'node:http';
import { join } from 'node:path';
import { ARTIFACTS, browserTest } from './_browser.ts';
import { burst, eventFields, sqliteStore, startEmulator, startServer, testConfig, withinOneMinute } from './_helpers.ts';
import { defineConfig } from '../core/config/bot-config.ts';
import { on } from '../core/kernel/filters.ts';

/** A GET with the Host header a browser would send for that name (fetch cannot set it). */
function getWithHost(url: string, host: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    request(url, { headers: { host } }, (response) => {
      let text = '';
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
    })
      .on('error', reject)
      .end();
  });
}

browserTest(test, 'the console: tap a click button, follow via a campaign, unfollow, and see it counted', async (t, browser) => {
  const { api, emulator } = await startEmulator(t);
  const server = await startServer(t, { api, emulator });
  await server.sync!.firstPass;
  const page = await browser.newPage({ viewport: { width: 1200, height: 760 } });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  // Under the console's Content-Security-Policy, anything it blocked would be reported here.
  page.on('console', (message) => void (message.type() === 'error' && errors.push(message.text())));
  await page.goto(server.url.replace(/\/wechat$/, '/console'));

  // The menu as WeChat shows it: three columns, a sub menu that opens.
  const columns = page.getByTestId('menu').locator('.col');
  t.is(await columns.count(), 2);
  await page.getByTestId('menu-button').filter({ hasText: '今日' }).click();
  await page.getByTestId('bot-bubble').filter({ hasText: 'today reply' }).waitFor();
  await columns.filter({ hasText: '更多' }).click();
  t.true(await page.getByTestId('menu-button').filter({ hasText: '官网' }).isVisible(), 'the sub menu opened');
  await page.getByTestId('menu-button').filter({ hasText: '官网' }).click();

  await page.getByTestId('follow-poster').click();
  await page.getByTestId('bot-bubble').filter({ hasText: 'poster welcome' }).waitFor();
  await page.getByTestId('text-input').fill('你好');
  await page.getByTestId('text-input').press('Enter');
  await page.screenshot({ path: join(ARTIFACTS, 'console-phone.png') });

  await page.locator('[data-tab=campaigns]').click();
  const poster = page.getByTestId('campaign-poster');
  await poster.getByTestId('follows').filter({ hasText: '1' }).waitFor();
  t.is(await poster.getByTestId('scans').textContent(), '1');
  t.true(await poster.locator('img').isVisible(), 'the code is shown');
  await page.screenshot({ path: join(ARTIFACTS, 'console-campaigns.png') });

  await page.locator('[data-tab=phone]').click();
  await page.getByTestId('unfollow').click();
  await page.locator('[data-tab=campaigns]').click();
  await poster.getByTestId('unfollows').filter({ hasText: '1' }).waitFor();

  await page.locator('[data-tab=events]').click();
  await page.getByTestId('events').locator('tbody tr').filter({ hasText: 'unsubscribe' }).waitFor();
  const log = await page.getByTestId('events').textContent();
  t.false(/oConsole[a-z0-9]{10}/.test(log ?? ''), 'OpenIDs are masked');
  await page.screenshot({ path: join(ARTIFACTS, 'console-events.png') });

  await page.locator('[data-tab=sync]').click();
  await page.getByTestId('sync').getByText('menu:').first().waitFor();
  await page.screenshot({ path: join(ARTIFACTS, 'console-sync.png') });
  t.deepEqual(errors, []);
});

browserTest(
  test,
  'the Menus tab shows each conditional menu with its menuid, and previews the menu a follower sees (trymatch)',
  async (t, browser) => {
    const { api, emulator } = await startEmulator(t);
    const config = testConfig({
      campaigns: { poster: { scene: 'poster', expireSeconds: 86_400, welcome: 'poster welcome', tag: 'VIP' } },
      conditionalMenus: { vip: { matchrule: { tag: 'VIP' }, button: [{ type: 'click', name: '会员专享', key: 'TODAY' }] } },
    });
    const server = await startServer(t, { api, emulator, config });
    t.like(await server.sync!.firstPass, { errors: [], conditionalMenus: [{ name: 'vip', action: 'created' }] });
    await server.push(eventFields('oVipUser0001', 'subscribe', { EventKey: 'qrscene_poster' }));
    await server.push(eventFields('oPlainUser01', 'subscribe', { EventKey: '' }));
    for (let i = 0; i < 200 && !(emulator.users.get('oVipUser0001')?.tags.length ?? 0); i++) await new Promise((r) => setTimeout(r, 25));

    const page = await browser.newPage({ viewport: { width: 1200, height: 760 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(server.url.replace(/\/wechat$/, '/console#menus'));
    const vip = page.getByTestId('conditional-vip');
    await vip.waitFor();
    t.regex((await vip.textContent()) ?? '', /menuid \d+.*tag: VIP.*会员专享/s);
    const preview = async (user: string) => {
      await page.getByTestId('trymatch-user').fill(user);
      await page.getByTestId('trymatch-go').click();
      await page.getByTestId('trymatch-result').waitFor();
    };
    await preview('oVipUser0001');
    await page.getByTestId('trymatch-matched').filter({ hasText: 'menu: vip' }).waitFor();
    t.regex((await page.getByTestId('trymatch-result').textContent()) ?? '', /会员专享/);
    await page.screenshot({ path: join(ARTIFACTS, 'console-menus.png') });
    await preview('oPlainUser01');
    await page.getByTestId('trymatch-matched').filter({ hasText: 'menu: default' }).waitFor();
    t.regex((await page.getByTestId('trymatch-result').textContent()) ?? '', /今日/);
    t.deepEqual(errors, []);
  },
);

browserTest(
  test,
  'the phone: every button type of the menu, every message a person sends, and each kind of reply as WeChat shows it',
  async (t, browser) => {
    const { api, emulator } = await startEmulator(t);
    const config = defineConfig({
      menu: {
        button: [
          {
            name: '扫拍',
            sub_button: [
              { type: 'scancode_push', name: '扫码', key: 'SCANP' },
              { type: 'scancode_waitmsg', name: '扫码等待', key: 'SCANW' },
              { type: 'pic_sysphoto', name: '拍照', key: 'PHOTO1' },
              { type: 'pic_photo_or_album', name: '相册', key: 'PHOTO2' },
              { type: 'pic_weixin', name: '微信相册', key: 'PHOTO3' },
            ],
          },
          {
            name: '更多',
            sub_button: [
              { type: 'location_select', name: '位置', key: 'WHERE' },
              {
                type: 'miniprogram',
                name: '小程序',
                url: 'https://example.com/',
                appid: 'wx1234567890abcdef',
                pagepath: 'pages/index/index',
              },
              { type: 'click', name: '新闻', key: 'NEWS' },
              { type: 'click', name: '音乐', key: 'MUSIC' },
              { type: 'click', name: '语音', key: 'VOICE' },
            ],
          },
          { type: 'click', name: '图片', key: 'IMG' },
        ],
      },
      clicks: {
        NEWS: { type: 'news', articles: [{ title: '本周新闻', description: '三条要闻', url: 'https://example.com/news' }] },
        MUSIC: { type: 'music', title: '春之歌', description: '门德尔松', musicUrl: 'https://example.com/a.mp3', thumbMediaId: 'thumb-1' },
        VOICE: { type: 'voice', mediaId: 'voice-media-1' },
        IMG: { type: 'image', mediaId: 'image-media-1' },
      },
      plugins: [
        { name: 'scan', middleware: on('scancode_waitmsg', (ctx) => `scanned ${ctx.event.scanCodeInfo?.scanResult}`) },
        { name: 'photo', middleware: on('image', () => 'nice photo') },
        { name: 'place', middleware: on('location', (ctx) => `you are at ${ctx.event.label}`) },
        { name: 'voice', middleware: on('voice', (ctx) => `heard ${ctx.event.recognition}`) },
        { name: 'video', middleware: on('video', () => 'nice video') },
        { name: 'link', middleware: on('link', (ctx) => `read ${ctx.event.title}`) },
      ],
    });
    const server = await startServer(t, { api, emulator, config });
    await server.sync!.firstPass;
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => void (message.type() === 'error' && errors.push(message.text())));
    await page.goto(server.url.replace(/\/wechat$/, '/console'));
    const bot = page.getByTestId('bot-bubble');
    const press = async (column: string, button?: string) => {
      await page.getByTestId('menu').locator('.col').filter({ hasText: column }).click();
      if (button)
        await page
          .getByTestId('menu-button')
          .filter({ hasText: new RegExp(`^${button}$`) })
          .click();
    };

    await page.getByTestId('scan-result').fill('6901234567892');
    await press('扫拍', '扫码等待');
    await bot.filter({ hasText: 'scanned 6901234567892' }).waitFor();
    for (const button of ['拍照', '相册', '微信相册']) await press('扫拍', button);
    await bot
      .filter({ hasText: /^nice photo$/ })
      .nth(2)
      .waitFor();
    t.is(await bot.filter({ hasText: /^nice photo$/ }).count(), 3, 'each photo is answered once, and not its button');
    await press('更多', '位置');
    await bot.filter({ hasText: 'you are at 北京市东城区天安门' }).waitFor();
    await press('更多', '小程序');
    await page.getByText('opened mini program wx1234567890abcdef pages/index/index').waitFor();
    await press('更多', '新闻');
    await page.getByTestId('news-card').filter({ hasText: '本周新闻' }).waitFor();
    t.is(await page.getByTestId('news-card').getAttribute('href'), 'https://example.com/news');
    await press('更多', '音乐');
    await page.getByTestId('music-card').filter({ hasText: '春之歌' }).waitFor();
    await press('更多', '语音');
    await page.getByTestId('voice-reply').filter({ hasText: 'voice-media-1' }).waitFor();
    await press('图片');
    await page.getByTestId('image-reply').filter({ hasText: 'image-media-1' }).waitFor();
    await press('扫拍', '扫码');

    await page.getByTestId('send-image').click();
    await page.getByTestId('text-input').fill('今天天气');
    await page.getByTestId('send-voice').click();
    await bot.filter({ hasText: 'heard 今天天气' }).waitFor();
    await page.getByTestId('send-video').click();
    await bot.filter({ hasText: 'nice video' }).waitFor();
    await page.getByTestId('send-location').click();
    await page.getByTestId('send-link').click();
    await bot.filter({ hasText: 'read 一篇文章' }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'console-phone-buttons.png') });

    const pushed = (await (await fetch(server.url.replace(/\/wechat$/, '/console/api/events'))).json()) as { type: string }[];
    const types = pushed.map((e) => e.type);
    for (const type of [
      'scancode_push',
      'scancode_waitmsg',
      'pic_sysphoto',
      'pic_photo_or_album',
      'pic_weixin',
      'location_select',
      'view_miniprogram',
      'image',
      'voice',
      'video',
      'location',
      'link',
    ]) {
      t.true(types.includes(type), `the bot saw a ${type}`);
    }
    t.deepEqual(errors, []);
  },
);

browserTest(
  test,
  "web authorization offline: the demo member page greets its user by nickname and campaign; the phone's view button opens its page through the flow",
  async (t, browser) => {
    const { api, emulator } = await startEmulator(t);
    const config = defineConfig({
      menu: { button: [{ type: 'view', name: '商城', url: 'https://shop.example.com/landing' }] },
      campaigns: { poster: { scene: 'poster', permanent: true, welcome: 'poster welcome' } },
      oauth: { redirectHosts: ['shop.example.com'] },
    });
    const server = await startServer(t, { api, emulator, config });
    await server.sync!.firstPass;
    await server.push({
      ToUserName: 'gh',
      FromUserName: 'oMemberUser',
      CreateTime: 1,
      MsgType: 'event',
      Event: 'subscribe',
      EventKey: 'qrscene_poster',
    });
    const origin = server.url.replace(/\/wechat$/, '');
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${origin}/demo/member`);
    // WeChat's authorize page, played by the emulator: who opens the page, and their consent.
    await page.getByTestId('oauth-openid').fill('oMemberUser');
    await page.getByTestId('oauth-allow').click();
    await page.getByTestId('greeting').waitFor();
    t.is(await page.getByTestId('greeting').textContent(), '你好，模拟用户User！');
    t.regex((await page.getByTestId('campaign').textContent()) ?? '', /poster/);
    t.is(new URL(page.url()).pathname, '/demo/member');
    t.false(page.url().includes('wx_ticket'), 'the ticket is not left in the address');
    await page.reload();
    t.is(await page.getByTestId('greeting').textContent(), '你好，模拟用户User！', 'the session remembers the user');

    await page.goto(`${origin}/demo/jssdk`);
    const signed = JSON.parse((await page.getByTestId('jssdk-config').textContent()) ?? '{}') as { signature?: string; appId?: string };
    t.regex(signed.signature ?? '', /^[0-9a-f]{40}$/);

    const consolePage = await context.newPage();
    await consolePage.goto(`${origin}/console`);
    const landing = context.waitForEvent('request', (request) => request.url().startsWith('https://shop.example.com/landing?'));
    const popup = context.waitForEvent('page');
    await consolePage.getByTestId('menu-button').filter({ hasText: '商城' }).click();
    const opened = await popup;
    await opened.getByTestId('oauth-allow').click();
    const reached = new URL((await landing).url());
    t.regex(reached.searchParams.get('wx_ticket') ?? '', /^[\w-]{24}$/, 'the page behind the view button got its ticket');
    await context.close();
  },
);

test('against a real account without BOT_CONSOLE_TOKEN, /console does not exist', async (t) => {
  const { api } = await startEmulator(t);
  const server = await startServer(t, { api });
  const base = server.url.replace(/\/wechat$/, '');
  t.is((await fetch(`${base}/console`)).status, 404);
  t.is((await fetch(`${base}/console/api/state`)).status, 404);
});

test('against a real account with BOT_CONSOLE_TOKEN: a wrong token is refused; the right one reads, never simulates', async (t) => {
  const { api } = await startEmulator(t);
  const server = await startServer(t, { api, consoleToken: 'console-secret-42' });
  const base = server.url.replace(/\/wechat$/, '');
  t.is((await fetch(`${base}/console`)).status, 200, 'the page asks for the token');
  t.is((await fetch(`${base}/console/api/state`)).status, 401);
  const login = (token: string) =>
    fetch(`${base}/console/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  t.is((await login('wrong')).status, 401);
  const form = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=console-secret-42' };
  t.is((await fetch(`${base}/console/login`, form)).status, 415, 'a form on another site cannot log in');
  const ok = await login('console-secret-42');
  t.is(ok.status, 204);
  const cookie = ok.headers.get('set-cookie') ?? '';
  t.regex(cookie, /HttpOnly/i);
  t.false(cookie.includes('console-secret-42'));
  const session = { cookie: cookie.split(';')[0]! };
  t.like(await (await fetch(`${base}/console/api/state`, { headers: session })).json(), { mode: 'account', canSimulate: false });
  t.is((await fetch(`${base}/console/api/campaigns`, { headers: session })).status, 200);
  const simulate = await fetch(`${base}/console/api/simulate`, {
    method: 'POST',
    headers: { ...session, 'content-type': 'application/json' },
    body: JSON.stringify({ user: 'oReal', action: { kind: 'click', key: 'TODAY' } }),
  });
  t.is(simulate.status, 403);
  t.false(server.log.text().includes('console-secret-42'), 'the token never reaches the log');
});

test('in emulator mode a request for another host name is refused (DNS rebinding); localhost and IP addresses are served', async (t) => {
  const { api, emulator } = await startEmulator(t);
  const server = await startServer(t, { api, emulator });
  const state = server.url.replace(/\/wechat$/, '/console/api/state');
  const port = new URL(state).port;
  const refused = await getWithHost(state, `rebind.attacker.example:${port}`);
  t.is(refused.status, 421);
  t.regex(refused.text, /localhost/);
  t.is((await getWithHost(server.url.replace(/\/wechat$/, '/demo/login'), 'rebind.attacker.example')).status, 421);
  for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `192.168.1.20:${port}`])
    t.is((await getWithHost(state, host)).status, 200, host);
});

test('a page on another site cannot drive the console: forms and other content types get 415, a foreign Origin or a cross-site fetch 403', async (t) => {
  const { api, emulator } = await startEmulator(t);
  const server = await startServer(t, { api, emulator });
  const simulate = server.url.replace(/\/wechat$/, '/console/api/simulate');
  const post = (headers: Record<string, string>, body: string) => fetch(simulate, { method: 'POST', headers, body });
  const json = JSON.stringify({ user: 'oConsoleUser', action: { kind: 'click', key: 'TODAY' } });
  // What a plain <form> on any site can send, with no script and no preflight:
  const form = 'user=oFormUser&action[kind]=click&action[key]=TODAY';
  t.is((await post({ 'content-type': 'application/x-www-form-urlencoded' }, form)).status, 415);
  t.is((await post({ 'content-type': 'text/plain' }, json)).status, 415);
  t.is((await post({ 'content-type': 'multipart/form-data; boundary=x' }, '--x--')).status, 415);
  t.is((await post({ 'content-type': 'application/json', origin: 'https://attacker.example' }, json)).status, 403);
  t.is((await post({ 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' }, json)).status, 403);
  const events = async () => (await fetch(simulate.replace(/simulate$/, 'events'))).json();
  t.deepEqual(await events(), [], 'nothing reached the bot');
  const own = await post({ 'content-type': 'application/json', origin: new URL(simulate).origin, 'sec-fetch-site': 'same-origin' }, json);
  t.is(own.status, 200);
  t.like(await own.json(), { replies: [{ text: 'text: today reply' }] });
});

test('guessing BOT_CONSOLE_TOKEN: after 10 wrong tokens in a minute every login from that address gets 429, the right token too', async (t) => {
  const { api } = await startEmulator(t);
  const server = await startServer(t, { api, consoleToken: 'console-secret-42' });
  const login = (token: string) =>
    fetch(server.url.replace(/\/wechat$/, '/console/login'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
  await withinOneMinute();
  const statuses = [];
  for (let i = 0; i < 10; i++) statuses.push((await login(`guess-${i}`)).status);
  t.deepEqual(statuses, Array(10).fill(401));
  const locked = await login('guess-10');
  t.is(locked.status, 429);
  t.regex(locked.headers.get('retry-after') ?? '', /^\d+$/);
  t.is((await login('console-secret-42')).status, 429, 'a right guess during the lockout is refused too');
});

test('guessing BOT_CONSOLE_TOKEN in a burst sent at once, on the default SQLite store: 10 wrong tokens answered 401, every other 429, the right one among them too', async (t) => {
  const { api } = await startEmulator(t);
  const server = await startServer(t, { api, consoleToken: 'console-secret-42', store: await sqliteStore(t) });
  const url = server.url.replace(/\/wechat$/, '/console/login');
  const login = (token: string) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  // The whole burst in one minute's window: 200 connections may take seconds on a loaded machine.
  await withinOneMinute(20_000);
  const tokens = Array.from({ length: 200 }, (_, i) => (i === 100 ? 'console-secret-42' : `guess-${i}`));
  const statuses = await burst(url, tokens.map(login));
  t.is(statuses.filter((s) => s === 401).length, 10, 'ten wrong tokens were checked, not two hundred');
  t.is(statuses.filter((s) => s === 429).length, statuses[100] === 204 ? 189 : 190);
  // The right one got in only if it came before the tenth wrong one; after the burst it does not.
  t.deepEqual(await burst(url, [login('console-secret-42')]), [429]);
});

test('a malformed JSON login is a 400, and the token it carries never reaches the log', async (t) => {
  const { api } = await startEmulator(t);
  const server = await startServer(t, { api, consoleToken: 'console-secret-42' });
  const response = await fetch(server.url.replace(/\/wechat$/, '/console/login'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"token":"console-secret-42"',
  });
  t.is(response.status, 400);
  t.false((await response.text()).includes('console-secret-42'));
  t.false(server.log.text().includes('console-secret-42'), server.log.text());
  t.like(server.log.lines().at(-1), { level: 40, status: 400, path: '/console/login' });
});

test('a compressed body (gzip, deflate, br), broken or not, is a 415 before any parser, never a 500 or an error in the log', async (t) => {
  const { api, emulator } = await startEmulator(t);
  const server = await startServer(t, { api, emulator, consoleToken: 'console-secret-42' });
  const base = server.url.replace(/\/wechat$/, '/console');
  const { gzipSync } = await import('node:zlib');
  for (const [encoding, body] of [
    ['gzip', Buffer.from('not gzip at all')],
    ['deflate', Buffer.from('not deflate')],
    ['br', Buffer.from('not brotli')],
    ['gzip', gzipSync('{"token":"console-secret-42"}')],
  ] as const) {
    for (const path of ['/login', '/api/simulate']) {
      const response = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': encoding },
        body,
      });
      t.is(response.status, 415, `${encoding} to ${path}`);
    }
  }
  t.false(server.log.text().includes('"level":50'), server.log.text());
});

test('a vendor file named after an inherited member of an object (__proto__, constructor, toString) is a 404, not an error', async (t) => {
  const { api, emulator } = await startEmulator(t);
  const server = await startServer(t, { api, emulator });
  const base = server.url.replace(/\/wechat$/, '/console');
  for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'])
    t.is((await fetch(`${base}/vendor/${name}`)).status, 404, name);
  t.is((await fetch(`${base}/vendor/preact.js`)).status, 200);
  t.is((await fetch(`${base}/static/constructor.js`)).status, 404);
  t.false(server.log.text().includes('"level":50'), 'nothing was logged as an error');
});

test('simulate checks the action: a wrong kind, a field of the wrong type or too long is a 400 naming the field', async (t) => {
  const { api, emulator } = await startEmulator(t);
  const server = await startServer(t, { api, emulator });
  const simulate = async (action: unknown) => {
    const response = await fetch(server.url.replace(/\/wechat$/, '/console/api/simulate'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'oConsoleUser', action }),
    });
    return { status: response.status, body: (await response.json()) as { error?: string; replies?: { text: string }[] } };
  };
  const refused = async (action: unknown, field: RegExp) => {
    const { status, body } = await simulate(action);
    t.is(status, 400);
    t.regex(body.error ?? '', field);
  };
  await refused({ kind: 'click', key: 42 }, /action\.key/);
  await refused({ kind: 'text', text: ['a'] }, /action\.text/);
  await refused({ kind: 'text', text: 'x'.repeat(5000) }, /action\.text/);
  await refused({ kind: 'view' }, /action\.url/);
  await refused({ kind: 'scan', scene: { $gt: '' } }, /action\.scene/);
  await refused({ kind: 'teleport' }, /action\.kind/);
  await refused('click', /action/);
  t.false(server.log.text().includes('"level":50'), 'nothing failed inside');
  // A scene may be a number, as campaign scenes are.
  t.like(await simulate({ kind: 'subscribe', scene: 1001 }), { status: 200, body: { replies: [{ text: 'text: door welcome door' }] } });
  await refused({ kind: 'location', latitude: 'north', longitude: '113' }, /action\.latitude/);
});

test('behind a TLS proxy (BOT_TRUST_PROXY) the session cookie is Secure; without it a forwarded https is not believed', async (t) => {
  const { api } = await startEmulator(t);
  const login = async (trustProxy: boolean) => {
    const server = await startServer(t, { api, consoleToken: 'console-secret-42', trustProxy });
    const url = new URL(server.url.replace(/\/wechat$/, '/console/login'));
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'https', origin: `https://${url.host}` },
      body: JSON.stringify({ token: 'console-secret-42' }),
    });
    return { status: response.status, cookie: response.headers.get('set-cookie') ?? '' };
  };
  const proxied = await login(true);
  t.is(proxied.status, 204);
  t.regex(proxied.cookie, /;\s*secure/i);
  t.is((await login(false)).status, 403, 'the page is not https://… as far as the bot can tell');
});

test('console pages, its API and the demo login page cannot be framed or sniffed', async (t) => {
  const { api, emulator } = await startEmulator(t);
  const server = await startServer(t, { api, emulator });
  await server.sync!.firstPass;
  const base = server.url.replace(/\/wechat$/, '');
  for (const path of ['/console', '/console/static/app.js', '/console/vendor/preact.js', '/console/api/state', '/demo/login']) {
    const { headers } = await fetch(base + path);
    t.is(headers.get('x-frame-options'), 'DENY', path);
    t.regex(headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/, path);
    t.is(headers.get('x-content-type-options'), 'nosniff', path);
  }
  for (const path of ['/qr/poster.svg', '/qr/nobody.png', '/demo/api/login/d_AAAAAAAAAAAAAAAAAAAAAAAA'])
    t.is((await fetch(base + path)).headers.get('x-content-type-options'), 'nosniff', path);
});

test('behind a proxy (BOT_TRUST_PROXY) wrong tokens are counted per client, by the address the proxy added, whatever the client put before it', async (t) => {
  const { api } = await startEmulator(t);
  const server = await startServer(t, { api, consoleToken: 'console-secret-42', trustProxy: true });
  // nginx's $proxy_add_x_forwarded_for: what the client sent, then the address nginx saw.
  const login = (client: string, spoofed: string) =>
    fetch(server.url.replace(/\/wechat$/, '/console/login'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': `${spoofed}, ${client}` },
      body: JSON.stringify({ token: 'wrong' }),
    });
  await withinOneMinute();
  for (let i = 0; i < 10; i++) await login('203.0.113.7', `10.0.0.${i}`);
  t.is((await login('203.0.113.7', '10.0.0.99')).status, 429);
  t.is((await login('203.0.113.8', '10.0.0.1')).status, 401, 'another client is not locked out');
});
