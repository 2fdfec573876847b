// Replies from files: uploaded once as temporary media, shared by every instance, renewed.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { WechatApi } from '../core/api/client.ts';
import { qrPng } from '../core/api/qr-image.ts';
import { ConfigError, resolveConfig } from '../core/config/bot-config.ts';
import { openStore } from '../core/state/open-store.ts';
import { eventFields, memoryLogger, openid, readReply, startEmulator, startServer, testConfig, APPID } from './_helpers.ts';
import { redisTest, startRedis } from './_redis.ts';

/** A PNG on disk, in a folder removed at the test's end. */
async function pngFile(t: ExecutionContext, name = 'coupon.png'): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'bot-files-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, name);
  writeFileSync(path, await qrPng(`https://example.com/${name}`, { size: 128 }));
  return path;
}

redisTest(
  test,
  'a file reply is uploaded once for two instances on Redis, answered by its media_id from the first push, and uploaded again before it lapses',
  async (t) => {
    const file = await pngFile(t);
    const redis = await startRedis(t);
    const log = memoryLogger().log;
    const [storeA, storeB] = await Promise.all([1, 2].map(() => openStore(redis.url, { log, namespace: 'wxbot:test' })));
    t.teardown(() => Promise.all([storeA!.close(), storeB!.close()]));
    // WeChat's three days, played as four seconds; renewed with one second left.
    const { emulator, url } = await startEmulator(t, { store: storeA!, emulator: { mediaLifetimeSeconds: 4 } });
    const apiOf = (store: typeof storeA) => new WechatApi({ appId: APPID, secret: 'test-secret', base: url, store: store!, log });
    const config = testConfig({ welcome: { type: 'image', file } });
    const plugins = { fileReplies: { lifetimeS: 4, renewBeforeS: 1 } };
    const a = await startServer(t, { api: apiOf(storeA), store: storeA!, config, plugins });
    const b = await startServer(t, { api: apiOf(storeB), store: storeB!, config, plugins });

    const follow = async (server: typeof a) => readReply(await server.push(eventFields(openid(), 'subscribe', { EventKey: '' })));
    const [first, second] = await Promise.all([follow(a), follow(b)]);
    t.like(first, { MsgType: 'image' });
    t.is((first as { Image: { MediaId: string } }).Image.MediaId, (second as { Image: { MediaId: string } }).Image.MediaId);
    const mediaId = (first as { Image: { MediaId: string } }).Image.MediaId;
    t.true(emulator.media.has(mediaId));
    t.is(emulator.media.uploads, 1, 'one upload for both instances');

    await new Promise((resolve) => setTimeout(resolve, 3200));
    const renewed = ((await follow(b)) as { Image: { MediaId: string } }).Image.MediaId;
    t.not(renewed, mediaId, 'a new media_id before the old one lapsed');
    t.is(((await follow(a)) as { Image: { MediaId: string } }).Image.MediaId, renewed, 'the other instance finds it in the store');
    t.is(emulator.media.uploads, 2);
  },
);

test('a file only a handler names is uploaded on first use; past the deadline the reply goes out late, as a customer-service image', async (t) => {
  const file = await pngFile(t, 'late.png');
  const { emulator, api } = await startEmulator(t);
  emulator.fail('media/upload', { delayMs: 1500 });
  const config = testConfig({ clicks: { TODAY: () => ({ type: 'image', file }), SLOW: 'slow' } });
  const server = await startServer(t, { api, config, deadlineMs: 500, lateHook: false });
  const user = openid();
  t.is(await readReply(await server.push(eventFields(user, 'CLICK', { EventKey: 'TODAY' }))), 'success');
  for (let i = 0; i < 200 && emulator.customMessages.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
  t.like(emulator.customMessages, [{ touser: user, msgtype: 'image' }]);
  const mediaId = (emulator.customMessages[0]!.image as { media_id: string }).media_id;
  t.true(emulator.media.has(mediaId));
  // Now uploaded: the next tap is answered at once.
  t.like(await readReply(await server.push(eventFields(user, 'CLICK', { EventKey: 'TODAY' }))), {
    MsgType: 'image',
    Image: { MediaId: mediaId },
  });
  t.is(emulator.media.uploads, 1);
});

test('a file reply is checked at start: the file must exist and be of a type WeChat takes', async (t) => {
  const png = await pngFile(t);
  const error = t.throws(
    () =>
      resolveConfig(
        testConfig({
          welcome: { type: 'image', file: join(tmpdir(), 'no-such-file.png') },
          fallback: { type: 'voice', file: png },
          campaigns: {
            poster: {
              scene: 'poster',
              expireSeconds: 600,
              welcome: { type: 'music', thumbFile: png, musicUrl: 'https://m.example/a.mp3' },
            },
          },
        }),
      ),
    { instanceOf: ConfigError },
  );
  t.regex(error!.message, /welcome\.file: no such file/);
  t.regex(error!.message, /fallback\.file: WeChat takes a voice as amr, mp3/);
  t.regex(error!.message, /campaigns\.poster\.welcome\.thumbFile: WeChat takes a thumb as jpg;/);
  t.deepEqual(resolveConfig(testConfig({ welcome: { type: 'image', file: png } })).fileReplies, [{ type: 'image', file: png }]);
});

test('a file changed on disk is a new upload; one WeChat refuses is not tried again on every push; a thumb over 64 KB stops the start', async (t) => {
  const file = await pngFile(t, '优惠券.png');
  const { emulator, api, log, store } = await startEmulator(t);
  const { MediaFiles } = await import('../core/features/media-files.ts');
  const files = new MediaFiles({ api, store, log: log.log });
  const first = await files.mediaIdOf('image', file);
  t.is(await files.mediaIdOf('image', file), first);
  writeFileSync(file, await qrPng('https://example.com/changed', { size: 160 }));
  const changed = await files.mediaIdOf('image', file);
  t.not(changed, first, 'a new upload for the new content');
  t.is(emulator.media.uploads, 2);
  const back = await api.media.get(changed);
  t.is((back as { filename?: string }).filename, '优惠券.png', 'a name that is not ASCII comes back whole');

  const wrong = join(file, '..', 'clip.mp4');
  writeFileSync(wrong, Buffer.alloc(0)); // empty: WeChat refuses it (40011)
  await t.throwsAsync(files.mediaIdOf('video', wrong), { message: /errcode 40011/ });
  await t.throwsAsync(files.mediaIdOf('video', wrong), { message: /errcode 40011/ });
  t.is(emulator.calls.filter((c) => c.api === 'media/upload' && c.errcode === 40011).length, 1, 'refused once, remembered for a minute');

  const big = join(file, '..', 'thumb.jpg');
  writeFileSync(big, Buffer.alloc(65 << 10, 1));
  const error = t.throws(
    () => resolveConfig(testConfig({ welcome: { type: 'music', thumbFile: big, musicUrl: 'https://m.example/a.mp3' } })),
    {
      instanceOf: ConfigError,
    },
  );
  t.regex(error!.message, /welcome\.thumbFile: a thumb is at most 64 KB for WeChat; .* is 65 KB/);
});
