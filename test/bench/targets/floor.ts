// The floor: bare Koa 3 reading the raw body, checking the signature, extracting the fields with a
// regex and answering a fixed template. The cost of the stack doing nothing else.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import getRawBody from 'raw-body';
import { ready, TOKEN, WELCOME } from '../job.ts';

const app = new Koa();
app.use(async (ctx) => {
  const { signature, timestamp, nonce } = ctx.query as Record<string, string>;
  const expected = createHash('sha1').update([TOKEN, timestamp, nonce].sort().join('')).digest('hex');
  if (typeof signature !== 'string' || signature.length !== 40 || !timingSafeEqual(Buffer.from(signature), Buffer.from(expected))) {
    ctx.status = 401;
    return;
  }
  const body = (await getRawBody(ctx.req, { limit: '256kb', encoding: 'utf8' })) as string;
  const field = (name: string) => new RegExp(`<${name}><!\\[CDATA\\[(.*?)\\]\\]></${name}>`).exec(body)?.[1] ?? '';
  ctx.type = 'text/xml';
  ctx.body =
    `<xml><ToUserName><![CDATA[${field('FromUserName')}]]></ToUserName><FromUserName><![CDATA[${field('ToUserName')}]]></FromUserName>` +
    `<CreateTime>${Math.floor(Date.now() / 1000)}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${WELCOME}]]></Content></xml>`;
});
const server = app.listen(0, '127.0.0.1', () => ready((server.address() as AddressInfo).port));
