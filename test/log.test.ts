import test from 'ava';
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
