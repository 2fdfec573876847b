import test from 'ava';
import { dedupeKeyOf, EVENT_TYPES, EventError, toEvent, type WechatEvent } from '../core/protocol/events.ts';
import { parseFlat, parseXml, XmlError } from '../core/protocol/xml.ts';
import { ACCOUNT, pushXml } from './_helpers.ts';
import { PUSHES } from './fixtures/pushes.ts';

const base = { ToUserName: ACCOUNT, FromUserName: 'oUser', CreateTime: 1700000000 };
const parse = async (fields: Record<string, string | number>) => toEvent(await parseXml(pushXml({ ...base, ...fields })));
const parseRaw = async (inner: string) =>
  toEvent(
    await parseXml(
      `<xml><ToUserName>${ACCOUNT}</ToUserName><FromUserName>oUser</FromUserName><CreateTime>1700000000</CreateTime>${inner}</xml>`,
    ),
  );

// One push per type the protocol reference lists, with what it must become.
const cases: [string, Promise<WechatEvent>, Record<string, unknown>][] = [
  ['text', parse({ MsgType: 'text', Content: ' 你好 ]]> ', MsgId: '1' }), { type: 'text', text: ' 你好 ]]> ', msgId: '1' }],
  ['image', parse({ MsgType: 'image', PicUrl: 'http://p', MediaId: 'm', MsgId: '2' }), { type: 'image', picUrl: 'http://p', mediaId: 'm' }],
  [
    'voice',
    parse({ MsgType: 'voice', MediaId: 'm', Format: 'amr', Recognition: '你好', MsgId: '3' }),
    { type: 'voice', format: 'amr', recognition: '你好' },
  ],
  ['video', parse({ MsgType: 'video', MediaId: 'm', ThumbMediaId: 't', MsgId: '4' }), { type: 'video', thumbMediaId: 't' }],
  ['shortvideo', parse({ MsgType: 'shortvideo', MediaId: 'm', ThumbMediaId: 't', MsgId: '5' }), { type: 'shortvideo', mediaId: 'm' }],
  [
    'location',
    parse({ MsgType: 'location', Location_X: '23.1', Location_Y: '113.3', Scale: '20', Label: '广州', MsgId: '6' }),
    { type: 'location', latitude: '23.1', longitude: '113.3', scale: '20', label: '广州' },
  ],
  [
    'link',
    parse({ MsgType: 'link', Title: 't', Description: 'd', Url: 'http://u', MsgId: '7' }),
    { type: 'link', title: 't', url: 'http://u' },
  ],
  ['subscribe (plain)', parse({ MsgType: 'event', Event: 'subscribe', EventKey: '' }), { type: 'subscribe', scene: undefined }],
  [
    'subscribe (through a code)',
    parse({ MsgType: 'event', Event: 'subscribe', EventKey: 'qrscene_spring', Ticket: 'TK' }),
    { type: 'subscribe', scene: 'spring', ticket: 'TK' },
  ],
  ['subscribe (numeric scene)', parse({ MsgType: 'event', Event: 'subscribe', EventKey: 'qrscene_1001', Ticket: 'TK' }), { scene: '1001' }],
  [
    'unsubscribe',
    parse({ MsgType: 'event', Event: 'unsubscribe', EventKey: '' }),
    { type: 'unsubscribe', from: 'oUser', to: ACCOUNT, createTime: 1700000000 },
  ],
  ['SCAN', parse({ MsgType: 'event', Event: 'SCAN', EventKey: '1001', Ticket: 'TK' }), { type: 'scan', scene: '1001', ticket: 'TK' }],
  ['CLICK', parse({ MsgType: 'event', Event: 'CLICK', EventKey: 'TODAY' }), { type: 'click', key: 'TODAY' }],
  [
    'VIEW',
    parse({ MsgType: 'event', Event: 'VIEW', EventKey: 'https://e.com/', MenuId: '9' }),
    { type: 'view', url: 'https://e.com/', menuId: '9' },
  ],
  [
    'LOCATION',
    parse({ MsgType: 'event', Event: 'LOCATION', Latitude: '23', Longitude: '113', Precision: '119' }),
    { type: 'location_report', latitude: '23' },
  ],
  [
    'scancode_push',
    parseRaw(
      '<MsgType>event</MsgType><Event>scancode_push</Event><EventKey>K</EventKey><ScanCodeInfo><ScanType>qrcode</ScanType><ScanResult>r</ScanResult></ScanCodeInfo>',
    ),
    { type: 'scancode_push', key: 'K', scanCodeInfo: { scanType: 'qrcode', scanResult: 'r' } },
  ],
  [
    'scancode_waitmsg',
    parseRaw(
      '<MsgType>event</MsgType><Event>scancode_waitmsg</Event><EventKey>K</EventKey><ScanCodeInfo><ScanType>barcode</ScanType><ScanResult>r</ScanResult></ScanCodeInfo>',
    ),
    { type: 'scancode_waitmsg', key: 'K' },
  ],
  [
    'pic_sysphoto',
    parseRaw(
      '<MsgType>event</MsgType><Event>pic_sysphoto</Event><EventKey>K</EventKey><SendPicsInfo><Count>1</Count><PicList><item><PicMd5Sum>abc</PicMd5Sum></item></PicList></SendPicsInfo>',
    ),
    { type: 'pic_sysphoto', sendPicsInfo: { count: '1', picList: [{ picMd5Sum: 'abc' }] } },
  ],
  [
    'pic_photo_or_album',
    parseRaw(
      '<MsgType>event</MsgType><Event>pic_photo_or_album</Event><EventKey>K</EventKey><SendPicsInfo><Count>0</Count></SendPicsInfo>',
    ),
    { type: 'pic_photo_or_album' },
  ],
  [
    'pic_weixin',
    parseRaw('<MsgType>event</MsgType><Event>pic_weixin</Event><EventKey>K</EventKey><SendPicsInfo><Count>0</Count></SendPicsInfo>'),
    { type: 'pic_weixin' },
  ],
  [
    'location_select',
    parseRaw(
      '<MsgType>event</MsgType><Event>location_select</Event><EventKey>K</EventKey><SendLocationInfo><Location_X>23</Location_X><Label>x</Label></SendLocationInfo>',
    ),
    { type: 'location_select', sendLocationInfo: { latitude: '23', label: 'x' } },
  ],
  [
    'view_miniprogram',
    parse({ MsgType: 'event', Event: 'view_miniprogram', EventKey: 'pages/index', MenuId: '3' }),
    { type: 'view_miniprogram', path: 'pages/index' },
  ],
  [
    'TEMPLATESENDJOBFINISH',
    parse({ MsgType: 'event', Event: 'TEMPLATESENDJOBFINISH', MsgID: '200', Status: 'success' }),
    { type: 'template_send_job_finish', msgId: '200', status: 'success' },
  ],
  [
    'MASSSENDJOBFINISH',
    parse({ MsgType: 'event', Event: 'MASSSENDJOBFINISH', MsgID: '300', Status: 'send success', TotalCount: '10' }),
    { type: 'mass_send_job_finish', totalCount: '10' },
  ],
  [
    'PUBLISHJOBFINISH',
    parseRaw('<MsgType>event</MsgType><Event>PUBLISHJOBFINISH</Event><PublishEventInfo><publish_id>1</publish_id></PublishEventInfo>'),
    { type: 'publish_job_finish', publishEventInfo: { publishId: '1' } },
  ],
];

