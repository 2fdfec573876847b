import getRawBody from 'raw-body';
import type { Context as KoaContext, Middleware } from 'koa';
import type { Bot } from '../kernel/bot.ts';
import type { Context } from '../kernel/context.ts';
import { CryptoError, secureRandom, type WechatCrypto } from '../protocol/crypto.ts';
import { EventError, toEvent, type WechatEvent } from '../protocol/events.ts';
import type { Logger } from '../kernel/log.ts';
import { NO_METRICS, type Metrics, type PushOutcome } from '../kernel/metrics.ts';
import type { ReplayGuard } from './replay.ts';
import { renderReply, type NormalReply } from '../protocol/reply.ts';
import { sign, signatureMatches } from '../protocol/signature.ts';
import { cdata, encryptOf, parseFlat, parseFull, XmlError, type XmlObject } from '../protocol/xml.ts';

/** Options of {@link wechatRouter}. */
export interface TransportOptions<C extends Context = Context> {
  /** The Token set in the account console. */
  token: string;
  /** Set when WECHAT_AES_KEY is: safe and compatible mode. */
  crypto?: WechatCrypto;
  /** WECHAT_MODE=safe: the account sends only encrypted pushes, so a plaintext one is refused. */
  encryptedOnly?: boolean;
  /** Refuses stale timestamps and a nonce replayed with another body; none: no such check. */
  replay?: ReplayGuard;
  /** The answer leaves by then whatever the chain does; WeChat gives up at 5 s. */
  deadlineMs?: number;
  /** Largest body accepted, in bytes; WeChat's pushes are a few KB. */
  bodyLimit?: number;
  /** The callback path. */
  path?: string;
  /** Receives a reply the chain produced after the deadline, to send another way. */
  onLateReply?(ctx: C, reply: NormalReply): void | Promise<void>;
  log: Logger;
  /** Counts each push and how it ended. */
  metrics?: Metrics;
}

