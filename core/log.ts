import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';

/** The structured logger every part of the bot writes to (pino's interface). */
export type Logger = PinoLogger;

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  level?: string;
  /** Where lines go; stdout by default. Tests pass a stream to read them. */
  destination?: DestinationStream;
}

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

/**
 * Creates the JSON-lines logger. Secrets are redacted by key name.
 * @example
 * const log = createLogger({ level: 'info' })
 * log.info({ event: 'subscribe' }, 'handled')
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    { level: options.level ?? process.env.LOG_LEVEL ?? 'info', redact: { paths: REDACT, censor: '[redacted]' } },
    options.destination,
  );
}

/**
 * Shortens an OpenID for logs, so lines can be correlated without holding the id itself.
 * @example
 * maskId('oyORnuP8q7ou2gfYjqLzSIWZf0rs') // 'oyOR…f0rs'
 */
export function maskId(id: string): string {
  return id.length <= 8 ? '…' : `${id.slice(0, 4)}…${id.slice(-4)}`;
}
