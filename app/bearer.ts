import type { Middleware } from 'koa';
import { secretMatches } from '../core/protocol/signature.ts';
import type { Store } from '../core/state/store.ts';
import { tooManyRequests, wrongTokens, WRONG_TOKENS_PER_MINUTE } from './rate-limit.ts';

/**
 * The guard of the HTTP API for websites: `Authorization: Bearer <BOT_API_TOKEN>`. Without a
 * token set the routes do not exist (404); a wrong one is 401, and ten wrong ones a minute from
 * an address are 429 for it, the right token too.
 * @example
 * router.use(requireBearer({ token: process.env.BOT_API_TOKEN, store }))
 */
export function requireBearer(options: { token: string | undefined; store: Store }): Middleware {
  const wrong = wrongTokens(options.store);
  return async (koa, next) => {
    if (!options.token) return void (koa.status = 404);
    const given = /^Bearer (.+)$/i.exec(koa.get('authorization'))?.[1];
    const verdict = await wrong.judge(koa, secretMatches(given, options.token));
    if (verdict === 'limited') {
      return tooManyRequests(koa, { error: `more than ${WRONG_TOKENS_PER_MINUTE} wrong tokens in a minute from this address: wait` });
    }
    if (verdict === 'wrong') {
      koa.status = 401;
      koa.set('WWW-Authenticate', 'Bearer');
      koa.body = { error: 'a valid Bearer token (BOT_API_TOKEN) is required' };
      return;
    }
    await next();
  };
}
