// HTTP/1.1 strictness (issue 15): framing that two parsers could read differently is
// refused and the connection closed (RFC 9112 6.1, 6.3), Host is required once,
// absolute-form targets are routed, Expect: 100-continue is honoured, the first request
// must come within --request-timeout, probes are answered at --max-connections, JSON
// endpoints take only JSON bodies, and every answer says nosniff. Decisions in
// docs/security.md ("HTTP strictness").

import assert from 'node:assert/strict';
import net from 'node:net';
import {
  ANSWER_BOUND_MS, assertError, before, bounded, connectRaw, holdAnsweredConnections, describe, parseResponses, rawExchange, request, test,
  useHerald, withHerald,
} from './lib/herald.mjs';

const CLOSE_BOUND_MS = 15_000;

/** Sends `bytes` on a new connection; resolves to the responses once the server closed it. */
async function answeredAndClosed(server, bytes) {
  const conn = await connectRaw(server);
  try {
    conn.send(bytes);
    await bounded(conn.closed, CLOSE_BOUND_MS, 'the server to close the connection');
    return conn.responses;
  } finally {
    conn.socket.destroy();
  }
}

describe('HTTP framing', () => {
  const herald = useHerald();
  let host;
  before(() => {
    host = `${herald.host}:${herald.port}`;
  });
  // The request behind the body is what a smuggler would hide; it must never be answered.
  const smuggled = () => `GET /healthz HTTP/1.1\r\nHost: ${host}\r\n\r\n`;
  const post = (headers, body) => `POST /v1/rpc HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\n${headers}\r\n${body}`;
  const ping = '{"method":"ping"}';
  const chunk = `${ping.length.toString(16)}\r\n${ping}\r\n0\r\n\r\n`;

  test('a Transfer-Encoding other than exactly chunked is 400 and closes the connection', async () => {
    const cases = [
      ['xchunked', `Transfer-Encoding: xchunked\r\n`, chunk],
      ['chunked, identity', `Transfer-Encoding: chunked, identity\r\n`, chunk],
      ['identity', `Transfer-Encoding: identity\r\n`, ping],
      ['identity with Content-Length', `Transfer-Encoding: identity\r\nContent-Length: ${ping.length}\r\n`, ping],
      ['gzip, chunked', `Transfer-Encoding: gzip, chunked\r\n`, chunk],
      ['chunked with Content-Length', `Transfer-Encoding: chunked\r\nContent-Length: ${chunk.length}\r\n`, chunk],
      ['Content-Length then chunked', `Content-Length: ${chunk.length}\r\nTransfer-Encoding: chunked\r\n`, chunk],
    ];
    for (const [what, headers, body] of cases) {
      const responses = await answeredAndClosed(herald, post(headers, body) + smuggled());
      assert.equal(responses.length, 1, `${what}: ${responses.length} answers (the smuggled request was read)`);
      assertError(responses[0], 400, 'bad_request', what);
      assert.equal(responses[0].headers.connection?.toLowerCase(), 'close', what);
    }
  });

  test('plain chunked is accepted', async () => {
    const { responses } = await rawExchange(herald, post('Transfer-Encoding: chunked\r\n', chunk), { responses: 1 });
    assert.equal(responses[0]?.status, 200, JSON.stringify(responses));
  });

  test('Transfer-Encoding in an HTTP/1.0 request is 400 and closes', async () => {
    const responses = await answeredAndClosed(
      herald,
      `POST /v1/rpc HTTP/1.0\r\nHost: ${host}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${chunk}`,
    );
    assert.equal(responses.length, 1);
    assertError(responses[0], 400, 'bad_request', 'HTTP/1.0 with Transfer-Encoding');
  });

  test('HTTP/1.1 needs exactly one Host; HTTP/1.0 may omit it but not send two', async () => {
    const none = await answeredAndClosed(herald, 'GET /healthz HTTP/1.1\r\n\r\n');
    assertError(none[0], 400, 'bad_request', 'no Host');
    assert.match(none[0].body.error.message, /Host/);
    const two = await answeredAndClosed(herald, `GET /healthz HTTP/1.1\r\nHost: ${host}\r\nHost: evil.test\r\n\r\n`);
    assertError(two[0], 400, 'bad_request', 'two Hosts');
    const twoOld = await answeredAndClosed(herald, `GET /healthz HTTP/1.0\r\nHost: ${host}\r\nHost: evil.test\r\n\r\n`);
    assertError(twoOld[0], 400, 'bad_request', 'two Hosts in HTTP/1.0');
    const { responses } = await rawExchange(herald, 'GET /healthz HTTP/1.0\r\n\r\n', { responses: 1 });
    assert.equal(responses[0]?.status, 200, 'HTTP/1.0 without Host');
  });

  test('absolute-form targets are routed by their path', async () => {
    const get = (target) => `GET ${target} HTTP/1.1\r\nHost: ${host}\r\n\r\n`;
    const { responses } = await rawExchange(
      herald,
      get(`http://${host}/healthz`) + get(`HTTP://${host}/readyz?x=1`) + get(`http://${host}/nowhere`),
      { responses: 3 },
    );
    assert.deepEqual(responses.map((r) => r.status), [200, 200, 404]);
    assert.deepEqual(responses[0].body, { ok: true });
    assert.deepEqual(responses[1].body, { ready: true });
  });

  test('Expect: 100-continue gets 100 Continue before the body is sent', async () => {
    const socket = net.connect({ host: herald.host, port: herald.port });
    try {
      let buf = Buffer.alloc(0);
      let wake = () => {};
      socket.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        wake();
      });
      socket.on('error', () => {});
      const until = (pred, what) =>
        bounded(new Promise((resolve) => {
          wake = () => pred() && resolve();
          wake();
        }), ANSWER_BOUND_MS, what);
      await bounded(new Promise((resolve) => socket.once('connect', resolve)), ANSWER_BOUND_MS, 'a connection');
      const body = JSON.stringify({ id: 'cont', method: 'ping' });
      socket.write(`POST /v1/rpc HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\n`
        + `Content-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`);
      const interim = 'HTTP/1.1 100 Continue\r\n\r\n';
      await until(() => buf.includes(interim), 'the 100 Continue');
      assert.ok(buf.toString('latin1').startsWith(interim), buf.toString('latin1'));
      buf = buf.subarray(buf.indexOf(interim) + interim.length);
      socket.write(body);
      await until(() => parseResponses(buf).responses.length === 1, 'the final answer');
      const [r] = parseResponses(buf).responses;
      assert.equal(r.status, 200);
      assert.equal(r.body.id, 'cont');
    } finally {
      socket.destroy();
    }
  });

  test('an unknown expectation is 417', async () => {
    const responses = await answeredAndClosed(herald, post(`Expect: 200-ok\r\nContent-Length: ${ping.length}\r\n`, ping));
    assert.equal(responses[0]?.status, 417, JSON.stringify(responses));
    assert.equal(responses[0].body.error.code, 'bad_request');
  });
});

