import test from 'ava';
import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import { qrPng, qrSvg } from '../core/api/qr-image.ts';
import { eventFields, openid, readReply, startEmulator, startServer, testConfig, withinOneMinute } from './_helpers.ts';

// jsqr is CommonJS with an ES-style default: under NodeNext its function is at .default.
const jsQR = jsQRModule.default;

/** Reads a PNG's QR code back to its content. */
function decodePng(png: Buffer): string | undefined {
  const image = PNG.sync.read(png);
  return jsQR(new Uint8ClampedArray(image.data), image.width, image.height)?.data;
}

/** Draws the SVG the way a viewer would (its path is runs of dark modules) and reads it back. */
function decodeSvg(svg: string): string | undefined {
  const size = Number(/viewBox="0 0 (\d+) \d+"/.exec(svg)?.[1]);
  const path = /<path stroke="#000000" d="([^"]+)"/.exec(svg)?.[1] ?? '';
  const scale = 8;
  const width = size * scale;
  const pixels = new Uint8ClampedArray(width * width * 4).fill(255);
  let x = 0;
  let y = 0;
  for (const [, op, a, b] of path.matchAll(/([MmHh])(-?[\d.]+)(?:[ ,](-?[\d.]+))?/g)) {
    if (op === 'M') [x, y] = [Number(a), Number(b)];
    else if (op === 'm') [x, y] = [x + Number(a), y + Number(b)];
    else {
      const end = op === 'h' ? x + Number(a) : Number(a);
      for (let cx = x; cx < end; cx++)
        for (let py = 0; py < scale; py++)
          for (let px = 0; px < scale; px++)
            pixels.fill(
              0,
              ((Math.floor(y) * scale + py) * width + cx * scale + px) * 4,
              ((Math.floor(y) * scale + py) * width + cx * scale + px) * 4 + 3,
            );
      x = end;
    }
  }
  return jsQR(pixels, width, width)?.data;
}

test('PNG and SVG decode back to the code url', async (t) => {
  const url = 'http://weixin.qq.com/q/02abcDEF_ghiJKLmnoPQRst';
  const png = await qrPng(url);
  t.is(PNG.sync.read(png).width, 1024, 'print size by default');
  t.is(decodePng(png), url);
  t.is(decodePng(await qrPng(url, { size: 256 })), url);
  t.is(decodeSvg(await qrSvg(url)), url);
});

test('the app serves each campaign code as PNG and SVG once the sync made it', async (t) => {
  const { emulator, api } = await startEmulator(t);
  const server = await startServer(t, { api });
  const base = server.url.replace(/\/wechat$/, '');
  await server.sync!.firstPass;
  const created = [...emulator.qrcodes.values()].find((c) => c.scene === 'poster')!;
  const png = await fetch(`${base}/qr/poster.png?size=512`);
  t.is(png.headers.get('content-type'), 'image/png');
  const image = Buffer.from(await png.arrayBuffer());
  t.is(PNG.sync.read(image).width, 512);
  t.is(decodePng(image), created.url);
  const svg = await fetch(`${base}/qr/poster.svg`);
  t.regex(svg.headers.get('content-type') ?? '', /image\/svg\+xml/);
  t.is(decodeSvg(await svg.text()), created.url);
  t.is((await fetch(`${base}/qr/nobody.png`)).status, 404);
});

test('before the sync made a code, its image is a clear 404', async (t) => {
  const { makeApi } = await startEmulator(t);
  const server = await startServer(t, { api: makeApi({ base: 'http://127.0.0.1:9' }), sync: { retryMs: [60_000] } });
  const response = await fetch(`${server.url.replace(/\/wechat$/, '')}/qr/door.png`);
  t.is(response.status, 404);
  t.regex(await response.text(), /no code yet/);
});

test('a PNG wider than 2048 px is served at 2048 px', async (t) => {
  const { api } = await startEmulator(t);
  const server = await startServer(t, { api });
  await server.sync!.firstPass;
  const png = await fetch(`${server.url.replace(/\/wechat$/, '')}/qr/poster.png?size=4096`);
  t.is(png.status, 200);
  t.is(PNG.sync.read(Buffer.from(await png.arrayBuffer())).width, 2048);
});

// Serial, so that no other test of this file renders meanwhile: it measures this process's CPU time.
test.serial(
  'sixteen concurrent requests for a large PNG not rendered yet cost one render, and pushes are answered meanwhile',
  async (t) => {
    const { api } = await startEmulator(t);
    const server = await startServer(t, { api });
    await server.sync!.firstPass;
    const base = server.url.replace(/\/wechat$/, '');
    const image = async (campaign: string, size = 2048) =>
      Buffer.from(await (await fetch(`${base}/qr/${campaign}.png?size=${size}`)).arrayBuffer());
    const cpu = () => process.cpuUsage().user + process.cpuUsage().system;
    await image('door', 128);
    let before = cpu();
    await image('door');
    const one = cpu() - before;

    before = cpu();
    const burst = Promise.all(Array.from({ length: 16 }, () => image('poster')));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const pushed = Date.now();
    t.like(await readReply(await server.push(eventFields(openid(), 'CLICK', { EventKey: 'TODAY' }))), { Content: 'today reply' });
    const push = Date.now() - pushed;
    const images = await burst;
    const sixteen = cpu() - before;
    t.true(images.every((png) => png.equals(images[0]!)));
    t.true(sixteen < one * 2, `sixteen images took ${Math.round(sixteen / 1000)} ms of CPU, one ${Math.round(one / 1000)} ms`);
    // Far under the deadline: the renders, in their worker, do not hold the event loop.
    t.true(push < 1500, `a push waited ${push} ms`);
  },
);

test('rendering images is rate limited per client; images already rendered are still served', async (t) => {
  const { api } = await startEmulator(t);
  const campaigns = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`c${i}`, { scene: `c${i}`, expireSeconds: 86_400 }]));
  const server = await startServer(t, { api, config: testConfig({ campaigns }) });
  await server.sync!.firstPass;
  const base = server.url.replace(/\/wechat$/, '');
  const files = Object.keys(campaigns).flatMap((name) => [`${name}.svg`, `${name}.png?size=128`, `${name}.png?size=256`]);
  await withinOneMinute();
  const statuses = [];
  for (const file of files.slice(0, 60)) statuses.push((await fetch(`${base}/qr/${file}`)).status);
  t.deepEqual(statuses, Array(60).fill(200));
  const refused = await fetch(`${base}/qr/${files[60]}`);
  t.is(refused.status, 429);
  t.regex(refused.headers.get('retry-after') ?? '', /^\d+$/);
  t.is((await fetch(`${base}/qr/${files[0]}`)).status, 200, 'one rendered before is served from memory');
});
