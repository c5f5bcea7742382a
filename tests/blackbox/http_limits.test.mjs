// HTTP plumbing: health endpoints, keep-alive, pipelining, and robustness against
// malformed traffic on raw sockets.

import assert from 'node:assert/strict';
import http from 'node:http';
import {
  assertAlive, assertError, before, bounded, call, connectRaw, holdAnsweredConnections, describe, enter, Inbox, is, listen, rawExchange,
  request, test, uniq, useHerald, withHerald,
} from './lib/herald.mjs';

describe('HTTP', () => {
  const herald = useHerald(['--max-body', '4096', '--max-data', '1024']);
  let hostHeader;
  before(() => {
    hostHeader = `${herald.host}:${herald.port}`;
  });

  test('/healthz answers 200 {ok:true} and /readyz 200 {ready:true}', async () => {
    const health = await request(herald, { path: '/healthz' });
    assert.equal(health.status, 200, health.text);
    assert.deepEqual(health.body, { ok: true });
    const ready = await request(herald, { path: '/readyz' });
    assert.equal(ready.status, 200, ready.text);
    assert.deepEqual(ready.body, { ready: true });
  });

  test('fetch works against the node (no Origin, default keep-alive client)', async () => {
    const r = await fetch(`${herald.url}/v1/rpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'f', method: 'ping' }),
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
    const body = await r.json();
    assert.equal(body.id, 'f');
  });

  test('keep-alive: two requests are served on one connection', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await request(herald, { path: '/healthz', agent });
      const second = await request(herald, {
        method: 'POST',
        path: '/v1/rpc',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ id: 2, method: 'ping' }),
        agent,
      });
      assert.equal(first.status, 200);
      assert.equal(second.status, 200, second.text);
      assert.equal(second.reusedSocket, true, 'the second request must reuse the first connection');
      assert.equal(second.localPort, first.localPort);
    } finally {
      agent.destroy();
    }
  });

  test('pipelining: requests written at once are answered in order on the same connection', async () => {
    const frame = (id) => JSON.stringify({ id, method: 'ping' });
    const post = (id) =>
      `POST /v1/rpc HTTP/1.1\r\nHost: ${hostHeader}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(frame(id))}\r\n\r\n${frame(id)}`;
    const get = `GET /readyz HTTP/1.1\r\nHost: ${hostHeader}\r\n\r\n`;
    const { responses } = await rawExchange(herald, post('first') + get + post('third'), { responses: 3 });
    assert.equal(responses.length, 3, `got ${responses.length} responses`);
    assert.deepEqual(responses.map((r) => r.status), [200, 200, 200]);
    assert.equal(responses[0].body.id, 'first');
    assert.deepEqual(responses[1].body, { ready: true });
    assert.equal(responses[2].body.id, 'third');
  });

  test('a pipelined request behind a long-poll waits for it and is answered after it', async () => {
    const g = uniq('g');
    const s = await enter(herald.url, 'pipe', [g]);
    const first = await listen(herald.url, s, 0, 0);
    const poll = `GET /v1/listen?session=${s}&cursor=${first.body.cursor}&timeout=1 HTTP/1.1\r\nHost: ${hostHeader}\r\n\r\n`;
    const health = `GET /healthz HTTP/1.1\r\nHost: ${hostHeader}\r\n\r\n`;
    const { responses } = await rawExchange(herald, poll + health, { responses: 2 });
    assert.equal(responses.length, 2);
    assert.deepEqual(responses[0].body, { events: [], cursor: first.body.cursor });
    assert.deepEqual(responses[1].body, { ok: true });
  });

  test('a Content-Length above --max-body is too_large (413) without sending the body', async () => {
    const req = `POST /v1/rpc HTTP/1.1\r\nHost: ${hostHeader}\r\nContent-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n`;
    const { responses } = await rawExchange(herald, req, { responses: 1 });
    assert.equal(responses.length, 1, 'the server must answer, not just close');
    assertError(responses[0], 413, 'too_large', 'Content-Length 10^10');
    await assertAlive(herald);
  });

  test('a chunked body above --max-body is too_large (413)', async () => {
    const chunk = 'x'.repeat(3000);
    const body = `{"method":"ping","params":{"a":"${chunk}","b":"${chunk}"}}`;
    const half = Math.floor(body.length / 2);
    const chunked = `${half.toString(16)}\r\n${body.slice(0, half)}\r\n${(body.length - half).toString(16)}\r\n${body.slice(half)}\r\n0\r\n\r\n`;
    const req = `POST /v1/rpc HTTP/1.1\r\nHost: ${hostHeader}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${chunked}`;
    const { responses } = await rawExchange(herald, req, { responses: 1 });
    assert.equal(responses.length, 1, 'the server must answer, not just close');
    assertError(responses[0], 413, 'too_large', 'chunked 6 KB body');
  });

  test('a chunked body within --max-body is served', async () => {
    const body = JSON.stringify({ id: 'chunked', method: 'ping' });
    const req = `POST /v1/rpc HTTP/1.1\r\nHost: ${hostHeader}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
    const { responses } = await rawExchange(herald, req, { responses: 1 });
    assert.equal(responses[0]?.status, 200, JSON.stringify(responses));
    assert.equal(responses[0].body.id, 'chunked');
  });

  test('garbage bytes do not crash the server: a new connection still works', async () => {
    const garbage = Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0d, 0x0a, 0x0d, 0x0a, 0x80, 0x81, 0x82]);
    const r = await rawExchange(herald, garbage, { responses: 1, end: true });
    if (r.responses.length) assert.ok(r.responses[0].status >= 400 && r.responses[0].status < 500, `HTTP ${r.responses[0].status}`);
    await rawExchange(herald, 'HELLO WORLD\r\n\r\n', { responses: 1, end: true });
    await rawExchange(herald, 'GET / HTTP/9.9\r\n\r\n', { responses: 1, end: true });
    await assertAlive(herald);
    await call(herald.url, 'ping', {});
  });

  test('a truncated request does not crash the server', async () => {
    await rawExchange(herald, `POST /v1/rpc HTTP/1.1\r\nHost: ${hostHeader}\r\nContent-Length: 100\r\n\r\n{"meth`, {
      responses: 1,
      end: true,
    });
    await rawExchange(herald, 'GET /healthz HTTP/1.1\r\nHost: x', { responses: 1, end: true });
    await rawExchange(herald, `POST /v1/rpc HTTP/1.1\r\nHost: ${hostHeader}\r\nTransfer-Encoding: chunked\r\n\r\nff\r\nabc`, {
      responses: 1,
      end: true,
    });
    await assertAlive(herald);
  });

  test('a huge header is refused without crashing the server', async () => {
    const huge = `GET /healthz HTTP/1.1\r\nHost: ${hostHeader}\r\nX-Huge: ${'h'.repeat(100_000)}\r\n\r\n`;
    const r = await rawExchange(herald, huge, { responses: 1 });
    if (r.responses.length) assert.ok(r.responses[0].status >= 400, `a 100 KB header was answered HTTP ${r.responses[0].status}`);
    const many = `GET /healthz HTTP/1.1\r\nHost: ${hostHeader}\r\n${Array.from({ length: 2000 }, (_, i) => `X-H${i}: v`).join('\r\n')}\r\n\r\n`;
    const r2 = await rawExchange(herald, many, { responses: 1 });
    if (r2.responses.length) assert.ok(r2.responses[0].status >= 400, `2000 headers answered HTTP ${r2.responses[0].status}`);
    await assertAlive(herald);
  });

  test('malformed traffic on one connection does not disturb a long-poll on another', async () => {
    const g = uniq('g');
    const s = await enter(herald.url, 'bystander', [g]);
    const inbox = new Inbox(herald.url, s);
    await inbox.until(is.join(g, 'bystander'));
    const pending = listen(herald.url, s, inbox.cursor, 30, { boundMs: 15_000 });
    await rawExchange(herald, Buffer.from('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage-tls-hello\r\n\r\n', 'latin1'), {
      responses: 1,
      end: true,
    });
    await call(herald.url, 'speak', { session: s, group: g, data: 'still here' });
    const r = await pending;
    assert.equal(r.status, 200, r.text);
    assert.ok(r.body.events.some(is.message(g, 'still here')), r.text);
  });

  test('an HTTP/1.0 request is answered', async () => {
    const { responses } = await rawExchange(herald, 'GET /healthz HTTP/1.0\r\n\r\n', { responses: 1 });
    assert.equal(responses[0]?.status, 200, JSON.stringify(responses));
  });
});

