// This framework, as `npm start` builds it: BENCH_STORE picks the store, BENCH_AES safe mode.
import type { AddressInfo } from 'node:net';
import { createApp } from '../../../app/server.ts';
import { defineConfig, resolveConfig } from '../../../core/config/bot-config.ts';
import { createLogger } from '../../../core/kernel/log.ts';
import { openStore } from '../../../core/state/store.ts';
import { AES_KEY, APPID, ready, SCENE, TOKEN, WELCOME } from '../job.ts';

const log = createLogger({ level: 'warn' });
const store = await openStore(process.env.BENCH_STORE ?? 'memory://', { log, namespace: `bench${process.pid}` });
const config = resolveConfig(
  defineConfig({ welcome: 'default welcome', campaigns: { poster: { scene: SCENE, permanent: true, welcome: WELCOME } } }),
);
const settings = { token: TOKEN, appId: APPID, aesKeys: process.env.BENCH_AES ? [AES_KEY] : [], deadlineMs: 4500 };
const { app } = await createApp({ settings, config, store, log });
const server = app.listen(0, '127.0.0.1', () => ready((server.address() as AddressInfo).port));
