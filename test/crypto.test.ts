// The official sample from WeChat's docs, copied from shared/vectors so a clone alone can run it.
import test from 'ava';
import fc from 'fast-check';
import { hash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { aesKeyFrom, CryptoError, isBase64, WechatCrypto } from '../core/protocol/crypto.ts';
import { sign, signatureMatches } from '../core/protocol/signature.ts';

interface Vectors {
  signature_examples: { token: string; timestamp: string; nonce: string; signature: string }[];
  safe_mode_decrypt: {
    token: string;
    encodingAESKey: string;
    appid: string;
    timestamp: string;
    nonce: string;
    signature: string;
    msg_signature: string;
    Encrypt: string;
    plaintext: string;
  };
}
const vectors = JSON.parse(readFileSync(new URL('./fixtures/official-sample.json', import.meta.url), 'utf8')) as Vectors;
const sample = vectors.safe_mode_decrypt;
const official = () => new WechatCrypto({ token: sample.token, appId: sample.appid, encodingAESKeys: [sample.encodingAESKey] });

test('the official signature examples verify', (t) => {
  for (const v of vectors.signature_examples) t.is(sign(v.token, v.timestamp, v.nonce), v.signature);
  t.is(sign(sample.token, sample.timestamp, sample.nonce), sample.signature);
});

test('the official msg_signature verifies', (t) => {
  t.is(official().signature(sample.timestamp, sample.nonce, sample.Encrypt), sample.msg_signature);
});

test('the official Encrypt decrypts to the official plaintext', (t) => {
  const opened = official().decrypt(sample.Encrypt);
  t.is(opened.xml, sample.plaintext);
  t.is(opened.keyIndex, 0);
});

test('a wrong appid is refused', (t) => {
  const crypto = new WechatCrypto({ token: sample.token, appId: 'wx0000000000000000', encodingAESKeys: [sample.encodingAESKey] });
  t.throws(() => crypto.decrypt(sample.Encrypt), { instanceOf: CryptoError, message: /appid/ });
});

test('encrypt then decrypt returns the message, Chinese included', (t) => {
  const crypto = official();
  const xml = '<xml><Content><![CDATA[你好，世界]]></Content></xml>';
  const sealed = crypto.encrypt(xml);
  t.is(Buffer.from(sealed, 'base64').length % 32, 0);
  t.is(crypto.decrypt(sealed).xml, xml);
  t.not(crypto.encrypt(xml), sealed, 'a fresh random prefix each time');
});

test('the previous key still opens pushes while rotating, and the reply uses it', (t) => {
  const previous = new WechatCrypto({ token: 't', appId: sample.appid, encodingAESKeys: [sample.encodingAESKey] });
  const rotated = new WechatCrypto({
    token: 't',
    appId: sample.appid,
    encodingAESKeys: ['ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210abcdefg', sample.encodingAESKey],
  });
  const opened = rotated.decrypt(previous.encrypt('<xml/>'));
  t.is(opened.keyIndex, 1);
  t.is(previous.decrypt(rotated.encrypt('<xml>r</xml>', opened.keyIndex)).xml, '<xml>r</xml>');
});

test('bad base64, bad length and bad padding are refused', (t) => {
  const crypto = official();
  t.throws(() => crypto.decrypt('not base64!'), { instanceOf: CryptoError });
  t.throws(() => crypto.decrypt(Buffer.alloc(20).toString('base64')), { instanceOf: CryptoError, message: /length/ });
  // 32 zero bytes decrypt to noise whose last byte is almost never a valid 1..32 pad run.
  const noise = Buffer.alloc(64, 7).toString('base64');
  t.throws(() => crypto.decrypt(noise), { instanceOf: CryptoError });
});

test('a malformed EncodingAESKey says what is wrong', (t) => {
  t.throws(() => aesKeyFrom('short'), { message: /43 letters and digits/ });
  t.throws(() => aesKeyFrom('abcdefghijklmnopqrstuvwxyz0123456789ABCDEF!'), { message: /43 letters and digits/ });
  t.is(aesKeyFrom(sample.encodingAESKey).length, 32);
});

test('signatures compare in constant time and only as strings', (t) => {
  const good = sign('a', 'b', 'c');
  t.true(signatureMatches(good, good));
  t.true(signatureMatches(good.toUpperCase(), good));
  t.false(signatureMatches(good.slice(1), good));
  t.false(signatureMatches([good], good));
  t.false(signatureMatches(undefined, good));
});

test('Encrypt is accepted exactly when it is strict base64', (t) => {
  const strict = /^[A-Za-z0-9+/]+={0,2}$/;
  const unit = fc.constantFrom('A', 'z', '0', '+', '/', '=', '-', '_', ' ', '\n', '中', '.');
  fc.assert(
    fc.property(fc.string({ unit, maxLength: 12 }), (text) => t.is(isBase64(text), strict.test(text), JSON.stringify(text))),
    { numRuns: 5000 },
  );
});

test('sign orders its parts as sort() does, whatever they hold', (t) => {
  const unit = fc.constantFrom('a', 'b', 'A', '0', '9', '_', '中', '\u{1F600}', '');
  const part = fc.string({ unit, maxLength: 4 });
  fc.assert(
    fc.property(fc.array(part, { minLength: 1, maxLength: 5 }), (parts) => {
      const expected = hash('sha1', [...parts].sort().join(''), 'hex');
      t.is(sign(...parts), expected, JSON.stringify(parts));
    }),
    { numRuns: 5000 },
  );
});
