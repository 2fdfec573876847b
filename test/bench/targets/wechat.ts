// wechat (node-webot), connect-style middleware on a plain http server, doing the same job.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
// @ts-expect-error wechat ships no types
import wechat from 'wechat';
import { AES_KEY, APPID, ready, SCENE, TOKEN, WELCOME } from '../job.ts';

const config = process.env.BENCH_AES ? { token: TOKEN, appid: APPID, encodingAESKey: AES_KEY } : TOKEN;
type Req = { weixin: Record<string, string> };
type Res = { reply(content: string): void };
const middleware = wechat(config, (req: Req, res: Res) => {
  const message = req.weixin;
  if (message.MsgType === 'event' && message.Event === 'subscribe' && message.EventKey === `qrscene_${SCENE}`) return res.reply(WELCOME);
  res.reply('');
});
const server = createServer((req, res) => {
  // node-webot reads req.query, as Express would set it.
  (req as unknown as { query: Record<string, string> }).query = Object.fromEntries(new URL(req.url ?? '/', 'http://x').searchParams);
  middleware(req, res, () => {
    res.statusCode = 404;
    res.end();
  });
});
server.listen(0, '127.0.0.1', () => ready((server.address() as AddressInfo).port));
