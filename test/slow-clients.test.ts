// Slow and hostile clients (slowloris): connections that send nothing, or a byte at a time, are
// closed once their time is up, and meanwhile a real push is answered as usual.
import test from 'ava';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { parseXml } from '../core/protocol/xml.ts';
import { eventFields, openid, signedQuery, startServer, withinOneMinute } from './_helpers.ts';

// Opens a connection from another loopback address (Linux routes all of 127/8 to lo), so the
// slow clients are not the address the real pushes come from.
function open(port: number, from: string): Promise<{ socket: Socket; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress: from });
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.on('error', () => {}); // a reset by the server is what some of these tests expect
    socket.resume(); // what the server sends (a 408) is read, or the socket would never see its end
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

const portOf = (url: string) => Number(new URL(url).port);

test('1,000 slow connections (half send nothing, half a header byte at a time): pushes are answered meanwhile, and each slow one is closed when its time is up', async (t) => {
  const server = await startServer(t, { limits: { headersTimeoutMs: 5000, idleTimeoutMs: 5000, maxConnectionsPerAddress: undefined } });
  const port = portOf(server.url);
  // A hundred at a time: a thousand connects at once would overflow the listen backlog (511), and
  // the kernel, not the server, would hold some of them.
  const slow: Awaited<ReturnType<typeof open>>[] = [];
  for (let i = 0; i < 10; i++) slow.push(...(await Promise.all(Array.from({ length: 100 }, () => open(port, '127.0.0.2')))));
  const request = 'POST /wechat HTTP/1.1\r\nHost: bot\r\nContent-Type: text/xml\r\nX-Padding: ' + 'a'.repeat(200);
  let sent = 0;
  const drip = setInterval(() => {
    for (const [i, { socket }] of slow.entries()) if (i % 2 === 1 && !socket.destroyed) socket.write(request[sent % request.length]!);
    sent++;
  }, 50);
  t.teardown(() => {
    clearInterval(drip);
    for (const { socket } of slow) socket.destroy();
  });

  const opened = Date.now();
  let openMeanwhile = Infinity; // the fewest slow connections open when a push was answered in their time
  for (let i = 0; i < 50; i++) {
    const response = await server.push(eventFields(openid(), 'subscribe'));
    t.is(response.status, 200);
    t.is((await parseXml(await response.text())).MsgType, 'text', 'the welcome');
    if (Date.now() - opened < 4000) openMeanwhile = Math.min(openMeanwhile, slow.filter(({ socket }) => !socket.destroyed).length);
  }
  t.is(openMeanwhile, 1000, 'pushes were answered while all the slow connections were open');

  // Nothing here closes them: the server does, once 5 s pass without headers.
  const closedBy = Date.now() + 20_000;
  await Promise.race([Promise.all(slow.map((s) => s.closed)), new Promise((resolve) => setTimeout(resolve, closedBy - Date.now()))]);
  t.is(slow.filter(({ socket }) => !socket.closed).length, 0, 'every slow connection closed by the server');
});

test('a body sent a byte at a time is cut off with 408 when the request time is up', async (t) => {
  const server = await startServer(t, { limits: { requestTimeoutMs: 1500, headersTimeoutMs: 1000 } });
  const { socket, closed } = await open(portOf(server.url), '127.0.0.2');
  let answer = '';
  socket.on('data', (chunk) => (answer += chunk));
  socket.write(`POST /wechat?${signedQuery()} HTTP/1.1\r\nHost: bot\r\nContent-Length: 1000\r\n\r\n`);
  const drip = setInterval(() => !socket.destroyed && socket.write('a'), 100);
  t.teardown(() => clearInterval(drip));
  await closed;
  t.regex(answer, /^HTTP\/1\.1 408/, 'cut off, not held open');
});

test('connections past the cap for one address are closed at once; other addresses are served', async (t) => {
  const server = await startServer(t, { limits: { maxConnectionsPerAddress: 20 } });
  const port = portOf(server.url);
  const held = await Promise.all(Array.from({ length: 20 }, () => open(port, '127.0.0.3')));
  t.teardown(() => held.forEach(({ socket }) => socket.destroy()));
  const extra = await open(port, '127.0.0.3');
  await extra.closed; // closed by the server, with nothing sent
  t.false(
    held.some(({ socket }) => socket.destroyed),
    'the first twenty stay open',
  );
  t.is((await server.push(eventFields(openid(), 'subscribe'))).status, 200, 'a push from another address is answered');
});

test('a flood of API requests from one address gets 429 past its budget; other addresses and the callback are still served', async (t) => {
  const { API_REQUESTS_PER_MINUTE } = await import('../app/rate-limit.ts');
  await withinOneMinute(20_000); // the budget is per clock minute
  const apiToken = 'api-token-0123456789abcdef';
  const server = await startServer(t, { apiToken });
  const api = `${server.url.replace(/\/wechat$/, '')}/api/login/no-such-scene`;
  const get = (from: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request(api, { localAddress: from, agent: false, headers: { authorization: `Bearer ${apiToken}` } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
  const statuses: number[] = [];
  let left = API_REQUESTS_PER_MINUTE + 10;
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      while (left-- > 0) statuses.push(await get('127.0.0.5'));
    }),
  );
  t.is(statuses.filter((s) => s === 404).length, API_REQUESTS_PER_MINUTE, 'the budget, answered');
  t.is(statuses.filter((s) => s === 429).length, 10, 'past it, 429');
  t.is(await get('127.0.0.6'), 404, 'another address is still answered');
  t.is((await server.push(eventFields(openid(), 'subscribe'))).status, 200, 'and the callback too');
});