/** An answer to bad input: a status and a short text, nothing else. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Logged with the refusal, never sent. */
    readonly detail?: Record<string, unknown>,
  ) {
    super(message);
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const REPLAYED = 'nonce already used with another body';

// A stale timestamp is refused; the log says by how much, since a machine whose clock is wrong
// sees every genuine push refused this way (WeChat's clocks are right).
function stale(timestamp: string): HttpError {
  const offsetS = Math.round(Number(timestamp) - Date.now() / 1000);
  const detail = Number.isFinite(offsetS) ? { offsetS, hint: "if every push is refused so, check this machine's clock" } : undefined;
  return new HttpError(401, 'timestamp too far from now (WECHAT_MAX_SKEW_S)', detail);
}

/** What {@link wechatRouter} returns. */
export interface WechatRoutes {
  /** The Koa middleware answering the callback path; any other path goes on down the app. */
  routes(): Middleware;
  /** Waits for the chains still running (and their late replies), at most timeoutMs. */
  drain(timeoutMs: number): Promise<void>;
}

/**
 * The route WeChat calls: GET verifies the URL, POST carries every push. The path matches as
 * @koa/router would match it (any case, with or without a trailing slash), without its dispatch
 * cost on every push.
 * @example
 * const router = wechatRouter(bot, { token, log })
 * app.use(router.routes())
 */
export function wechatRouter<C extends Context>(bot: Bot<C>, options: TransportOptions<C>): WechatRoutes {
  const deadlineMs = options.deadlineMs ?? 4500;
  const bodyLimit = options.bodyLimit ?? 256 * 1024;
  const { token, crypto, log, replay } = options;
  const metrics = options.metrics ?? NO_METRICS;
  if (options.encryptedOnly && !crypto) throw new Error('encryptedOnly needs crypto (WECHAT_MODE=safe needs WECHAT_AES_KEY)');
  const path = options.path ?? '/wechat';
  const lowerPath = path.toLowerCase().replace(/\/$/, '');
  const isCallback = (requested: string) =>
    requested === path || (requested.length <= lowerPath.length + 1 && requested.toLowerCase().replace(/\/$/, '') === lowerPath);
  // Chains still running (answered or not), so a shutdown can let them finish.
  const inFlight = new Set<Promise<unknown>>();

  const middleware: Middleware = (koa, next) => (isCallback(koa.path) ? handle(koa) : next());

  function handle(koa: KoaContext): Promise<void> | void {
    if (koa.method === 'POST') {
      const started = performance.now();
      return handlePush(koa, started).catch((error: unknown) => {
        refuse(koa, error);
        metrics.push('unparsed', 'refused', (performance.now() - started) / 1000);
      });
    }
    try {
      if (koa.method !== 'GET' && koa.method !== 'HEAD') {
        koa.set('Allow', 'GET, HEAD, POST');
        throw new HttpError(405, 'method not allowed');
      }
      verifyUrl(koa);
    } catch (error) {
      refuse(koa, error);
    }
  }

  // A request we refuse is answered with why; anything else is the app's to answer (500).
  function refuse(koa: KoaContext, error: unknown): void {
    if (!(error instanceof HttpError)) throw error;
    log.warn({ status: error.status, reason: error.message, method: koa.method, ...error.detail }, 'callback refused');
    koa.status = error.status;
    koa.type = 'text/plain';
    koa.body = error.message;
  }

  function verifyUrl(koa: KoaContext): void {
    const { signature, timestamp, nonce, echostr } = params(koa.querystring, 'signature', 'timestamp', 'nonce', 'echostr');
    if (!signatureMatches(signature, sign(token, timestamp ?? '', nonce ?? ''))) throw new HttpError(401, 'bad signature');
    if (replay && !replay.fresh(timestamp ?? '')) throw stale(timestamp ?? '');
    if (echostr === undefined) throw new HttpError(400, 'missing echostr');
    koa.type = 'text/plain';
    koa.body = echostr;
  }

  // Nothing of the body is parsed before the signature that covers it holds: in safe mode only the
  // Encrypt value is found, by a scan, and msg_signature checked. Every parse is linear. The nonce
  // is then checked against the body while the chain's first plugin (dedupe) claims the push, in
  // the same turn, so both reach the store together; the rest of the chain waits for the check.
  async function handlePush(koa: KoaContext, started: number): Promise<void> {
    const q = params(koa.querystring, 'signature', 'timestamp', 'nonce', 'encrypt_type', 'msg_signature');
    const timestamp = q.timestamp ?? '';
    const nonce = q.nonce ?? '';
    const encrypted = q.encrypt_type === 'aes';
    const signed = signatureMatches(q.signature, sign(token, timestamp, nonce));
    // In safe mode msg_signature covers the body; signature, sent too, must hold when present.
    if ((!encrypted || q.signature !== undefined || !crypto) && !signed) throw new HttpError(401, 'bad signature');
    if (options.encryptedOnly && !encrypted) throw new HttpError(403, 'plaintext push refused: WECHAT_MODE=safe');
    if (replay && !replay.fresh(timestamp)) throw stale(timestamp);
    const text = await readText(koa);
    let xml: XmlObject;
    let keyIndex: number | undefined; // set in safe mode: the reply is sealed with the key that opened the push
    if (encrypted && crypto) {
      const encrypt = encryptOf(text);
      if (encrypt === undefined || encrypt === '') throw new HttpError(400, 'missing Encrypt');
      if (!signatureMatches(q.msg_signature, crypto.signature(timestamp, nonce, encrypt))) throw new HttpError(401, 'bad msg_signature');
      let opened;
      try {
        opened = crypto.decrypt(encrypt);
      } catch (error) {
        if (error instanceof CryptoError) throw new HttpError(400, `cannot decrypt: ${error.message}`);
        throw error;
      }
      keyIndex = opened.keyIndex;
      xml = await parse(opened.xml);
    } else {
      const parsed = parse(text);
      xml = parsed instanceof Promise ? await parsed : parsed; // most bodies need no wait
      if (encrypted && typeof xml.MsgType !== 'string') {
        log.error('a safe-mode push arrived but WECHAT_AES_KEY is not set: set it to the EncodingAESKey of the account console');
        throw new HttpError(400, 'safe-mode push, but WECHAT_AES_KEY is not set');
      }
      // Compatible mode switched on in the console before WECHAT_AES_KEY was set: the body still
      // carries the plain fields, so answer in plaintext rather than refuse every push.
      if (encrypted) log.warn('compatible-mode push answered in plaintext: set WECHAT_AES_KEY to answer it encrypted');
    }
    let event: WechatEvent;
    try {
      event = toEvent(xml);
    } catch (error) {
      if (error instanceof EventError) throw new HttpError(400, error.message);
      throw error;
    }
    const admission = admit(timestamp, nonce, text);
    const run = runWithDeadline(event, admission);
    // Refused: answered at once; the chain, stopped at the admission, is in flight until it has
    // released its claim.
    if (admission && !(await admission)) throw new HttpError(401, REPLAYED);
    const { reply, outcome } = await run;
    respond(koa, event, reply, keyIndex);
    metrics.push(event.type, outcome ?? (reply ? 'replied' : 'success'), (performance.now() - started) / 1000);
  }

  // Without a wait when the guard answers at once (a memory store): most pushes make no promise here.
  function admit(timestamp: string, nonce: string, text: string): Promise<boolean> | undefined {
    const admitted = replay?.admit(timestamp, nonce, text) ?? true;
    if (admitted === true) return undefined;
    if (admitted === false) throw new HttpError(401, REPLAYED);
    // A guard that fails lets the push through, as the built-in one does when its store fails.
    return admitted.catch((error: unknown) => {
      log.warn({ err: error }, 'replay guard failed: the push is admitted unchecked');
      return true;
    });
  }

  function readText(koa: KoaContext): Promise<string> {
    return getRawBody(koa.req, { limit: bodyLimit, length: koa.get('content-length') || undefined }).then(utf8, unreadable);
  }

  // The flat shape of nearly every push is read at once, without a promise; any other body goes
  // through xml2js, and one that is not the XML WeChat sends is answered 400.
  function parse(text: string): XmlObject | Promise<XmlObject> {
    return (
      parseFlat(text) ??
      parseFull(text).catch((error: unknown) => {
        throw error instanceof XmlError ? new HttpError(400, error.message) : error;
      })
    );
  }

  // The answer leaves by the deadline with whatever reply is set by then; the chain goes on,
  // and a reply it sets afterwards is handed to onLateReply. One timer and one promise per push.
  // The outcome is set only when it is not plain: a replay, or the deadline.
  function runWithDeadline(
    event: WechatEvent,
    admission: Promise<boolean> | undefined,
  ): Promise<{ reply: NormalReply | undefined; outcome?: PushOutcome }> {
    const ctx = bot.context(event);
    const done = bot.run(ctx, admission); // never rejects
    inFlight.add(done);
    return new Promise((resolve) => {
      let sent: { reply: NormalReply | undefined } | undefined; // set when the deadline answered
      const timer = setTimeout(() => {
        sent = { reply: ctx.response };
        ctx.log.warn({ deadlineMs, replied: Boolean(sent.reply) }, 'chain still running at the deadline: answered now');
        resolve({ reply: sent.reply, outcome: 'deadline' });
      }, deadlineMs);
      void done.then(() => {
        inFlight.delete(done);
        if (!sent) {
          clearTimeout(timer);
          return resolve(ctx.duplicate ? { reply: ctx.response, outcome: 'replayed' } : { reply: ctx.response });
        }
        const reply = ctx.response;
        if (!reply || reply === sent.reply || ctx.duplicate) return;
        const late = deliverLate(ctx, reply);
        inFlight.add(late);
        void late.then(
          () => inFlight.delete(late),
          () => inFlight.delete(late),
        );
      });
    });
  }

  async function deliverLate(ctx: C, reply: NormalReply): Promise<void> {
    if (!options.onLateReply) {
      metrics.lateReply('dropped');
      return ctx.log.warn('late reply dropped: no late-reply hook');
    }
    // The hook counts what it does with the reply; only its failure is counted here.
    try {
      await options.onLateReply(ctx, reply);
    } catch (error) {
      metrics.lateReply('failed');
      ctx.log.error({ err: error }, 'late reply could not be delivered');
    }
  }

  function respond(koa: KoaContext, event: WechatEvent, reply: NormalReply | undefined, keyIndex: number | undefined): void {
    if (reply) {
      try {
        const xml = renderReply(reply, { user: event.from, account: event.to, createTime: Math.floor(Date.now() / 1000) });
        // On Node's response directly (as Koa allows for headers): Koa's type setter looks the type
        // up and its set() makes four arrays, on every reply (BENCHMARKS.md).
        koa.res.setHeader('Content-Type', 'text/xml; charset=utf-8');
        // As bytes: Node would otherwise join the headers to a Chinese reply and encode the whole
        // as UTF-16 to UTF-8, a slower path than encoding the reply alone.
        koa.body = Buffer.from(keyIndex === undefined ? xml : seal(xml, keyIndex));
        return;
      } catch (error) {
        // A reply that cannot be rendered must not cost the user an error screen.
        log.error({ err: error, reply: reply.type }, 'reply could not be rendered: answered success');
      }
    }
    koa.type = 'text/plain';
    koa.body = 'success';
  }

  function seal(xml: string, keyIndex: number): string {
    const encrypt = crypto!.encrypt(xml, keyIndex);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = String(secureRandom(4).readUInt32BE(0));
    const signature = crypto!.signature(timestamp, nonce, encrypt);
    return (
      `<xml><Encrypt>${cdata(encrypt)}</Encrypt><MsgSignature>${cdata(signature)}</MsgSignature>` +
      `<TimeStamp>${timestamp}</TimeStamp><Nonce>${cdata(nonce)}</Nonce></xml>`
    );
  }

  async function drain(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([Promise.allSettled([...inFlight]), limit]);
    clearTimeout(timer);
  }

  return { routes: () => middleware, drain };
}

function unreadable(error: unknown): never {
  const type = (error as { type?: string }).type;
  throw type === 'entity.too.large' ? new HttpError(413, 'body too large') : new HttpError(400, 'body could not be read');
}

// A body as text; one that is not UTF-8 is refused.
function utf8(raw: Buffer): string {
  try {
    return UTF8.decode(raw);
  } catch {
    throw new HttpError(400, 'body is not UTF-8');
  }
}

/** The named query parameters. A key given twice counts as missing: the signature check then refuses the push. */
export function params<K extends string>(querystring: string, ...names: K[]): Record<K, string | undefined> {
  const query = new URLSearchParams(querystring);
  const out = {} as Record<K, string | undefined>;
  for (const name of names) {
    const values = query.getAll(name);
    out[name] = values.length === 1 ? values[0] : undefined;
  }
  return out;
}
