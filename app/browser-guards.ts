// What keeps a web page on another site from using the bot's browser-facing routes through a
// visitor's browser: DNS rebinding, cross-site requests, framing, content sniffing.
import { isIP } from 'node:net';
import type { Middleware } from 'koa';

/**
 * Refuses (421) a request whose Host header is not a name this server answers to: an IP address,
 * `localhost`, or the host name of `HOST`. A DNS-rebinding page reaches 127.0.0.1 under a domain
 * name of its own, and its Host header says so; an IP address cannot be rebound.
 * @example
 * if (settings.emulator) app.use(hostCheck(settings.host))
 */
export function hostCheck(host: string | undefined): Middleware {
  const names = new Set(['localhost', ...(host && !isIP(host) ? [host.toLowerCase()] : [])]);
  return (koa, next) => {
    const name = hostName(koa.get('host'));
    if (name !== undefined && (names.has(name) || isIP(name.replace(/^\[(.*)\]$/, '$1')))) return next();
    koa.status = 421;
    koa.type = 'text/plain';
    koa.body = `this server answers to localhost or an IP address${host && !isIP(host) ? ` or ${host}` : ''}, not to this host name`;
    return undefined;
  };
}

// The host name of a Host header as the URL parser reads it (lower case, IPv6 in brackets).
function hostName(header: string): string | undefined {
  // Nothing but a name or an address and a port: no user@ part for the URL parser to skip.
  if (!/^[\w.:[\]-]+$/.test(header)) return undefined;
  try {
    return new URL(`http://${header}`).hostname;
  } catch {
    return undefined;
  }
}

/**
 * For a route that changes something: refuses (403) a request a page of another site made, seen
 * by an `Origin` other than this server's or by `Sec-Fetch-Site: cross-site`, and (415) a body
 * that is not JSON. An HTML form can post urlencoded, multipart or text/plain across sites
 * without any preflight; JSON it cannot.
 * @example
 * router.post('/login', sameOriginJson, koaBody({ json: true, urlencoded: false, text: false, multipart: false }), login)
 */
export const sameOriginJson: Middleware = (koa, next) => {
  const origin = koa.get('origin');
  // Koa 3's koa.origin is the Origin header itself, so this server's origin is spelt out.
  const own = `${koa.protocol}://${koa.host}`;
  if ((origin && origin !== own) || koa.get('sec-fetch-site') === 'cross-site') {
    koa.status = 403;
    koa.body = {
      error: `refused: a request from another site (Origin ${origin || 'not sent'}; this server is ${own}; behind a proxy set BOT_TRUST_PROXY and forward Host and X-Forwarded-Proto)`,
    };
    return undefined;
  }
  if (!koa.is('application/json')) {
    koa.status = 415;
    koa.body = { error: 'send JSON (content-type: application/json)' };
    return undefined;
  }
  return next();
};

/**
 * Headers of a page and what it loads: no other site may frame it (clickjacking), and nothing it
 * serves is read as another type than it says. `csp` is the page's Content-Security-Policy.
 * @example
 * router.use(pageHeaders("default-src 'self'; frame-ancestors 'none'"))
 */
export function pageHeaders(csp: string): Middleware {
  return (koa, next) => {
    koa.set('X-Frame-Options', 'DENY');
    koa.set('Content-Security-Policy', csp);
    koa.set('X-Content-Type-Options', 'nosniff');
    return next();
  };
}

/**
 * `X-Content-Type-Options: nosniff`, for responses that are not pages (images, JSON).
 * @example
 * app.use(noSniff)
 */
export const noSniff: Middleware = (koa, next) => {
  koa.set('X-Content-Type-Options', 'nosniff');
  return next();
};

/**
 * Refuses a request body sent compressed (415). Neither WeChat nor a browser compresses what it
 * sends; the JSON parser would inflate it, and a body that does not inflate failed inside zlib with
 * no HTTP status: a 500 and a stack trace in the log, for anyone without a token.
 */
export const identityBodiesOnly: Middleware = (koa, next) => {
  const encoding = koa.get('content-encoding').trim().toLowerCase();
  if (encoding === '' || encoding === 'identity') return next();
  koa.status = 415;
  koa.type = 'text/plain';
  koa.body = 'a request body must not be compressed (Content-Encoding)';
  return undefined;
};