describe('HTTP error bodies', () => {
  const herald = useHerald();

  test('answers carry X-Content-Type-Options: nosniff, and a reflected path stays JSON', async () => {
    const reflected = await request(herald, { path: '/%3Cscript%3Ealert(1)%3C/script%3E<b>' });
    assertError(reflected, 404, 'not_found', 'unknown path');
    assert.match(reflected.headers['content-type'], /^application\/json/);
    assert.equal(reflected.headers['x-content-type-options'], 'nosniff');
    const wrongMethod = await request(herald, { method: 'DELETE', path: '/healthz' });
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers['x-content-type-options'], 'nosniff');
    const health = await request(herald, { path: '/healthz' });
    assert.equal(health.headers['x-content-type-options'], 'nosniff');
    const { responses } = await rawExchange(herald, 'GET /<img> HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n', { responses: 1 });
    assert.equal(responses[0]?.status, 400);
    assert.match(responses[0].headers['content-type'], /^application\/json/);
    assert.equal(responses[0].headers['x-content-type-options'], 'nosniff');
  });
});

describe('HTTP timeouts and capacity', () => {
  test('a connection that sends nothing is closed at --request-timeout, not the keep-alive timeout', () =>
    withHerald(['--request-timeout', '1', '--keepalive-timeout', '300'], async (herald) => {
      const conn = await connectRaw(herald);
      try {
        await bounded(conn.closed, CLOSE_BOUND_MS, 'the silent connection to be closed');
        assert.equal(conn.responses.length, 0);
      } finally {
        conn.socket.destroy();
      }
    }));

  test('at --max-connections /healthz and /readyz are still answered (readyz: not ready); other paths get 503', () =>
    withHerald(['--max-connections', '2'], async (herald) => {
      const held = [];
      const get = (path) => `GET ${path} HTTP/1.1\r\nHost: herald.test\r\n\r\n`;
      try {
        await holdAnsweredConnections(herald, 2, held);
        const health = await answeredAndClosed(herald, get('/healthz'));
        assert.equal(health[0]?.status, 200, JSON.stringify(health));
        assert.deepEqual(health[0].body, { ok: true });
        // Answered, not refused: it says why the node takes no new clients (its own body,
        // not the refusal's), so a balancer sends them elsewhere while this one stays alive.
        const ready = await answeredAndClosed(herald, get('/readyz'));
        assert.equal(ready[0]?.status, 503, JSON.stringify(ready));
        assert.equal(ready[0].body?.ready, false, JSON.stringify(ready));
        assert.match(ready[0].body.error.message, /max-connections/);
        const other = await answeredAndClosed(herald, get('/metrics'));
        assertError(other[0], 503, 'unavailable', 'a non-probe beyond max-connections');
      } finally {
        for (const c of held) c.socket.destroy();
      }
    }));
});
