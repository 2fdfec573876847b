import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';
import pretty from 'pino-pretty';

/** The structured logger every part of the bot writes to (pino's interface). */
export type Logger = PinoLogger;

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  level?: string;
  /** Where lines go; stdout by default. Tests pass a stream to read them. */
  destination?: DestinationStream;
  /**
   * `json` (one object a line, for log collectors) or `pretty` (for a person at a terminal). By
   * default LOG_FORMAT, else `pretty` when stdout is a terminal and `json` otherwise.
   */
  format?: LogFormat;
}

/** How log lines are written. */
export type LogFormat = 'json' | 'pretty';

// Belt and braces: nothing should put these in a log line, and if something does they are censored.
const REDACT = [
  'secret',
  'token',
  'aesKey',
  'encodingAESKey',
  'access_token',
  'password',
  '*.secret',
  '*.token',
  '*.aesKey',
  '*.encodingAESKey',
  '*.access_token',
  '*.password',
];

// Fields where HTTP libraries keep a body on their errors (co-body's parse error: `body`). A body
// can hold anything a client sent, a token included: an error is logged without them.
const BODIES = new Set(['body', 'rawBody', 'requestBody', 'responseBody']);

// pino's own error serializer, and then without those fields, in the error and the errors inside it
// (aggregateErrors, a field holding one). Only the serializer's fresh copies are changed.
function withoutBodies(error: unknown, seen = new WeakSet<object>()): unknown {
  const serialized = pino.stdSerializers.err(error as Error) as unknown;
  if (serialized === error || !serialized || typeof serialized !== 'object') return serialized; // not an error
  seen.add(error as object);
  const fields = serialized as Record<string, unknown>;
  const original = error as Record<string, unknown>;
  const inner = (value: unknown) => (value && typeof value === 'object' && !seen.has(value) ? withoutBodies(value, seen) : undefined);
  for (const key of Object.keys(fields)) {
    if (BODIES.has(key)) delete fields[key];
    else if (key === 'aggregateErrors' && Array.isArray(original.errors)) fields[key] = original.errors.map((e) => inner(e));
    // A field the serializer turned into a copy held an error: serialize that one the same way.
    else if (typeof original[key] === 'object' && fields[key] !== original[key]) fields[key] = inner(original[key]);
  }
  return fields;
}

/**
 * Creates the logger: JSON lines, or readable lines at a terminal. Secrets are redacted by key
 * name, and an error's fields that may hold a request or response body are left out.
 * @example
 * const log = createLogger({ level: 'info' })
 * log.info({ event: 'subscribe' }, 'handled')
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const format = options.format ?? logFormat(process.env.LOG_FORMAT, Boolean(process.stdout.isTTY));
  // The pretty stream formats in this process, synchronously: no worker thread to flush at exit.
  const destination =
    format === 'pretty'
      ? pretty({
          destination: options.destination ?? 1,
          colorize: !options.destination && Boolean(process.stdout.isTTY),
          ignore: 'pid,hostname',
          translateTime: 'SYS:HH:MM:ss.l',
          sync: true,
        })
      : options.destination;
  return pino(
    {
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      redact: { paths: REDACT, censor: '[redacted]' },
      serializers: { err: withoutBodies },
    },
    destination,
  );
}

/**
 * LOG_FORMAT as a format: `json`, `pretty`, or unset for pretty at a terminal and JSON otherwise.
 * @example
 * logFormat(undefined, process.stdout.isTTY) // 'pretty' in a terminal, 'json' when piped
 */
export function logFormat(setting: string | undefined, terminal: boolean): LogFormat {
  if (setting === 'json' || setting === 'pretty') return setting;
  if (setting) throw new Error(`LOG_FORMAT must be json or pretty, got ${setting}`);
  return terminal ? 'pretty' : 'json';
}

/**
 * Shortens an OpenID for logs, so lines can be correlated without holding the id itself.
 * @example
 * maskId('oyORnuP8q7ou2gfYjqLzSIWZf0rs') // 'oyOR…f0rs'
 */
export function maskId(id: string): string {
  return id.length <= 8 ? '…' : `${id.slice(0, 4)}…${id.slice(-4)}`;
}
