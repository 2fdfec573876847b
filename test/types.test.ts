// Compile-time checks: each @ts-expect-error below is a mistake an author could make, and tsc
// --noEmit (in npm test) fails if any of them compiles. The runtime halves check what JavaScript,
// or a cast, could still pass.
import test from 'ava';
import { Bot, type Plugin } from '../core/kernel/bot.ts';
import { defineConfig, type CampaignNamesOf } from '../core/config/bot-config.ts';
import { on, type ContextOf } from '../core/kernel/filters.ts';
import type { EventOf } from '../core/protocol/events.ts';
import { memoryLogger } from './_helpers.ts';
import { campaignStats } from '../plugins/scene-campaign.ts';
import { openStore } from '../core/state/open-store.ts';
import { Users } from '../core/state/users.ts';

test('types: a bare middleware is not a plugin, nor is a plugin without middleware, init or close', async (t) => {
  const { log } = memoryLogger();
  const store = await openStore('memory://', { log });
  t.teardown(() => store.close());
  const services = { log, users: new Users(store) };
  const hello = on('text', () => 'hi');
  // @ts-expect-error a bare middleware, which would silently never run
  t.throws(() => new Bot({ services, plugins: [hello] }), { message: /bare middleware/ });
  // @ts-expect-error the same through use()
  t.throws(() => new Bot({ services }).use(hello), { message: /bare middleware/ });
  // @ts-expect-error a name alone does nothing
  t.throws(() => new Bot({ services, plugins: [{ name: 'empty' }] }), { message: /none of middleware, init or close/ });
  const plugins: Plugin[] = [
    { name: 'hello', middleware: hello },
    { name: 'starts', init: () => {} },
    { name: 'stops', close: () => {} },
  ];
  t.is(new Bot({ services, plugins }).plugins.length, 3);
});

test('types: a click key missing from clicks, or misspelt, does not compile', (t) => {
  defineConfig({
    menu: { button: [{ type: 'click', name: 'a', key: 'NEWS' }] },
    // @ts-expect-error NEWS is the menu's key; NEWZ is a typo.
    clicks: { NEWZ: 'x' },
  });
  defineConfig({
    menu: { button: [{ name: 'm', sub_button: [{ type: 'click', name: 'a', key: 'SUB' }] }] },
    clicks: { SUB: (ctx) => `clicked ${ctx.event.key}` },
  });
  // @ts-expect-error a campaign needs permanent: true or expireSeconds.
  defineConfig({ campaigns: { a: { scene: 1 } } });
  t.pass('checked by tsc --noEmit in npm test');
});

test('types: campaign names are literal types, in ctx.campaign.name and in campaignStats', async (t) => {
  const config = defineConfig({
    campaigns: {
      door: { scene: 1, permanent: true, welcome: (ctx) => `door? ${ctx.campaign?.name === 'door'}` },
      poster: { scene: 'p', expireSeconds: 60 },
    },
    // @ts-expect-error ctx.campaign.name is 'door' | 'poster': 'dor' can never match
    welcome: (ctx) => (ctx.campaign?.name === 'dor' ? 'never' : 'welcome'),
    fallback: (ctx) => {
      const name: 'door' | 'poster' | undefined = ctx.campaign?.name;
      return name;
    },
  });
  type Names = CampaignNamesOf<typeof config>;
  const names: Names[] = ['door', 'poster'];
  // @ts-expect-error not a campaign of this config
  const typo: Names = 'dor';
  t.deepEqual(Object.keys(config.campaigns ?? {}), names);
  t.truthy(typo);
  const { log } = memoryLogger();
  const store = await openStore('memory://', { log });
  t.teardown(() => store.close());
  t.like(await campaignStats<Names>(store, 'door'), { follows: 0 });
  // @ts-expect-error a misspelt campaign name
  t.like(await campaignStats<Names>(store, 'dor'), { follows: 0 }, 'JavaScript still reads it: a campaign nobody followed');
});

test('types: EventOf of several names is the union of each, narrowed by type', (t) => {
  const read = (event: EventOf<'text' | 'voice'>) => (event.type === 'text' ? event.text : (event.recognition ?? event.mediaId));
  // @ts-expect-error text is a field of text messages only: narrow on type first
  const unnarrowed = (event: EventOf<'text' | 'voice'>) => event.text;
  const handler = (ctx: ContextOf<'text' | 'voice'>) => (ctx.event.type === 'voice' ? ctx.event.format : ctx.event.text);
  const base = { from: 'o', to: 'gh', createTime: 1, msgId: '1' };
  t.is(read({ ...base, type: 'text', text: 'hi' }), 'hi');
  t.is(read({ ...base, type: 'voice', mediaId: 'm', recognition: '你好' }), '你好');
  t.is(typeof unnarrowed, typeof handler);
});

test('types: every family reads with on() and no cast, nested fields included', async (t) => {
  const { makeBot, event } = await import('./_helpers.ts');
  const seen: unknown[] = [];
  const plugins = [
    on('subscribe_msg_popup_event', (ctx) => void seen.push(ctx.event.templates?.[0]?.subscribeStatus)),
    on('pic_sysphoto', (ctx) => void seen.push(ctx.event.sendPicsInfo?.picList?.[0]?.picMd5Sum)),
    on('mass_send_job_finish', (ctx) => void seen.push(ctx.event.copyrightCheckResult?.resultList?.[0]?.originalArticleUrl)),
    on('device_event', (ctx) => void seen.push(ctx.event.event)),
    on('kf_switch_session', (ctx) => void seen.push(ctx.event.toKfAccount)),
    on('user_get_card', (ctx) => void seen.push(ctx.event.cardId)),
    on('subscribe', (ctx) => void seen.push(ctx.event.key ?? ctx.event.scene)),
  ].map((middleware, i) => ({ name: `reader ${i}`, middleware }));
  // @ts-expect-error a kf session has no templates
  on('kf_create_session', (ctx) => ctx.event.templates);
  const { bot } = await makeBot(t, { plugins });
  await bot.handle(event('subscribe_msg_popup_event', { templates: [{ templateId: 't', subscribeStatus: 'accept' }] }));
  await bot.handle(event('pic_sysphoto', { key: 'K', sendPicsInfo: { count: '1', picList: [{ picMd5Sum: 'md5' }] } }));
  await bot.handle(event('mass_send_job_finish', { copyrightCheckResult: { resultList: [{ originalArticleUrl: 'u' }] } }));
  await bot.handle(event('device_event', { event: 'bind' }));
  await bot.handle(event('kf_switch_session', { toKfAccount: 'b@x' }));
  await bot.handle(event('user_get_card', { cardId: 'c' }));
  await bot.handle(event('subscribe', { key: 'last_trade_no_1' }));
  t.deepEqual(seen, ['accept', 'md5', 'u', 'bind', 'b@x', 'c', 'last_trade_no_1']);
});
