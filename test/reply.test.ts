import test from 'ava';
import { normalizeReply, renderReply, ReplyError, type Reply } from '../core/protocol/reply.ts';
import { parseXml } from '../core/protocol/xml.ts';

const envelope = { user: 'oUser', account: 'gh_account', createTime: 1700000123.9 };
const render = (reply: Reply) => parseXml(renderReply(normalizeReply(reply)!, envelope));

test('the parties are swapped and CreateTime is in whole seconds', async (t) => {
  t.like(await render('hi'), { ToUserName: 'oUser', FromUserName: 'gh_account', CreateTime: '1700000123', MsgType: 'text', Content: 'hi' });
});

test('every reply type renders as WeChat expects', async (t) => {
  t.like(await render({ type: 'image', mediaId: 'M1' }), { MsgType: 'image', Image: { MediaId: 'M1' } });
  t.like(await render({ type: 'voice', mediaId: 'M2' }), { MsgType: 'voice', Voice: { MediaId: 'M2' } });
  t.like(await render({ type: 'video', mediaId: 'M3', title: 'T', description: 'D' }), {
    MsgType: 'video',
    Video: { MediaId: 'M3', Title: 'T', Description: 'D' },
  });
  t.like(await render({ type: 'music', title: 'T', description: 'D', musicUrl: 'http://m', hqMusicUrl: 'http://hq', thumbMediaId: 'TH' }), {
    MsgType: 'music',
    Music: { Title: 'T', Description: 'D', MusicUrl: 'http://m', HQMusicUrl: 'http://hq', ThumbMediaId: 'TH' },
  });
  t.like(await render({ type: 'news', articles: [{ title: '春', description: 'd', picUrl: 'http://p', url: 'http://u' }] }), {
    MsgType: 'news',
    ArticleCount: '1',
    Articles: { item: { Title: '春', Description: 'd', PicUrl: 'http://p', Url: 'http://u' } },
  });
  t.like(await render({ type: 'transfer_customer_service' }), { MsgType: 'transfer_customer_service' });
  t.like(await render({ type: 'transfer_customer_service', kfAccount: 'kf1@gh' }), { TransInfo: { KfAccount: 'kf1@gh' } });
});

test(']]> and control characters inside text survive as text', async (t) => {
  const tricky = 'a]]>b<![CDATA[c]]>\u0001d';
  t.like(await render(tricky), { Content: 'a]]>b<![CDATA[c]]>d' });
});

test('a reply WeChat would reject fails here, with the reason', (t) => {
  t.throws(() => normalizeReply(''), { instanceOf: ReplyError, message: /content/ });
  t.throws(() => normalizeReply({ type: 'news', articles: [] }), { instanceOf: ReplyError, message: /1 to 8/ });
  t.throws(() => normalizeReply({ type: 'image', mediaId: '' }), { instanceOf: ReplyError, message: /mediaId/ });
  t.throws(() => normalizeReply({ type: 'sticker' } as never), { instanceOf: ReplyError, message: /unknown reply type sticker/ });
  t.is(normalizeReply(undefined), undefined);
});