for (const [name, parsed, expected] of cases) {
  test(`parses ${name}`, async (t) => {
    t.like(await parsed, expected);
  });
}

for (const push of PUSHES) {
  test(`the docs' ${push.name} (${push.source}) is typed`, async (t) => {
    t.like(toEvent(await parseXml(push.xml)), { from: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o', to: 'gh_3d1a4e1d2e3f', ...push.expected });
  });
}

test('every event type of the table has a case above, and a document of the docs', async (t) => {
  const documented = new Set(await Promise.all(PUSHES.map(async (p) => toEvent(await parseXml(p.xml)).type)));
  t.deepEqual(
    EVENT_TYPES.filter((type) => !documented.has(type)),
    [],
  );
  const seen = new Set([...(await Promise.all(cases.map(([, p]) => p))).map((e) => e.type), ...documented]);
  t.deepEqual(
    EVENT_TYPES.filter((type) => !seen.has(type)),
    [],
  );
});

test('event names match whatever their case', async (t) => {
  t.like(await parse({ MsgType: 'event', Event: 'scan', EventKey: '1001' }), { type: 'scan', scene: '1001' });
  t.like(await parse({ MsgType: 'event', Event: 'Click', EventKey: 'K' }), { type: 'click', key: 'K' });
  t.like(await parse({ MsgType: 'event', Event: 'SUBSCRIBE', EventKey: 'qrscene_x' }), { type: 'subscribe', scene: 'x' });
});

test('dedupe keys keep apart pushes that only share a second', async (t) => {
  const keys = await Promise.all([
    parse({ MsgType: 'event', Event: 'subscribe_msg_popup_event' }),
    parse({ MsgType: 'event', Event: 'kf_close_session' }),
    parse({ MsgType: 'event', Event: 'TEMPLATESENDJOBFINISH', MsgID: '111', Status: 'success' }),
    parse({ MsgType: 'event', Event: 'TEMPLATESENDJOBFINISH', MsgID: '222', Status: 'success' }),
    parse({ MsgType: 'miniprogrampage', Title: 't', MsgId: '1' }),
    parse({ MsgType: 'miniprogrampage', Title: 't', MsgId: '2' }),
  ]).then((events) => events.map(dedupeKeyOf));
  t.is(new Set(keys).size, keys.length);
});

test('text that looks like markup is text: a DOCTYPE typed by a user is accepted', async (t) => {
  t.like(await parse({ MsgType: 'text', Content: '<!DOCTYPE html> <!ENTITY x> hi', MsgId: '1' }), {
    text: '<!DOCTYPE html> <!ENTITY x> hi',
  });
});

test('a type this version does not know is kept, not refused', async (t) => {
  t.like(await parse({ MsgType: 'event', Event: 'user_authorize_invoice', SuccOrderId: '1' }), {
    type: 'unknown',
    msgType: 'event',
    event: 'user_authorize_invoice',
  });
});

test("only a push that is not WeChat's is refused: without FromUserName, ToUserName or MsgType", async (t) => {
  for (const missing of ['FromUserName', 'ToUserName', 'MsgType']) {
    const fields: Record<string, string | number> = { ...base, MsgType: 'text', Content: 'x', MsgId: '1' };
    delete fields[missing];
    t.throws(() => toEvent(parseFlat(pushXml(fields))!), { instanceOf: EventError, message: `missing ${missing}` });
  }
});

test('a push lacking a field is typed as far as its fields allow; without what its type needs it is kept as unknown', async (t) => {
  t.like(await parse({ MsgType: 'image', PicUrl: 'http://p', MsgId: '1' }), { type: 'image', picUrl: 'http://p', mediaId: undefined });
  t.like(await parse({ MsgType: 'text', Content: 'x', MsgID: '42' }), { type: 'text', msgId: '42' }, 'MsgID, as the docs spell it too');
  t.like(await parse({ MsgType: 'text', Content: 'x' }), { type: 'text', msgId: undefined });
  t.like(await parse({ MsgType: 'event', Event: 'CLICK' }), { type: 'unknown', msgType: 'event', event: 'CLICK' });
  t.like(await parse({ MsgType: 'voice', MsgId: '2' }), { type: 'voice', mediaId: undefined, recognition: undefined });
  t.like(await parse({ ...base, CreateTime: 'yesterday', MsgType: 'text', Content: 'x', MsgId: '1' }), { type: 'text', createTime: 0 });
  t.like(await parseRaw('<MsgType>text</MsgType><Content>a</Content><Content>b</Content><MsgId>1</MsgId>'), { text: 'a' });
  t.like(await parseRaw('<MsgType>text</MsgType><Content><b>a</b></Content><MsgId>1</MsgId>'), { type: 'unknown', msgType: 'text' });
});

test('a lower-case or padded MsgType and Event are read as WeChat means them', async (t) => {
  t.like(await parse({ MsgType: '\nvoice\n', MediaId: 'm', MsgId: '1' }), { type: 'voice', mediaId: 'm' });
  t.like(await parse({ MsgType: ' EVENT ', Event: ' click ', EventKey: 'K' }), { type: 'click', key: 'K' });
});

test('a follow whose EventKey is not qrscene_… has no scene: the key is kept as it came', async (t) => {
  for (const key of ['last_trade_no_4200000001', 'scanbarcode|keystandard|12345', 'scanimage|x', 'qrscene_']) {
    const event = await parse({ MsgType: 'event', Event: 'subscribe', EventKey: key });
    t.like(event, { type: 'subscribe', scene: undefined, key }, key);
  }
  t.like(await parse({ MsgType: 'event', Event: 'subscribe', EventKey: 'qrscene_7' }), { scene: '7', key: undefined });
});

test('XML with a DTD or entity, a wrong root, or broken markup is refused', async (t) => {
  await t.throwsAsync(parseXml('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><a>&e;</a></xml>'), {
    instanceOf: XmlError,
  });
  await t.throwsAsync(parseXml('<root><a>1</a></root>'), { instanceOf: XmlError });
  await t.throwsAsync(parseXml('<xml><a>1</xml>'), { instanceOf: XmlError });
  await t.throwsAsync(parseXml('not xml at all'), { instanceOf: XmlError });
  await t.throwsAsync(parseXml('<xml>' + '<a>'.repeat(50) + '</a>'.repeat(50) + '</xml>'), { instanceOf: XmlError, message: /deeply/ });
});

test('markup inside CDATA is text, not nesting', async (t) => {
  const text = '<a>'.repeat(20);
  t.like(await parse({ MsgType: 'text', Content: text, MsgId: '1' }), { text });
});

test('dedupe keys: MsgId for messages; user, time, event and key for events', async (t) => {
  const a = await parse({ MsgType: 'text', Content: 'x', MsgId: '42' });
  const b = await parse({ MsgType: 'event', Event: 'CLICK', EventKey: 'A' });
  const c = await parse({ MsgType: 'event', Event: 'CLICK', EventKey: 'B' });
  t.is(dedupeKeyOf(a), 'm:oUser|text|42');
  t.not(dedupeKeyOf(b), dedupeKeyOf(c), 'two clicks in the same second are two pushes');
  t.is(dedupeKeyOf(b), dedupeKeyOf(await parse({ MsgType: 'event', Event: 'CLICK', EventKey: 'A' })));
  t.is(dedupeKeyOf(await parse({ MsgType: 'event', Event: 'subscribe', EventKey: '' })), 'e:oUser|1700000000|subscribe|');
  t.is(dedupeKeyOf(await parse({ MsgType: 'event', Event: 'TEMPLATESENDJOBFINISH', MsgID: '7', Status: 'success' })).slice(0, 2), 'm:');
});
