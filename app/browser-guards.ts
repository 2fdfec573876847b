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
