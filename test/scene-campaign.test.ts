import test from 'ava';
import { campaignSeries, campaignStats } from '../plugins/scene-campaign.ts';
import { event, makeBot, testConfig } from './_helpers.ts';

test('a follow through a campaign code gets its welcome, is attributed and counted', async (t) => {
  const { bot, store } = await makeBot(t);
  const from = 'oNewcomer';
  t.like(await bot.handle(event('subscribe', { from, scene: 'poster', ticket: 'TK' })), { content: 'poster welcome' });
  t.like(await bot.users.get(from), { campaign: 'poster' });
  t.deepEqual(await campaignStats(store, 'poster'), { scans: 1, follows: 1, unfollows: 0 });
});

test('a numeric scene finds its campaign, and its handler sees the campaign', async (t) => {
  const { bot } = await makeBot(t);
  t.like(await bot.handle(event('subscribe', { scene: '1001' })), { content: 'door welcome door' });
});

test('a follower scanning again gets the campaign scan reply, counted as a scan only', async (t) => {
  const { bot, store } = await makeBot(t);
  t.like(await bot.handle(event('scan', { scene: 'poster', ticket: 'TK' })), { content: 'poster scan' });
  t.deepEqual(await campaignStats(store, 'poster'), { scans: 1, follows: 0, unfollows: 0 });
});

test('a campaign handler can use ctx.reply instead of returning', async (t) => {
  const { bot } = await makeBot(t, {
    ...testConfig(),
    campaigns: { hall: { scene: 5, permanent: true, scan: (ctx) => void ctx.reply({ type: 'image', mediaId: 'MAP' }) } },
  });
  t.like(await bot.handle(event('scan', { scene: '5' })), { type: 'image', mediaId: 'MAP' });
});

test('an unknown scene falls back to the default welcome and counts nothing', async (t) => {
  const { bot, store } = await makeBot(t);
  t.like(await bot.handle(event('subscribe', { scene: 'nobody-declared-this' })), { content: 'default welcome' });
  t.deepEqual(await campaignStats(store, 'poster'), { scans: 0, follows: 0, unfollows: 0 });
});

test('the unfollow of a user a campaign brought is counted, and the count survives the purge', async (t) => {
  const { bot, store } = await makeBot(t);
  const from = 'oLeaver';
  await bot.handle(event('subscribe', { from, scene: 'poster' }));
  await bot.handle(event('unsubscribe', { from }));
  t.deepEqual(await campaignStats(store, 'poster'), { scans: 1, follows: 1, unfollows: 1 });
  t.is(await bot.users.get(from), undefined);
});

test('concurrent follows through one campaign count exactly', async (t) => {
  const { bot, store } = await makeBot(t);
  await Promise.all(Array.from({ length: 200 }, () => bot.handle(event('subscribe', { scene: 'poster' }))));
  t.deepEqual(await campaignStats(store, 'poster'), { scans: 200, follows: 200, unfollows: 0 });
});

// Serial: it moves the clock for the whole process.
test.serial('pushes land in the hourly bucket of the hour they arrive in, also after the hour turns', async (t) => {
  const realNow = Date.now;
  t.teardown(() => (Date.now = realNow));
  const hour = 3600_000;
  const start = Math.floor(realNow() / hour) * hour;
  const { bot, store } = await makeBot(t);
  Date.now = () => start + 10 * 60_000;
  await bot.handle(event('subscribe', { from: 'oFirstHour', scene: 'poster' }));
  Date.now = () => start + hour + 5 * 60_000;
  await bot.handle(event('scan', { from: 'oFirstHour', scene: 'poster' }));
  await bot.handle(event('subscribe', { from: 'oSecondHour', scene: 'poster' }));
  t.deepEqual(await campaignSeries(store, 'poster', 3), {
    hours: [start - hour, start, start + hour],
    scans: [0, 1, 2],
    follows: [0, 1, 1],
    unfollows: [0, 0, 0],
  });
});
