// The HTTP server in front of the app, with the limits that keep slow and hostile clients from
// holding it: Node's defaults wait 60 s for headers, 5 min for a request, and for ever for a
// connection that sends nothing.
import { createServer, type Server } from 'node:http';
import type Koa from 'koa';

/** How long a client may take, and how many connections it may hold. */
export interface HttpLimits {
  /** The headers of a request must arrive within this. */
  headersTimeoutMs: number;
  /** The whole request (headers and body) must arrive within this. */
  requestTimeoutMs: number;
  /**
   * A connection with nothing happening on it is closed after this: one that never sends a byte,
   * or a handler that never answers. Above the 4.5 s deadline and the longest route (the login
   * API's long poll, 30 s).
   */
  idleTimeoutMs: number;
  /**
   * A kept-alive connection waits this long for its next request. Above a reverse proxy's own
   * idle timeout (nginx and most load balancers: 60 s), or the proxy may send a push down a
   * connection Node is closing, and WeChat gets a 502.
   */
  keepAliveTimeoutMs: number;
  /** Connections open at once; past it a new one is closed at once. */
  maxConnections: number;
  /**
   * Connections open at once from one address. Not applied behind a proxy (BOT_TRUST_PROXY),
   * whose connections all come from one address.
   */
  maxConnectionsPerAddress: number | undefined;
}

/** The limits of `npm start`. */
export const HTTP_LIMITS: HttpLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 15_000,
  idleTimeoutMs: 40_000,
  keepAliveTimeoutMs: 65_000,
  maxConnections: 10_000,
  maxConnectionsPerAddress: 512,
};

/**
 * A Node HTTP server for the Koa app, with {@link HTTP_LIMITS} (or others). Listening is the
 * caller's.
 * @example
 * const server = createHttpServer(app, { ...HTTP_LIMITS, maxConnectionsPerAddress: undefined })
 * server.listen(3000)
 */
export function createHttpServer(app: Koa, limits: HttpLimits = HTTP_LIMITS): Server {
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // How often Node looks for requests past those timeouts (30 s by default): a tenth of the
      // headers' time, so a slow client is closed close to when its time is up.
      connectionsCheckingInterval: Math.max(100, Math.min(1000, limits.headersTimeoutMs / 10)),
    },
    app.callback(),
  );
  server.timeout = limits.idleTimeoutMs;
  server.maxConnections = limits.maxConnections;
  const perAddress = limits.maxConnectionsPerAddress;
  if (perAddress !== undefined) {
    const open = new Map<string, number>();
    server.on('connection', (socket) => {
      const address = socket.remoteAddress ?? '';
      const count = (open.get(address) ?? 0) + 1;
      if (count > perAddress) return void socket.destroy();
      open.set(address, count);
      socket.once('close', () => {
        const left = (open.get(address) ?? 1) - 1;
        if (left === 0) open.delete(address);
        else open.set(address, left);
      });
    });
  }
  return server;
}
