import test from 'ava';
import { Bot, type Plugin } from '../core/kernel/bot.ts';
import { click, on } from '../core/kernel/filters.ts';
import { openStore } from '../core/state/open-store.ts';
import { Users } from '../core/state/users.ts';
import { event, makeBot, memoryLogger, testConfig } from './_helpers.ts';

async function bare(plugins: Plugin[]) {
  const log = memoryLogger();
  const users = new Users(await openStore('memory://', { log: log.log }));
  const bot = new Bot({ services: { log: log.log, users }, plugins });
  await bot.init();
  return { bot, log };
}

test('plugins run in order, onion style', async (t) => {
  const seen: string[] = [];
  const step = (name: string): Plugin => ({
    name,
    async middleware(_ctx, next) {
      seen.push(`${name} in`);
      await next();
      seen.push(`${name} out`);
    },
  });
  const { bot } = await bare([step('a'), step('b')]);
  await bot.handle(event('text', { text: 'x', msgId: '1' }));
  t.deepEqual(seen, ['a in', 'b in', 'b out', 'a out']);
});

test('with an admission in flight, a leading plugin marked beforeAdmission starts at once, the rest waits; a refused push runs no further, and nothing is reported', async (t) => {
  const seen: string[] = [];
  const first: Plugin = {
    name: 'claim',
    beforeAdmission: true,
    async middleware(_ctx, next) {
      seen.push('claim');
      try {
        await next();
      } catch (error) {
        seen.push(`claim saw ${(error as Error).name}`);
        throw error;
      }
    },
  };
  const rest: Plugin = { name: 'rest', middleware: (_ctx, next) => (seen.push('rest'), next()) };
  const { bot, log } = await bare([first, rest]);
  let admit!: (ok: boolean) => void;
  const ctx = bot.context(event('text', { text: 'x', msgId: '1' }));
  const run = bot.run(ctx, new Promise<boolean>((resolve) => (admit = resolve)));
  await new Promise((resolve) => setTimeout(resolve, 10));
  t.deepEqual(seen, ['claim'], 'the rest waits for the admission');
  admit(true);
  await run;
  t.deepEqual(seen, ['claim', 'rest']);

  seen.length = 0;
  await bot.run(bot.context(event('text', { text: 'x', msgId: '2' })), Promise.resolve(false));
  t.deepEqual(seen, ['claim', 'claim saw NotAdmitted']);
  seen.length = 0;
  const unmarked = await bare([rest]);
  await unmarked.bot.run(unmarked.bot.context(event('text', { text: 'x', msgId: '3' })), Promise.resolve(false));
  t.deepEqual(seen, [], 'without a marked plugin, nothing runs before the admission');
  t.false(log.text().includes('"level":50') || unmarked.log.text().includes('"level":50'), 'a refusal is not a plugin error');
});

test('reply and the user handle work when taken off the context', async (t) => {
  const { bot } = await bare([
    {
      name: 'destructuring',
      async middleware({ reply, user: { get, update } }) {
        await update({ seen: true });
        reply(`seen: ${String((await get())?.seen)}`);
      },
    },
  ]);
  t.like(await bot.handle(event('text', { text: 'x', msgId: '7' })), { type: 'text', content: 'seen: true' });
});

test('a throwing plugin is logged with the event, and the rest of the chain still answers', async (t) => {
  const { bot, log } = await bare([
    { name: 'broken', middleware: () => Promise.reject(new Error('boom')) },
    { name: 'answer', middleware: (ctx) => ctx.reply('still here') },
  ]);
  t.like(await bot.handle(event('text', { text: 'x', msgId: '1' })), { content: 'still here' });
  const line = log.lines().find((l) => l.plugin === 'broken');
  t.like(line, { event: 'text', level: 50 });
  t.regex(String(line?.msg), /boom/);
});

test('a plugin whose init fails is left out, the others run', async (t) => {
  const { bot, log } = await bare([
    { name: 'bad-init', init: () => Promise.reject(new Error('no db')), middleware: (ctx) => ctx.reply('from bad') },
    { name: 'good', middleware: (ctx, next) => (ctx.response ? next() : (ctx.reply('from good'), next())) },
  ]);
  t.like(await bot.handle(event('text', { text: 'x', msgId: '1' })), { content: 'from good' });
  t.regex(log.text(), /bad-init failed to start/);
});

