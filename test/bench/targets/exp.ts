// temporary experiment target
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { Bot } from '../../../core/bot.ts';
import { createLogger } from '../../../core/log.ts';
import { openStore } from '../../../core/store.ts';
import { wechatRouter } from '../../../core/transport.ts';
import { ready, TOKEN, WELCOME, SCENE } from '../job.ts';
import { defineConfig, resolveConfig } from '../../../core/config.ts';
import { defaultPlugins } from '../../../plugins/index.ts';
const config = resolveConfig(
  defineConfig({ welcome: 'default welcome', campaigns: { poster: { scene: SCENE, permanent: true, welcome: WELCOME } } }),
);
const log = createLogger({ level: 'warn' });
const store = await openStore('memory://', { log, namespace: 'x' });
const mode = process.env.EXP ?? 'bare';
const plugins: any[] =
  mode === 'bare'
    ? [{ name: 'w', middleware: (ctx: any) => ctx.reply(WELCOME) }]
    : defaultPlugins(config).filter((p) => !(process.env.DROP ?? '').split(',').includes(p.name));
const bot = new Bot({ store, log, plugins });
await bot.init();
const app = new Koa();
app.use(wechatRouter(bot, { token: TOKEN, log }).routes());
const server = app.listen(0, '127.0.0.1', () => ready((server.address() as AddressInfo).port));
