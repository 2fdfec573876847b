import test from 'ava';
import fc from 'fast-check';
import { encryptOf, parseFlat, parseFull, parseXml, XmlError } from '../core/protocol/xml.ts';
import { pushXml } from './bench/job.ts';
import { benignBody, fill, hostileBodies, leastTime } from './_hostile-bodies.ts';

// Pieces of documents around the edge of the fast path: what it takes, and what it must leave
// to xml2js (nesting, references, comments, odd names and spaces, text outside the children).
// Mostly the common case, sometimes one of the others: a document reaches the fast path often enough.
const mostly = <T>(common: fc.Arbitrary<T>, other: fc.Arbitrary<T>) => fc.oneof({ weight: 9, arbitrary: common }, other);
const name = mostly(
  fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/),
  fc.constantFrom('A.b', 'x-y', '1a', 'é', '__proto__', 'constructor', 'A b', ''),
);
const text = mostly(
  fc.string({ unit: fc.constantFrom('a', ' ', '中', '\n', '\r', '\t', '>', ']', '/', '😀') }),
  fc.string({ unit: fc.constantFrom('a', '<', '>', '&', ']', ']]>', '&amp;', '&#20013;', '\u0001', '\u00a0') }),
);
const space = mostly(
  fc.string({ unit: fc.constantFrom(' ', '\n', '\r', '\t'), maxLength: 3 }),
  fc.string({ unit: fc.constantFrom(' ', '\u00a0', '\u3000', '\ufeff'), maxLength: 3 }),
);
const value = mostly(
  fc.oneof(
    text.map((t) => `<![CDATA[${t}]]>`),
    text,
  ),
  fc.oneof(
    fc.tuple(name, text).map(([n, t]) => `<${n}>${t}</${n}>`),
    text.map((t) => `<!--${t}-->`),
    fc.constant('<![CDATA[a]]>b'),
  ),
);
const child = mostly(
  fc.tuple(space, name, value).map(([s, n, v]) => `${s}<${n}>${v}</${n}>`),
  fc.oneof(
    fc.tuple(space, name, value, name).map(([s, n, v, m]) => `${s}<${n}>${v}</${m}>`),
    fc.tuple(space, name).map(([s, n]) => `${s}<${n}/>`),
    text,
  ),
);
const either = <T>(common: T, ...other: T[]) => mostly(fc.constant(common), fc.constantFrom(...other));
const document = fc
  .tuple(
    either('', ' ', '\ufeff', '<?xml version="1.0"?>'),
    either('<xml>', '<xml >', '<XML>', '<root>'),
    fc.array(child, { maxLength: 6 }),
    space,
    either('</xml>', '</root>', ''),
    either('', '\n', ' x', '<b/>'),
  )
  .map((parts) => parts.flat().join(''));

test('what the fast path reads, xml2js reads to the same object', async (t) => {
  let taken = 0;
  await fc.assert(
    fc.asyncProperty(document, async (doc) => {
      const flat = parseFlat(doc);
      if (flat === undefined) return;
      taken++;
      t.deepEqual(flat, await parseFull(doc), doc);
    }),
    { numRuns: 3000 },
  );
  console.log('taken', taken);
  t.true(taken > 100, `the generator reached the fast path only ${taken} times`);
});

test('a push as WeChat sends it takes the fast path, CDATA and plain text alike', (t) => {
  t.deepEqual(parseFlat(pushXml(7)), {
    ToUserName: 'gh_bench',
    FromUserName: 'oBenchUser7',
    CreateTime: '1700000007',
    MsgType: 'event',
    Event: 'subscribe',
    EventKey: 'qrscene_bench-poster',
    Ticket: 'TICKET7',
  });
  t.deepEqual(parseFlat('<xml>\n  <Content><![CDATA[a <b> & ]] c]]></Content>\n  <MsgId>1</MsgId>\n</xml>\n'), {
    Content: 'a <b> & ]] c',
    MsgId: '1',
  });
});

test('bodies off the fast path are still read, or refused, by xml2js', async (t) => {
  const nested = '<xml><ScanCodeInfo><ScanType><![CDATA[qrcode]]></ScanType></ScanCodeInfo><Content>a &amp; b</Content></xml>';
  t.is(parseFlat(nested), undefined);
  t.deepEqual(await parseXml(nested), { ScanCodeInfo: { ScanType: 'qrcode' }, Content: 'a & b' });
  await t.throwsAsync(parseXml('<xml><a>1</a></xml'), { instanceOf: XmlError });
  await t.throwsAsync(parseXml('<xml></xml>'), { instanceOf: XmlError });
  await t.throwsAsync(parseXml('<xml><!DOCTYPE x><a>1</a></xml>'), { instanceOf: XmlError });
});

test('every parse is linear: the worst bodies cost about what a benign one of the same size does', async (t) => {
  const quietly = (text: string) => () => parseXml(text).catch(() => undefined);
  for (const [name, body] of Object.entries(hostileBodies)) {
    // The benign body is timed beside each hostile one, so the machine's load falls on both alike.
    const benign = await leastTime(quietly(benignBody), 5);
    const ratio = (await leastTime(quietly(body), 5)) / benign;
    // Structure costs sax more per byte than text does (deep nesting about 10×, and up to 25× seen
    // with the whole suite loading both cores); the quadratic paths this guards against were 400×
    // and beyond.
    t.log(`${name}: ${ratio.toFixed(1)}×`);
    t.true(ratio < 40, `${name}: ${ratio.toFixed(1)}× a benign body`);
  }
});

test('declarations are refused, but users may type them in CDATA', async (t) => {
  for (const body of [
    '<xml><!ELEMENT a ANY><a>1</a></xml>',
    '<xml><!x><a>1</a></xml>',
    '<xml><a>1</a><!--c--><!ATTLIST a b CDATA #IMPLIED></xml>',
  ]) {
    await t.throwsAsync(parseXml(body), { instanceOf: XmlError, message: /not accepted/ }, body);
  }
  t.deepEqual(await parseXml('<xml><!-- <!DOCTYPE --><Content><![CDATA[<!DOCTYPE x> <!ENTITY e>]]></Content><a>1</a></xml>'), {
    Content: '<!DOCTYPE x> <!ENTITY e>',
    a: '1',
  });
});

test('encryptOf finds the Encrypt value by a scan, past a user text that spells one', (t) => {
  t.is(encryptOf('<xml><ToUserName><![CDATA[gh]]></ToUserName><Encrypt><![CDATA[AbC=]]></Encrypt></xml>'), 'AbC=');
  t.is(encryptOf('<xml><Encrypt>AbC=</Encrypt></xml>'), 'AbC=');
  t.is(
    encryptOf(
      '<xml><Content><![CDATA[<Encrypt>fake</Encrypt>]]></Content><!-- <Encrypt>no</Encrypt> --><Encrypt><![CDATA[real]]></Encrypt></xml>',
    ),
    'real',
  );
  for (const body of [
    '<xml></xml>',
    '<xml><Encrypt>a<b/></Encrypt></xml>',
    '<xml><Encrypt><![CDATA[a]]>b</Encrypt></xml>',
    '<xml><Encrypt>a&amp;</Encrypt></xml>',
    fill('<![CDATA['),
  ]) {
    t.is(encryptOf(body), undefined, body.slice(0, 60));
  }
});
