import test from 'ava';
import { Writable } from 'node:stream';
import { createLogger, logFormat } from '../core/kernel/log.ts';
import { memoryLogger } from './_helpers.ts';

test('an error is logged without the request or response body it carries', (t) => {
  const { log, lines } = memoryLogger();
  const error = Object.assign(new SyntaxError('Unexpected end of JSON input'), {
    status: 400,
    body: '{"token":"hunter2-hunter2"',
    rawBody: 'x',
  });
  log.error({ err: new Error('request failed', { cause: error }), path: '/console/login' }, 'request failed');
  log.error({ err: error }, 'parse failed');
  log.error({ err: Object.assign(new Error('outer'), { inner: error }) }, 'an error holding one');
  log.error({ err: new AggregateError([error], 'several') }, 'several errors');
  t.false(JSON.stringify(lines()).includes('hunter2'));
  t.like(lines()[1], { err: { type: 'SyntaxError', message: 'Unexpected end of JSON input', status: 400 } });
  t.like(lines()[2], { err: { message: 'outer', inner: { message: 'Unexpected end of JSON input', status: 400 } } });
  t.like(lines()[3], { err: { message: 'several', aggregateErrors: [{ message: 'Unexpected end of JSON input' }] } });
});

test('LOG_FORMAT: pretty lines for a person, JSON for a collector; a terminal gets pretty lines unless told otherwise', (t) => {
  t.is(logFormat(undefined, true), 'pretty');
  t.is(logFormat(undefined, false), 'json');
  t.is(logFormat('json', true), 'json');
  t.is(logFormat('pretty', false), 'pretty');
  t.throws(() => logFormat('yaml', true), { message: /LOG_FORMAT must be json or pretty/ });
  const chunks: string[] = [];
  const destination = new Writable({ write: (chunk, _encoding, done) => (chunks.push(String(chunk)), done()) });
  const log = createLogger({ format: 'pretty', destination });
  log.info({ token: 'hunter2-hunter2', port: 3000 }, 'bot listening');
  const text = chunks.join('');
  t.regex(text, /INFO.*bot listening/);
  t.regex(text, /port: 3000/);
  t.throws(() => JSON.parse(text));
  t.false(text.includes('hunter2'), 'secrets are redacted in pretty lines too');
});
