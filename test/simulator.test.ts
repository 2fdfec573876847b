// The simulator plays WeChat's side: every action it offers becomes the pushes WeChat sends for
// it, signed, in plaintext and in safe mode, and the bot sees them typed as WeChat's would be.
import test from 'ava';
import type { WechatEvent } from '../core/protocol/events.ts';
import { ACTION_KINDS, describeReply, parseAction, simulate, type SimulatedAction } from '../app/simulator.ts';
import { AES_KEY, APPID, startServer, testConfig, TOKEN } from './_helpers.ts';

const EXAMPLES: Record<(typeof ACTION_KINDS)[number], [Record<string, string>, Partial<WechatEvent>[]]> = {
  subscribe: [{ scene: 'poster' }, [{ type: 'subscribe', scene: 'poster' }]],
  scan: [{ scene: 'poster' }, [{ type: 'scan', scene: 'poster' }]],
  unsubscribe: [{}, [{ type: 'unsubscribe' }]],
  text: [{ text: '你好' }, [{ type: 'text', text: '你好' }]],
  image: [{}, [{ type: 'image' }]],
  voice: [{ recognition: '今天天气' }, [{ type: 'voice', recognition: '今天天气', format: 'amr' }]],
  video: [{}, [{ type: 'video' }]],
  location: [{ latitude: '39.9042', longitude: '116.4074', label: '天安门' }, [{ type: 'location', latitude: '39.9042', label: '天安门' }]],
  link: [{ url: 'https://example.com/a', title: 'a' }, [{ type: 'link', url: 'https://example.com/a', title: 'a' }]],
  click: [{ key: 'TODAY' }, [{ type: 'click', key: 'TODAY' }]],
  view: [{ url: 'https://example.com/' }, [{ type: 'view', url: 'https://example.com/' }]],
  view_miniprogram: [{ path: 'pages/index/index' }, [{ type: 'view_miniprogram', path: 'pages/index/index' }]],
  scancode_push: [{ key: 'SCAN', result: 'https://example.com/q' }, [{ type: 'scancode_push', key: 'SCAN' }]],
  scancode_waitmsg: [{ key: 'SCAN', result: '6901234567892' }, [{ type: 'scancode_waitmsg', key: 'SCAN' }]],
  pic_sysphoto: [{ key: 'PHOTO' }, [{ type: 'pic_sysphoto', key: 'PHOTO' }, { type: 'image' }]],
  pic_photo_or_album: [{ key: 'PHOTO' }, [{ type: 'pic_photo_or_album' }, { type: 'image' }]],
  pic_weixin: [{ key: 'PHOTO' }, [{ type: 'pic_weixin' }, { type: 'image' }]],
  location_select: [
    { key: 'WHERE', latitude: '23.1291', longitude: '113.2644', label: '广州塔' },
    [
      { type: 'location_select', key: 'WHERE' },
      { type: 'location', latitude: '23.1291', label: '广州塔' },
    ],
  ],
};

for (const aes of [false, true]) {
  test(`every action becomes the pushes WeChat sends for it, typed as WeChat's (${aes ? 'safe mode' : 'plaintext'})`, async (t) => {
    const seen: WechatEvent[] = [];
    const config = {
      ...testConfig(),
      fallback: 'got it',
      plugins: [
        { name: 'spy', init() {}, middleware: (ctx: { event: WechatEvent }, next: () => Promise<void>) => (seen.push(ctx.event), next()) },
      ],
    };
    const server = await startServer(t, { config, aes });
    for (const kind of ACTION_KINDS) {
      const [fields, expected] = EXAMPLES[kind];
      const parsed = parseAction({ kind, ...fields });
      if ('error' in parsed) return void t.fail(`${kind}: ${parsed.error}`);
      seen.length = 0;
      const replies = await simulate(parsed.action, {
        url: server.url,
        token: TOKEN,
        user: 'oSimulated',
        ...(aes ? { aes: { appId: APPID, encodingAESKey: AES_KEY } } : {}),
      });
      t.deepEqual(
        replies.map((r) => r.status),
        expected.map(() => 200),
        kind,
      );
      t.is(seen.length, expected.length, kind);
      expected.forEach((event, i) => t.like(seen[i], event, `${kind}, push ${i + 1}`));
    }
  });
}

test('a photo button is answered once: the fallback answers the photo, not the button', async (t) => {
  const server = await startServer(t, { config: { ...testConfig(), fallback: 'got it' } });
  const action = { kind: 'pic_photo_or_album', key: 'PHOTO' } as SimulatedAction;
  const replies = await simulate(action, { url: server.url, token: TOKEN, user: 'oPhotographer' });
  t.deepEqual(replies.map(describeReply), ['success (no reply)', 'text: got it']);
});

test('each reply is described as a person reads it: text, image, voice, video, music, news', (t) => {
  const reply = (fields: Record<string, unknown>) => describeReply({ status: 200, raw: '<xml/>', reply: fields as never });
  t.is(reply({ MsgType: 'image', Image: { MediaId: 'm1' } }), 'image: m1');
  t.is(reply({ MsgType: 'voice', Voice: { MediaId: 'v1' } }), 'voice: v1');
  t.is(reply({ MsgType: 'video', Video: { MediaId: 'v2', Title: '片' } }), 'video: 片 v2');
  t.is(reply({ MsgType: 'music', Music: { Title: '歌', MusicUrl: 'http://m' } }), 'music: 歌 http://m');
  t.is(reply({ MsgType: 'news', Articles: { item: { Title: '新', Url: 'http://n' } } }), 'news: 新 http://n');
});
