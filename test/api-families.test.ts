// Every wrapper of WeChat's API, against an emulator that refuses what WeChat refuses: each
// refusal reaches the author as an ApiError with WeChat's errcode and a hint.
import test, { type ExecutionContext } from 'ava';
import { ApiError, DownloadedFile } from '../core/api/client.ts';
import { qrPng } from '../core/api/qr-image.ts';
import { startEmulator } from './_helpers.ts';

const strict = (t: ExecutionContext, options: Parameters<typeof startEmulator>[1] = {}) => startEmulator(t, { strict: true, ...options });
// What the author catches: an ApiError whose message carries the errcode, and the hint when given.
const refused = (errcode: number, hint?: RegExp) => ({
  instanceOf: ApiError,
  message: (message: string) => message.includes(`errcode ${errcode} `) && (!hint || hint.test(message)),
});
const followers = (n: number, prefix = 'oFan') => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(4, '0')}`);

test('users: user/info answers from what WeChat knows (scene, tags, remark, who left); unknown OpenIDs are 40003', async (t) => {
  const { emulator, api } = await strict(t);
  const code = await api.createQrCode({ scene: 'spring-poster', expireSeconds: 600 });
  emulator.observe({
    type: 'subscribe',
    from: 'oPoster',
    to: 'gh',
    createTime: 1_700_000_000,
    scene: 'spring-poster',
    ticket: code.ticket,
  });
  const numeric = await api.createQrCode({ scene: 42, permanent: true });
  emulator.observe({ type: 'subscribe', from: 'oNumeric', to: 'gh', createTime: 1_700_000_001, scene: '42', ticket: numeric.ticket });
  t.like(await api.users.info('oPoster'), {
    subscribe: 1,
    subscribe_time: 1_700_000_000,
    subscribe_scene: 'ADD_SCENE_QR_CODE',
    qr_scene: 0,
    qr_scene_str: 'spring-poster',
    remark: '',
    tagid_list: [],
  });
  t.like(await api.users.info('oNumeric'), { qr_scene: 42, qr_scene_str: '' });
  await api.users.updateRemark('oPoster', '春季海报 A');
  t.like(await api.userInfo('oPoster'), { remark: '春季海报 A' });
  await t.throwsAsync(api.users.updateRemark('oPoster', 'x'.repeat(30)), refused(40032));
  emulator.observe({ type: 'unsubscribe', from: 'oPoster', to: 'gh', createTime: 1_700_000_100 });
  t.deepEqual(await api.users.info('oPoster'), { subscribe: 0, openid: 'oPoster', tagid_list: [] } as never);
  const unknown = await t.throwsAsync(api.users.info('oNeverSeen'), { instanceOf: ApiError });
  t.is(unknown?.errcode, 40003);
  t.regex(unknown!.message, /not an OpenID of a user of this account/);
});

test('users: batchInfo in calls of 100, and all() reads every follower page after page', async (t) => {
  const { emulator, api } = await strict(t, { emulator: { userPageSize: 40 } });
  const ids = followers(150);
  for (const id of ids) emulator.users.follow(id);
  emulator.users.unfollow('oFan0007');
  const infos = await api.users.batchInfo(ids);
  t.is(infos.length, 150);
  t.is(emulator.count('user/info/batchget'), 2);
  t.deepEqual(
    infos.map((i) => i.openid),
    ids,
  );
  t.is(infos[7]!.subscribe, 0);
  const all: string[] = [];
  for await (const openid of api.users.all()) all.push(openid);
  t.deepEqual(
    all,
    ids.filter((id) => id !== 'oFan0007'),
  );
  t.is(emulator.count('user/get'), 5, '149 followers in pages of 40, and the empty page that ends it');
});

test('tags: create, list with counts, rename, delete; WeChat refuses a duplicate (45157), over 30 bytes (45158), system tags (45058), over 100 (45056)', async (t) => {
  const { emulator, api } = await strict(t);
  const vip = await api.tags.create('VIP');
  t.true(vip.id >= 100);
  await t.throwsAsync(api.tags.create('VIP'), refused(45157, /tag name is taken/));
  await t.throwsAsync(api.tags.create('一二三四五六七八九十十'), refused(45158, /at most 30 bytes/)); // 33 bytes
  await api.tags.create('一二三四五六七八九十'); // 30 bytes
  await api.tags.rename(vip.id, '贵宾');
  await t.throwsAsync(api.tags.rename(2, '星'), refused(45058));
  await t.throwsAsync(api.tags.delete(999), refused(45159, /no such tag id/));
  emulator.users.follow('oA');
  await api.tags.tag(vip.id, ['oA']);
  t.like(
    (await api.tags.list()).find((tag) => tag.id === vip.id),
    { name: '贵宾', count: 1 },
  );
  await api.tags.delete(vip.id);
  t.deepEqual(await api.tags.ofUser('oA'), [], 'a deleted tag leaves its followers');
  for (let i = (await api.tags.list()).length - 1; i < 100; i++) await api.tags.create(`t${i}`);
  await t.throwsAsync(api.tags.create('one too many'), refused(45056, /at most 100 tags/));
});

test('tags: tag and untag in calls of at most 50; a follower carries at most 20 (45059); members() pages; over 50 in one raw call is 40032', async (t) => {
  const { emulator, api } = await strict(t, { emulator: { userPageSize: 100 } });
  const ids = followers(120);
  for (const id of ids) emulator.users.follow(id);
  const { id } = await api.tags.create('春季海报');
  await api.tags.tag(id, ids);
  t.is(emulator.count('tags/members/batchtagging'), 3);
  t.deepEqual(await api.tags.ofUser('oFan0119'), [id]);
  const members: string[] = [];
  for await (const openid of api.tags.members(id)) members.push(openid);
  t.deepEqual(members, ids);
  await api.tags.untag(id, ids.slice(0, 60));
  t.deepEqual(await api.tags.ofUser('oFan0000'), []);
  t.like(
    (await api.tags.list()).find((tag) => tag.id === id),
    { count: 60 },
  );
  await t.throwsAsync(
    api.post('tags/members/batchtagging', { openid_list: ids.slice(0, 51), tagid: id }),
    refused(40032, /too many OpenIDs/),
  );
  await t.throwsAsync(api.tags.tag(id, ['oStranger']), refused(40003));
  for (let i = 0; i < 20; i++) await api.tags.tag((await api.tags.create(`tag${i}`)).id, ['oFan0000']);
  const twentyFirst = await api.tags.create('twenty-first');
  await t.throwsAsync(api.tags.tag(twentyFirst.id, ['oFan0000']), refused(45059, /at most 20 tags/));
});

test('blacklist: add in calls of 20, list, remove', async (t) => {
  const { emulator, api } = await strict(t);
  const ids = followers(25);
  for (const id of ids) emulator.users.follow(id);
  await api.blacklist.add(ids);
  t.is(emulator.count('tags/members/batchblacklist'), 2);
  const listed: string[] = [];
  for await (const openid of api.blacklist.all()) listed.push(openid);
  t.deepEqual(listed, ids);
  await api.blacklist.remove(ids.slice(0, 24));
  const left: string[] = [];
  for await (const openid of api.blacklist.all()) left.push(openid);
  t.deepEqual(left, ['oFan0024']);
  await t.throwsAsync(api.post('tags/members/batchblacklist', { openid_list: ids.slice(0, 21) }), refused(40032));
});

test('conditional menus: need a default menu (65303) and a rule (65304); trymatch picks by tag; delconditional of an unknown menuid is 65301', async (t) => {
  const { emulator, api } = await strict(t);
  const vipMenu = { button: [{ type: 'click' as const, name: 'VIP', key: 'VIP' }] };
  const { id } = await api.tags.create('VIP');
  await t.throwsAsync(api.addConditionalMenu({ ...vipMenu, matchrule: { tag_id: String(id) } }), refused(65303, /needs a default menu/));
  await api.createMenu({ button: [{ type: 'click', name: '今日', key: 'TODAY' }] });
  await t.throwsAsync(api.addConditionalMenu({ ...vipMenu, matchrule: {} }), refused(65304, /matchrule is empty/));
  const menuid = await api.addConditionalMenu({ ...vipMenu, matchrule: { tag_id: String(id) } });
  t.like(await api.getMenu(), { conditionalmenu: [{ menuid, matchrule: { tag_id: String(id) }, button: [{ key: 'VIP' }] }] });
  emulator.users.follow('oVip');
  emulator.users.follow('oPlain');
  await api.tags.tag(id, ['oVip']);
  t.like(await api.tryMatchMenu('oVip'), { button: [{ key: 'VIP' }] });
  t.like(await api.tryMatchMenu('oPlain'), { button: [{ key: 'TODAY' }] });
  await t.throwsAsync(api.tryMatchMenu('oNobody'), refused(65302));
  await api.deleteConditionalMenu(menuid);
  await t.throwsAsync(api.deleteConditionalMenu(menuid), refused(65301, /no conditional menu has that menuid/));
  t.like(await api.tryMatchMenu('oVip'), { button: [{ key: 'TODAY' }] });
});

test('messages: template and subscribe messages reach followers outside the 48-hour window; custom messages and typing do not (45015)', async (t) => {
  const { emulator, api } = await strict(t);
  emulator.users.follow('oA');
  const msgid = await api.sendTemplate('oA', { template_id: 'TPL', data: { thing1: { value: '已发货' } }, url: 'https://example.com/o/1' });
  t.true(msgid > 0);
  t.like(emulator.templateMessages.at(-1), { touser: 'oA', template_id: 'TPL', data: { thing1: { value: '已发货' } } });
  await t.throwsAsync(api.sendTemplate('oA', { template_id: '', data: {} }), refused(40037, /add the template/));
  await api.sendSubscribe('oA', { template_id: 'SUB', data: { thing1: { value: '预约成功' } }, page: 'https://example.com' });
  t.like(emulator.subscribeMessages.at(-1), { touser: 'oA', template_id: 'SUB' });
  await api.typing('oA');
  await api.typing('oA', false);
  t.deepEqual(
    emulator.typing.map((m) => m.command),
    ['Typing', 'CancelTyping'],
  );
  emulator.users.get('oA')!.lastActiveAt = Date.now() - 49 * 3600_000;
  await t.throwsAsync(api.sendCustom('oA', { msgtype: 'text', text: { content: 'late' } }), refused(45015, /48-hour/));
  await t.throwsAsync(api.typing('oA'), refused(45015));
  await api.sendTemplate('oA', { template_id: 'TPL', data: { thing1: { value: '仍可送达' } } });
  emulator.observe({ type: 'text', from: 'oA', to: 'gh', createTime: 1, text: 'hi', msgId: '1' } as never);
  await api.sendCustom('oA', { msgtype: 'text', text: { content: 'now it can' } });
  emulator.users.unfollow('oA');
  await t.throwsAsync(
    api.sendTemplate('oA', { template_id: 'TPL', data: { thing1: { value: 'x' } } }),
    refused(43004, /no longer follows/),
  );
  await t.throwsAsync(api.sendCustom('oStranger', { msgtype: 'text', text: { content: 'x' } }), refused(40003));
});

test('media: upload (multipart) and get back the same bytes; a video comes as its URL; wrong type, size or a lapsed id are refused', async (t) => {
  const { emulator, api } = await strict(t, { emulator: { mediaLifetimeSeconds: 3 } });
  const png = await qrPng('https://example.com/coupon', { size: 200 });
  emulator.users.follow('oA');
  const image = await api.media.upload('image', { data: png, filename: 'coupon.png' });
  t.is(image.type, 'image');
  await api.sendCustom('oA', { msgtype: 'image', image: { media_id: image.mediaId } });
  const back = await api.media.get(image.mediaId);
  t.true(back instanceof DownloadedFile);
  t.deepEqual(Buffer.from((back as DownloadedFile).bytes), Buffer.from(png));
  t.is((back as DownloadedFile).filename, 'coupon.png');
  const video = await api.media.upload('video', { data: Buffer.from('not really an mp4'), filename: 'clip.mp4' });
  t.regex(((await api.media.get(video.mediaId)) as { videoUrl: string }).videoUrl, /^http/);
  await t.throwsAsync(api.media.upload('image', { data: Buffer.from('x'), filename: 'notes.txt' }), refused(40005));
  await t.throwsAsync(api.media.upload('thumb', { data: Buffer.alloc(65 << 10, 1), filename: 'big.jpg' }), refused(40012));
  await t.throwsAsync(api.sendCustom('oA', { msgtype: 'image', image: { media_id: 'made-up' } }), refused(40007, /three days/));
  // Three days, played as three seconds.
  await new Promise((resolve) => setTimeout(resolve, image.createdAt * 1000 + 4100 - Date.now()));
  await t.throwsAsync(api.media.get(image.mediaId), refused(40007));
  t.is(emulator.media.uploads, 2);
});

test('get and post reach an endpoint that has no wrapper, with the token; an endpoint WeChat lacks is an ApiError', async (t) => {
  const { emulator, api } = await strict(t);
  const answer = await api.get('ticket/getticket', { type: 'jsapi' });
  t.is(typeof answer.ticket, 'string');
  emulator.invalidateTokens();
  t.like(await api.post('tags/create', { tag: { name: 'raw' } }), { tag: { name: 'raw' } }, 'a stale token is refreshed for post too');
  await t.throwsAsync(api.get('no/such/endpoint'), refused(40066));
});
