// co-wechat (Koa middleware) doing the same job.
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
// @ts-expect-error co-wechat ships no types
import wechat from 'co-wechat';
import { AES_KEY, APPID, ready, SCENE, TOKEN, WELCOME } from '../job.ts';

const config = process.env.BENCH_AES ? { token: TOKEN, appid: APPID, encodingAESKey: AES_KEY } : TOKEN;
const app = new Koa();
app.use(
  wechat(config).middleware(async (message: Record<string, string>) => {
    if (message.MsgType === 'event' && message.Event === 'subscribe' && message.EventKey === `qrscene_${SCENE}`) return WELCOME;
    return '';
  }),
);
const server = app.listen(0, '127.0.0.1', () => ready((server.address() as AddressInfo).port));
