// Hostile input: random and adversarial bodies and queries against the real transport. Every answer
// is a 4xx or a valid reply, the process stays up, and no forged push reaches a plugin.
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { createCipheriv, randomBytes } from 'node:crypto';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { WechatCrypto, aesKeyFrom } from '../core/protocol/crypto.ts';
import { sign } from '../core/protocol/signature.ts';
import { parseXml } from '../core/protocol/xml.ts';
import { benignBody, hostileBodies, leastTime } from './_hostile-bodies.ts';
import {
  ACCOUNT,
  AES_KEY,
  APPID,
  TOKEN,
  eventFields,
  openid,
  pushXml,
  sealPush,
  signedQuery,
  startServer,
  testConfig,
} from './_helpers.ts';

const RUNS = 150;

async function hostileServer(t: ExecutionContext) {
  const reached: string[] = [];
  const server = await startServer(t, {
    aes: true,
    config: { ...testConfig(), plugins: [{ name: 'spy', middleware: (ctx, next) => (reached.push(ctx.event.from), next()) }] },
  });
  const post = (
    query: URLSearchParams | string,
    body: string | Uint8Array,
    headers: Record<string, string> = { 'content-type': 'text/xml' },
  ) => fetch(`${server.url}?${query}`, { method: 'POST', headers, body });
  return { server, reached, post };
}

/** A 4xx with a short text, or a 200 whose body is `success` or well-formed reply XML. */
async function assertSane(t: ExecutionContext, response: Response): Promise<number> {
  const text = await response.text();
  if (response.status === 200) {
    if (text !== 'success') await t.notThrowsAsync(parseXml(text));
  } else {
    t.true(response.status >= 400 && response.status < 500, `status ${response.status}`);
    t.true(text.length < 200 && !/\n\s+at /.test(text), 'a short answer, no stack');
  }
  return response.status;
}

test('random bytes, signed or not, never crash the server nor reach a plugin', async (t) => {
  const { reached, post } = await hostileServer(t);
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), fc.boolean(), async (bytes, signed) => {
      const status = await assertSane(t, await post(signed ? signedQuery() : 'signature=x&timestamp=1&nonce=2', bytes));
      t.true(signed ? status === 400 || status === 200 : status === 401);
    }),
    { numRuns: RUNS },
  );
  t.deepEqual(reached, []);
});

test('truncated pushes are refused', async (t) => {
  const { reached, post } = await hostileServer(t);
  const whole = pushXml(eventFields(openid(), 'CLICK', { EventKey: 'TODAY' }));
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: whole.length - 1 }), async (cut) => {
      t.is(await assertSane(t, await post(signedQuery(), whole.slice(0, cut))), 400);
    }),
    { numRuns: RUNS },
  );
  t.deepEqual(reached, []);
});