test('next() called twice is an error of that plugin, not a second run', async (t) => {
  let runs = 0;
  const { bot, log } = await bare([
    {
      name: 'twice',
      async middleware(_ctx, next) {
        await next();
        await next();
      },
    },
    { name: 'count', middleware: () => void runs++ },
  ]);
  await bot.handle(event('text', { text: 'x', msgId: '1' }));
  t.is(runs, 1);
  t.regex(log.text(), /next\(\) called multiple times/);
});

test('on() and click() narrow the event and pass others through', async (t) => {
  const { bot } = await bare([
    { name: 'scan', middleware: on('scan', (ctx) => `scene ${ctx.event.scene}`) },
    { name: 'click', middleware: click('A', (ctx) => `key ${ctx.event.key}`) },
    { name: 'msgs', middleware: on(['text', 'voice'], () => 'a message') },
  ]);
  t.like(await bot.handle(event('scan', { scene: '7' })), { content: 'scene 7' });
  t.like(await bot.handle(event('click', { key: 'A' })), { content: 'key A' });
  t.is(await bot.handle(event('click', { key: 'B' })), undefined);
  t.like(await bot.handle(event('voice', { mediaId: 'm', msgId: '2' })), { content: 'a message' });
  // @ts-expect-error a scan event has no key
  on('scan', (ctx) => ctx.event.key);
});

test('a reply set twice keeps the later one and says so', async (t) => {
  const { bot, log } = await bare([
    {
      name: 'twice',
      middleware: (ctx) => {
        ctx.reply('first');
        ctx.reply({ type: 'image', mediaId: 'M' });
      },
    },
  ]);
  t.like(await bot.handle(event('text', { text: 'x', msgId: '1' })), { type: 'image' });
  t.regex(log.text(), /reply set twice/);
});

test('the fallback answers a message nothing else answered, but not a view or unsubscribe', async (t) => {
  const { bot } = await makeBot(t, { ...testConfig(), fallback: 'got it' });
  t.like(await bot.handle(event('text', { text: 'hello', msgId: '1' })), { content: 'got it' });
  t.is(await bot.handle(event('view', { url: 'https://e.com/' })), undefined);
  t.is(await bot.handle(event('unsubscribe', {})), undefined);
});

test("the fallback answers a photo or a location once: the message, not the menu button before it; nor the platform's notices", async (t) => {
  const { bot } = await makeBot(t, { ...testConfig(), fallback: 'got it' });
  const from = 'oPhotoSender';
  const sendPicsInfo = { count: '1', picList: [{ picMd5Sum: 'abc' }] };
  t.is(await bot.handle(event('pic_photo_or_album', { from, key: 'PHOTO', sendPicsInfo })), undefined);
  t.like(await bot.handle(event('image', { from, picUrl: 'http://p', mediaId: 'm', msgId: '10' })), { content: 'got it' });
  t.is(
    await bot.handle(event('location_select', { from, key: 'WHERE', sendLocationInfo: { latitude: '23', longitude: '113' } })),
    undefined,
  );
  t.like(await bot.handle(event('location', { from, latitude: '23', longitude: '113', msgId: '11' })), { content: 'got it' });
  for (const notice of [
    event('kf_close_session', { kfAccount: 'a@b' }),
    event('qualification_verify_success', { expiredTime: '1' }),
    event('template_send_job_finish', { msgId: '1', status: 'success' }),
    event('device_event', { event: 'bind', deviceId: 'd' }),
    event('device_text', { deviceId: 'd', content: 'MTIz', msgId: '12' }),
    event('subscribe_msg_popup_event', { templates: [{ templateId: 't', subscribeStatus: 'accept' }] }),
  ]) {
    t.is(await bot.handle(notice), undefined, notice.type);
  }
  t.like(await bot.handle(event('scancode_waitmsg', { key: 'SCAN', scanCodeInfo: { scanResult: 'x' } })), { content: 'got it' });
});

test('author plugins run after the built-ins and can replace their reply', async (t) => {
  const { bot } = await makeBot(t, {
    ...testConfig(),
    plugins: [
      { name: 'vip', middleware: on('subscribe', (ctx) => (ctx.response?.type === 'text' ? `${ctx.response.content}!` : undefined)) },
    ],
  });
  t.like(await bot.handle(event('subscribe', {})), { content: 'default welcome!' });
});