describe('HTTP connection limits', () => {
  const get = (path) => `GET ${path} HTTP/1.1\r\nHost: herald.test\r\n\r\n`;

  test('a keep-alive connection idle for --keepalive-timeout is closed by the server', () =>
    withHerald(['--keepalive-timeout', '1'], async (herald) => {
      const conn = await connectRaw(herald);
      conn.send(get('/healthz'));
      await conn.waitFor(1);
      assert.equal(conn.responses[0].status, 200);
      await bounded(conn.closed, 10_000, 'the idle connection to be closed');
      conn.socket.destroy();
    }));

  test('a request that does not arrive whole within --request-timeout is cut off', () =>
    withHerald(['--request-timeout', '1'], async (herald) => {
      const conn = await connectRaw(herald);
      conn.send(`POST /v1/rpc HTTP/1.1\r\nHost: herald.test\r\nContent-Length: 50\r\n\r\n{"method"`);
      await bounded(conn.closed, 10_000, 'the slow request\'s connection to be closed');
      for (const r of conn.responses) assert.ok(r.status >= 400, `a partial request was answered HTTP ${r.status}`);
      conn.socket.destroy();
      await assertAlive(herald);
    }));

  test('--max-requests-per-connection: the last allowed response says Connection: close and the connection ends', () =>
    withHerald(['--max-requests-per-connection', '2'], async (herald) => {
      const conn = await connectRaw(herald);
      conn.send(get('/healthz') + get('/readyz') + get('/healthz'));
      await bounded(conn.closed, 10_000, 'the connection to be closed after 2 requests');
      assert.equal(conn.responses.length, 2, `answered ${conn.responses.length} requests`);
      assert.deepEqual(conn.responses.map((r) => r.status), [200, 200]);
      assert.equal(conn.responses[1].headers.connection?.toLowerCase(), 'close');
      conn.socket.destroy();
    }));

  test('beyond --max-connections a new connection is answered 503 unavailable and closed (probes aside: http_strict)', () =>
    withHerald(['--max-connections', '2'], async (herald) => {
      const held = [];
      try {
        await holdAnsweredConnections(herald, 2, held);
        const extra = await connectRaw(herald);
        held.push(extra);
        extra.send(get('/metrics'));
        await bounded(extra.closed, 10_000, 'the extra connection to be closed');
        assert.equal(extra.responses.length, 1, 'the extra connection gets an answer before it is closed');
        assertError(extra.responses[0], 503, 'unavailable', 'connection beyond max-connections');
      } finally {
        for (const c of held) c.socket.destroy();
      }
    }));
});
