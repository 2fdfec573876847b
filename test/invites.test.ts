import test from 'ava';
import type { BotConfig } from '../core/config/bot-config.ts';
import { eventFields, openid, readReply, startEmulator, startServer, testConfig } from './_helpers.ts';

async function inviteServer(t: Parameters<typeof startServer>[0], invites: BotConfig['invites'] = {}) {
  const { api, emulator } = await startEmulator(t);
  const server = await startServer(t, { api, config: { ...testConfig(), invites } });
  return { server, emulator, invites: server.invites! };
}

test('a follower gets an invite code of their own, reused while valid', async (t) => {
  const { invites } = await inviteServer(t);
  const inviter = openid();
  const code = await invites.codeFor(inviter);
  t.regex(code.scene, /^d_/);
  t.deepEqual(await invites.codeFor(inviter), code);
  t.not((await invites.codeFor(openid())).scene, code.scene);
});

test('500 concurrent follows through one invite count exactly, and the inviter is thanked', async (t) => {
  const calls: number[] = [];
  const { server, emulator, invites } = await inviteServer(t, {
    onFollow: async (ctx, follow) => {
      calls.push(follow.follows);
      if (follow.follows % 100 === 0)
        await ctx.api!.sendCustom(follow.inviter, { msgtype: 'text', text: { content: `你已邀请 ${follow.follows} 位好友` } });
      return '欢迎！你是被好友邀请来的。';
    },
  });
  const inviter = openid();
  const { scene } = await invites.codeFor(inviter);
  const replies = await Promise.all(
    Array.from({ length: 500 }, async () =>
      readReply(await server.push(eventFields(openid(), 'subscribe', { EventKey: `qrscene_${scene}`, Ticket: 'TK' }))),
    ),
  );
  t.true(replies.every((r) => typeof r === 'object' && r.Content === '欢迎！你是被好友邀请来的。'));
  t.is(await invites.followsOf(inviter), 500);
  t.deepEqual(
    [...calls].sort((a, b) => a - b),
    Array.from({ length: 500 }, (_, i) => i + 1),
  );
  t.is(emulator.customMessages.filter((m) => m.touser === inviter).length, 5);
});

test('a follower scanning an invite is not counted; nor is the inviter following through their own code', async (t) => {
  const { server, invites } = await inviteServer(t);
  const inviter = openid();
  const { scene } = await invites.codeFor(inviter);
  await server.push(eventFields(openid(), 'SCAN', { EventKey: scene }));
  await server.push(eventFields(inviter, 'subscribe', { EventKey: `qrscene_${scene}` }));
  t.is(await invites.followsOf(inviter), 0);
  t.like(await readReply(await server.push(eventFields(openid(), 'subscribe', { EventKey: `qrscene_${scene}` }))), {
    Content: 'default welcome',
  });
  t.is(await invites.followsOf(inviter), 1);
});

test('purging the inviter removes their code and data; purging the invitee removes theirs; the counts stay anonymous', async (t) => {
  const { server, invites } = await inviteServer(t);
  const inviter = openid();
  const [leaver, stayer] = [openid(), openid()];
  const { scene } = await invites.codeFor(inviter);
  await server.push(eventFields(leaver, 'subscribe', { EventKey: `qrscene_${scene}` }));
  await server.push(eventFields(stayer, 'subscribe', { EventKey: `qrscene_${scene}` }));
  const inviterId = (await server.bot.users.get(inviter))?.inviterId as string;
  t.like(await server.bot.users.get(leaver), { invitedBy: inviterId });
  t.is(await invites.followsOf(inviter), 2);

  await server.push(eventFields(leaver, 'unsubscribe', { EventKey: '' }));
  t.is(await server.bot.users.get(leaver), undefined);
  t.is(await invites.followsOf(inviter), 1, 'a follower who left no longer counts');
  await server.push(eventFields(inviter, 'unsubscribe', { EventKey: '' }));
  t.is(await server.bot.users.get(inviter), undefined);
  t.is(await server.store.get(`scene:${scene}`), undefined, 'the scene bound to the inviter is gone');
  t.is(await server.store.get(`invites:${inviterId}:follows`), 1, 'the count stays, keyed by an id nothing links to anyone');
  // A follow through the purged inviter's old code attributes nothing.
  await server.push(eventFields(openid(), 'subscribe', { EventKey: `qrscene_${scene}` }));
  t.is(await server.store.get(`invites:${inviterId}:follows`), 1);
});

test('following, unfollowing and following again through an invite counts once', async (t) => {
  const { server, invites } = await inviteServer(t);
  const inviter = openid();
  const friend = openid();
  const { scene } = await invites.codeFor(inviter);
  for (let i = 0; i < 3; i++) {
    await server.push(eventFields(friend, 'subscribe', { EventKey: `qrscene_${scene}` }));
    await server.push(eventFields(friend, 'unsubscribe', { EventKey: '' }));
  }
  await server.push(eventFields(friend, 'subscribe', { EventKey: `qrscene_${scene}` }));
  t.is(await invites.followsOf(inviter), 1);
});

test('campaign scenes and run-time scenes never collide', async (t) => {
  const { resolveConfig } = await import('../core/config/bot-config.ts');
  t.throws(() => resolveConfig({ campaigns: { x: { scene: 'd_poster', permanent: true } } }), { message: /must not start with d_/ });
});