test('deeply nested XML, entity expansion and external entities are refused', async (t) => {
  const { reached, post } = await hostileServer(t);
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 9, max: 20_000 }), async (depth) => {
      const body = `<xml><ToUserName>a</ToUserName>${'<a>'.repeat(depth)}x${'</a>'.repeat(depth)}</xml>`;
      t.true([400, 413].includes(await assertSane(t, await post(signedQuery(), body))));
    }),
    { numRuns: 30 },
  );
  const laughs =
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">' +
    Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`).join('') +
    ']><xml><Content>&lol9;</Content></xml>';
  t.is(await assertSane(t, await post(signedQuery(), laughs)), 400);
  const xxe = `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>${pushXml(eventFields(openid(), 'CLICK', { EventKey: '&e;' }))}`;
  t.is(await assertSane(t, await post(signedQuery(), xxe)), 400);
  const lowercase = `<!doctype xml><xml><a>1</a></xml>`;
  t.is(await assertSane(t, await post(signedQuery(), lowercase)), 400);
  t.deepEqual(reached, []);
});

test('huge fields get 413 past the limit, and are answered below it', async (t) => {
  const { post } = await hostileServer(t);
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 600 * 1024 }), async (size) => {
      const body = pushXml({ ...eventFields(openid(), 'text'), MsgType: 'text', Content: 'x'.repeat(size), MsgId: String(size) });
      const status = await assertSane(t, await post(signedQuery(), body));
      t.is(status, body.length > 256 * 1024 ? 413 : 200);
    }),
    { numRuns: 25 },
  );
});

test('repeated or missing query keys are refused as unsigned', async (t) => {
  const { reached, post } = await hostileServer(t);
  const body = pushXml(eventFields(openid(), 'CLICK', { EventKey: 'TODAY' }));
  await fc.assert(
    fc.asyncProperty(fc.subarray(['signature', 'timestamp', 'nonce'], { minLength: 1 }), fc.boolean(), async (keys, drop) => {
      const query = signedQuery();
      for (const key of keys) drop ? query.delete(key) : query.append(key, query.get(key) ?? 'x');
      t.is(await assertSane(t, await post(query, body)), 401);
    }),
    { numRuns: 40 },
  );
  t.deepEqual(reached, []);
});

test('non-UTF-8 bodies are refused', async (t) => {
  const { reached, post } = await hostileServer(t);
  await fc.assert(
    fc.asyncProperty(fc.constantFrom([0xff], [0xc3, 0x28], [0xe2, 0x82], [0xf0, 0x28, 0x8c, 0xbc], [0xed, 0xa0, 0x80]), async (bad) => {
      const [head, tail] = pushXml(eventFields(openid(), 'text', { MsgType: 'text', Content: '@@', MsgId: '1' })).split('@@');
      t.is(await assertSane(t, await post(signedQuery(), Buffer.concat([Buffer.from(head!), Buffer.from(bad), Buffer.from(tail!)]))), 400);
    }),
    { numRuns: 20 },
  );
  t.deepEqual(reached, []);
});

test('any content type: a signed push is answered the same', async (t) => {
  const { post } = await hostileServer(t);
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(
        'text/xml',
        'application/xml',
        'text/plain',
        'application/json',
        'application/x-www-form-urlencoded',
        'multipart/form-data',
        '',
      ),
      async (type) => {
        const response = await post(
          signedQuery(),
          pushXml(eventFields(openid(), 'CLICK', { EventKey: 'TODAY' })),
          type ? { 'content-type': type } : {},
        );
        t.like(await parseXml(await response.text()), { Content: 'today reply' });
      },
    ),
    { numRuns: 20 },
  );
});

test('safe mode: bad base64, bad padding, wrong appid and forged msg_signature never reach a plugin', async (t) => {
  const { reached, post } = await hostileServer(t);
  const crypto = new WechatCrypto({ token: TOKEN, appId: APPID, encodingAESKeys: [AES_KEY] });
  const sealedBody = (encrypt: string) => `<xml><ToUserName>${ACCOUNT}</ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`;
  const signedFor = (encrypt: string) => {
    const query = signedQuery();
    query.set('encrypt_type', 'aes');
    query.set('msg_signature', sign(TOKEN, query.get('timestamp')!, query.get('nonce')!, encrypt));
    return query;
  };
  // Valid layout, then a wrong pad byte: AES-CBC by hand with WeChat's key and iv.
  const badPadding = (pad: number) => {
    const key = aesKeyFrom(AES_KEY);
    const body = Buffer.concat([randomBytes(16), Buffer.from([0, 0, 0, 4]), Buffer.from('<x/>'), Buffer.from(APPID)]);
    const fill = 32 - (body.length % 32);
    const padded = Buffer.concat([body, Buffer.alloc(fill - 1, fill), Buffer.from([pad])]);
    const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
    return Buffer.concat([cipher.update(padded), cipher.final()]).toString('base64');
  };
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.string({ minLength: 1, maxLength: 200 }).map((s) => ({ kind: 'base64', encrypt: s })),
        fc.integer({ min: 0, max: 255 }).map((pad) => ({ kind: 'padding', encrypt: badPadding(pad) })),
        fc.string({ minLength: 1, maxLength: 20 }).map((appId) => ({
          kind: 'appid',
          encrypt: new WechatCrypto({ token: TOKEN, appId: `wx${appId}`, encodingAESKeys: [AES_KEY] }).encrypt('<xml/>'),
        })),
      ),
      async ({ kind, encrypt }) => {
        const status = await assertSane(t, await post(signedFor(encrypt), sealedBody(encrypt)));
        t.true(status === 400, `${kind}: ${status}`);
      },
    ),
    { numRuns: RUNS },
  );
  await fc.assert(
    fc.asyncProperty(fc.stringMatching(/^[0-9a-f]{40}$/), async (forged) => {
      const sealed = sealPush(pushXml(eventFields(openid(), 'CLICK', { EventKey: 'TODAY' })), crypto);
      sealed.query.set('msg_signature', forged);
      t.is(await assertSane(t, await post(sealed.query, sealed.body)), 401);
    }),
    { numRuns: 50 },
  );
  t.deepEqual(reached, []);
});

test('safe mode: nothing of an unsigned body is parsed before msg_signature holds, so the worst bodies cost what a benign one does', async (t) => {
  const { reached, post } = await hostileServer(t);
  // As an attacker without the token sends it: encrypt_type=aes, no signature, a made-up msg_signature.
  const query = signedQuery();
  query.delete('signature');
  query.set('encrypt_type', 'aes');
  query.set('msg_signature', 'f'.repeat(40));
  const send = (body: string) => async () => t.true([400, 401].includes(await assertSane(t, await post(query, body))));
  const [head, tail] = [`<xml><ToUserName>${ACCOUNT}</ToUserName><Encrypt><![CDATA[`, ']]></Encrypt></xml>'];
  const envelope = head + 'A'.repeat(benignBody.length - head.length - tail.length) + tail;
  const benign = Math.max(await leastTime(send(envelope)), await leastTime(send(benignBody)));
  for (const [name, body] of Object.entries(hostileBodies)) {
    const ratio = (await leastTime(send(body))) / benign;
    t.true(ratio < 10, `${name}: ${ratio.toFixed(1)}× a benign body`);
  }
  t.deepEqual(reached, []);
});

test('a signed URL once used, replayed with any other body, is refused and reaches no plugin', async (t) => {
  const { reached, post } = await hostileServer(t);
  const used = signedQuery();
  const user = openid();
  const genuine = pushXml(eventFields(user, 'CLICK', { EventKey: 'TODAY' }));
  t.is((await post(used, genuine)).status, 200);
  await fc.assert(
    fc.asyncProperty(fc.constantFrom('subscribe', 'SCAN', 'CLICK', 'unsubscribe'), fc.string({ maxLength: 40 }), async (name, key) => {
      const forged = pushXml(eventFields(openid(), name, { EventKey: key, Ticket: 'TK' }));
      t.is(await assertSane(t, await post(used, forged)), 401);
    }),
    { numRuns: 50 },
  );
  t.is((await post(used, genuine)).status, 200); // WeChat's own retry still gets its answer
  t.deepEqual(reached, [user]);
});

test('replayed pushes run once and get the same answer', async (t) => {
  const { reached, post } = await hostileServer(t);
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 2, max: 8 }), async (times) => {
      const sealed = sealPush(pushXml(eventFields(openid(), 'CLICK', { EventKey: 'TODAY' })));
      const before = reached.length;
      const bodies = await Promise.all(Array.from({ length: times }, async () => (await post(sealed.query, sealed.body)).text()));
      const contents = await Promise.all(
        bodies.map(
          async (b) =>
            (
              await parseXml(
                new WechatCrypto({ token: TOKEN, appId: APPID, encodingAESKeys: [AES_KEY] }).decrypt(String((await parseXml(b)).Encrypt))
                  .xml,
              )
            ).Content,
        ),
      );
      t.deepEqual(contents, Array(times).fill('today reply'));
      t.is(reached.length - before, 1);
    }),
    { numRuns: 20 },
  );
});

test('memory stays bounded over many distinct pushes', async (t) => {
  setFlagsFromString('--expose_gc');
  const gc = runInNewContext('gc') as () => void;
  const { post } = await hostileServer(t);
  const round = async (n: number) => {
    for (let i = 0; i < n; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, () =>
          post(signedQuery(), pushXml(eventFields(openid(), 'CLICK', { EventKey: 'TODAY' }))).then((r) => r.text()),
        ),
      );
    }
  };
  await round(2000);
  gc();
  const before = process.memoryUsage().heapUsed;
  await round(4000);
  gc();
  const growth = process.memoryUsage().heapUsed - before;
  t.true(growth < 40 * 1024 * 1024, `heap grew ${Math.round(growth / 1024 / 1024)} MB over 4,000 pushes`);
});
