import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { sign } from './signature.ts';

/** Thrown when safe-mode data cannot be trusted: bad key, padding, length or appid. */
export class CryptoError extends Error {
  override name = 'CryptoError';
}

const BLOCK = 32; // WeChat pads to 32 bytes, not AES's 16.
const NOT_BASE64 = /[^A-Za-z0-9+/=]/;

/**
 * Strict base64, as /^[A-Za-z0-9+/]+={0,2}$/ says, checked by one scan for a foreign character
 * (a tenth of that regex's time on a push's Encrypt).
 */
export function isBase64(text: string): boolean {
  if (NOT_BASE64.test(text)) return false;
  const eq = text.indexOf('=');
  if (eq < 0) return text.length > 0;
  return eq > 0 && (eq === text.length - 1 || (eq === text.length - 2 && text.charCodeAt(text.length - 1) === 61));
}

/**
 * Turns an EncodingAESKey (43 characters) into the 32-byte AES key.
 * @example
 * aesKeyFrom('abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG').length // 32
 * aesKeyFrom('short') // throws with a message saying what is wrong
 */
export function aesKeyFrom(encodingAESKey: string): Buffer {
  if (!/^[A-Za-z0-9]{43}$/.test(encodingAESKey)) {
    throw new CryptoError('WECHAT_AES_KEY must be the 43 letters and digits of the EncodingAESKey shown in the account console');
  }
  const key = Buffer.from(encodingAESKey + '=', 'base64');
  if (key.length !== 32) throw new CryptoError('WECHAT_AES_KEY does not decode to 32 bytes');
  return key;
}

// Every reply needs a few random bytes; one call into OpenSSL per reply is slow, so they are
// taken from a pool refilled 4 KB at a time (as Node's randomUUID does). Bytes are never reused.
const POOL_SIZE = 4096;
let pool = Buffer.alloc(0);
let used = 0;

/** `size` bytes from the CSPRNG (randomBytes), taken from a pool. */
export function secureRandom(size: number): Buffer {
  if (size > POOL_SIZE) return randomBytes(size);
  if (used + size > pool.length) {
    pool = randomBytes(POOL_SIZE);
    used = 0;
  }
  used += size;
  return pool.subarray(used - size, used);
}

/** Options of {@link WechatCrypto}. */
export interface WechatCryptoOptions {
  token: string;
  appId: string;
  /** The current EncodingAESKey, then optionally the previous one (WeChat's FAQ: try both while rotating). */
  encodingAESKeys: readonly string[];
}

/** What a decrypted push holds. */
export interface Decrypted {
  xml: string;
  /** Index of the key that opened it, so the reply is sealed with the same key. */
  keyIndex: number;
}

/**
 * WeChat's safe mode: AES-256-CBC, iv = key[0..16], 32-byte PKCS#7,
 * plaintext = random(16) ‖ uint32be(len) ‖ msg ‖ appid.
 * @example
 * const c = new WechatCrypto({ token, appId, encodingAESKeys: [aesKey] })
 * c.decrypt(encrypt).xml
 */
export class WechatCrypto {
  readonly #keys: Buffer[];
  readonly #token: string;
  readonly #appId: string;
  readonly #appIdBytes: Buffer;

  constructor(options: WechatCryptoOptions) {
    if (options.encodingAESKeys.length === 0) throw new CryptoError('no EncodingAESKey given');
    this.#keys = options.encodingAESKeys.map(aesKeyFrom);
    this.#token = options.token;
    this.#appId = options.appId;
    this.#appIdBytes = Buffer.from(options.appId, 'utf8');
  }

  /** msg_signature for an Encrypt value. */
  signature(timestamp: string, nonce: string, encrypt: string): string {
    return sign(this.#token, timestamp, nonce, encrypt);
  }

  /** Decrypts an Encrypt value, trying each key; throws CryptoError if none opens it. */
  decrypt(encrypt: string): Decrypted {
    if (!isBase64(encrypt)) throw new CryptoError('Encrypt is not base64');
    const data = Buffer.from(encrypt, 'base64');
    if (data.length === 0 || data.length % BLOCK !== 0) throw new CryptoError('Encrypt has a bad length');
    let last: unknown;
    for (const [keyIndex, key] of this.#keys.entries()) {
      try {
        return { xml: this.#open(key, data), keyIndex };
      } catch (error) {
        last = error;
      }
    }
    throw last;
  }

  /** Encrypts a reply XML with the key at keyIndex (0: the current one). */
  encrypt(xml: string, keyIndex = 0): string {
    const key = this.#keys[keyIndex] ?? this.#keys[0]!;
    // random(16) ‖ uint32be(len) ‖ msg ‖ appid ‖ padding, written into one buffer.
    const length = Buffer.byteLength(xml);
    const unpadded = 20 + length + this.#appIdBytes.length;
    const pad = BLOCK - (unpadded % BLOCK);
    const plain = Buffer.allocUnsafe(unpadded + pad);
    secureRandom(16).copy(plain, 0);
    plain.writeUInt32BE(length, 16);
    plain.write(xml, 20, 'utf8');
    this.#appIdBytes.copy(plain, 20 + length);
    plain.fill(pad, unpadded);
    const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
    return Buffer.concat([cipher.update(plain), cipher.final()]).toString('base64');
  }

  #open(key: Buffer, data: Buffer): string {
    const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
    const head = decipher.update(data);
    const tail = decipher.final(); // empty: without padding, update gives every block
    const plain = tail.length === 0 ? head : Buffer.concat([head, tail]);
    const pad = plain[plain.length - 1]!;
    if (pad < 1 || pad > BLOCK) throw new CryptoError('bad padding');
    for (let i = plain.length - pad; i < plain.length; i++) if (plain[i] !== pad) throw new CryptoError('bad padding');
    const content = plain.subarray(16, plain.length - pad);
    if (content.length < 4) throw new CryptoError('plaintext too short');
    const length = content.readUInt32BE(0);
    if (length > content.length - 4) throw new CryptoError('message length out of range');
    const appId = content.subarray(4 + length).toString('utf8');
    if (appId !== this.#appId) throw new CryptoError('appid does not match');
    return content.subarray(4, 4 + length).toString('utf8');
  }
}
