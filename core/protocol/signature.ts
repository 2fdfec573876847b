import { createHash, hash, timingSafeEqual } from 'node:crypto';

/**
 * WeChat's request signature: sha1 of the sorted parts, joined, as hex.
 * @example
 * sign('token', '1409735669', '1320562132') // → 'b7c1…'
 * sign('token', ts, nonce, encrypted)       // msg_signature in safe mode
 */
export function sign(...parts: string[]): string {
  // Sorted as Array.prototype.sort would (by UTF-16 code units), by insertion: three or four short
  // strings per push, and sort() allocates a work array for them (BENCHMARKS.md).
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i]!;
    let j = i;
    for (; j > 0 && parts[j - 1]! > part; j--) parts[j] = parts[j - 1]!;
    parts[j] = part;
  }
  return hash('sha1', parts.join(''), 'hex');
}

/**
 * Compares a received signature with the expected one in constant time.
 * @example
 * if (!signatureMatches(query.signature, sign(token, ts, nonce))) ctx.status = 401
 */
export function signatureMatches(received: unknown, expected: string): boolean {
  if (typeof received !== 'string') return false;
  const a = Buffer.from(received.toLowerCase());
  const b = Buffer.from(expected);
  // timingSafeEqual needs equal lengths; comparing b with itself keeps the time flat.
  return a.length === b.length ? timingSafeEqual(a, b) : (timingSafeEqual(b, b), false);
}

/**
 * Compares a secret someone sent (a bearer or console token) with ours in constant time. Both are
 * hashed first, so the time taken says nothing about their lengths either.
 * @example
 * if (!secretMatches(bearer, process.env.BOT_API_TOKEN!)) koa.status = 401
 */
export function secretMatches(given: unknown, secret: string): boolean {
  if (typeof given !== 'string') return false;
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(secret));
}
