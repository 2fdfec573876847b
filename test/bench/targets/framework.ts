// This framework as an author runs it: the compiled package in dist/ (npm run build; the bench builds
// it first), as `wechat-mp-bot start` builds the app. BENCH_STORE picks the store, BENCH_AES safe mode.
import type { AddressInfo } from 'node:net';
import { AES_KEY, APPID, ready, SCENE, TOKEN, WELCOME } from '../job.ts';

// The types come from the source, the code from dist: this file runs under tsx, which leaves the
// compiled JavaScript as it is.
const fromDist = async <T>(path: string) => (await import(new URL(`../../../dist/${path}`, import.meta.url).href)) as T;
const { createApp, createHttpServer } = await fromDist<typeof import('../../../app/index.ts')>('app/index.js');
const { createLogger, defineConfig, openStore, resolveConfig } = await fromDist<typeof import('../../../core/index.ts')>('core/index.js');

const log = createLogger({ level: 'warn', format: 'json' });
const store = await openStore(process.env.BENCH_STORE ?? 'memory://', { log, namespace: `bench${process.pid}` });
const config = resolveConfig(
  defineConfig({ welcome: 'default welcome', campaigns: { poster: { scene: SCENE, permanent: true, welcome: WELCOME } } }),
);
// BENCH_SKEW=0 turns the replay guard off, to measure what it costs.
const maxSkewS = Number(process.env.BENCH_SKEW ?? 300);
const settings = { token: TOKEN, appId: APPID, aesKeys: process.env.BENCH_AES ? [AES_KEY] : [], deadlineMs: 4500, maxSkewS };
const { app } = await createApp({ settings, config, store, log });
// The HTTP server `wechat-mp-bot start` makes, with its limits (timeouts, connection caps).
const server = createHttpServer(app).listen(0, '127.0.0.1', () => ready((server.address() as AddressInfo).port));
