// Cross-site safety (issue 15): POST /v1/rpc and /v1/publish take only JSON bodies (a
// cross-site form or a "simple" fetch cannot send application/json without a preflight),
// the API key's Bearer scheme is case-insensitive, and --public-origin replaces the
// Host-based same-origin check (DNS rebinding). Decisions in docs/security.md.

import assert from 'node:assert/strict';
import net from 'node:net';
import {
  ANSWER_BOUND_MS, assertError, bounded, describe, request, test, useHerald, withHerald,
} from './lib/herald.mjs';

const ping = JSON.stringify({ id: 1, method: 'ping' });

describe('JSON bodies only', () => {
  const herald = useHerald(['--api-key', 'k3y']);
  const auth = { Authorization: 'Bearer k3y' };
  const publish = JSON.stringify({ group: 'ct', data: 1 });

  test('POST /v1/rpc and /v1/publish refuse other content types with bad_request naming Content-Type', async () => {
    for (const type of [undefined, 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x',
      'application/jsonx', 'text/json']) {
      const headers = type ? { 'Content-Type': type } : {};
      const rpc = await request(herald, { method: 'POST', path: '/v1/rpc', headers, body: ping });
      assertError(rpc, 400, 'bad_request', `rpc with ${type}`);
      assert.match(rpc.body.error.message, /Content-Type/);
      const pub = await request(herald, { method: 'POST', path: '/v1/publish', headers: { ...headers, ...auth }, body: publish });
      assertError(pub, 400, 'bad_request', `publish with ${type}`);
      assert.match(pub.body.error.message, /Content-Type/);
    }
  });

  test('application/json is accepted with parameters and in any case', async () => {
    for (const type of ['application/json', 'Application/JSON; charset=utf-8', 'application/json;charset=UTF-8']) {
      const rpc = await request(herald, { method: 'POST', path: '/v1/rpc', headers: { 'Content-Type': type }, body: ping });
      assert.equal(rpc.status, 200, `${type}: ${rpc.text}`);
      const pub = await request(herald, { method: 'POST', path: '/v1/publish', headers: { 'Content-Type': type, ...auth }, body: publish });
      assert.equal(pub.status, 200, `${type}: ${pub.text}`);
    }
  });

  test('the Bearer scheme is case-insensitive; the key is not', async () => {
    const send = (value) => request(herald, {
      method: 'POST', path: '/v1/publish', headers: { 'Content-Type': 'application/json', Authorization: value }, body: publish,
    });
    for (const value of ['bearer k3y', 'BEARER k3y', 'BeArEr k3y']) assert.equal((await send(value)).status, 200, value);
    for (const value of ['Bearer K3Y', 'Bearer k3', 'Bearerk3y', 'Basic k3y']) assertError(await send(value), 401, 'unauthorized', value);
  });
});

describe('--public-origin', () => {
  /** The status of an SSE request (then closed) and of a WebSocket upgrade with these headers. */
  async function statuses(server, { origin, host }) {
    const sse = `GET /v1/sse?user=po&groups=po HTTP/1.1\r\nHost: ${host}\r\nOrigin: ${origin}\r\nAccept: text/event-stream\r\n\r\n`;
    const ws = `GET /v1/ws HTTP/1.1\r\nHost: ${host}\r\nOrigin: ${origin}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`
      + 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
    return { sse: await statusOf(server, sse), ws: await statusOf(server, ws) };
  }

  test('the same-origin check compares Origin with the public origins, not with Host', () =>
    withHerald(['--public-origin', 'https://chat.example,http://127.0.0.1:1'], async (herald) => {
      // DNS rebinding: the page's own name resolves to us, so its Host matches its Origin.
      assert.deepEqual(await statuses(herald, { origin: 'http://evil.test', host: 'evil.test' }), { sse: 403, ws: 403 });
      assert.deepEqual(await statuses(herald, { origin: 'https://chat.example', host: 'internal:8080' }), { sse: 200, ws: 101 });
      assert.deepEqual(await statuses(herald, { origin: 'https://chat.example:443', host: 'x' }), { sse: 200, ws: 101 });
    }));

  test('HERALD_PUBLIC_ORIGIN sets it too; unset, Host is compared as before', async () => {
    await withHerald([], { env: { HERALD_PUBLIC_ORIGIN: 'https://chat.example' } }, async (herald) => {
      assert.deepEqual(await statuses(herald, { origin: 'http://evil.test', host: 'evil.test' }), { sse: 403, ws: 403 });
    });
    await withHerald([], async (herald) => {
      assert.deepEqual(await statuses(herald, { origin: 'http://evil.test', host: 'evil.test' }), { sse: 200, ws: 101 });
      assert.deepEqual(await statuses(herald, { origin: 'https://chat.example', host: 'evil.test' }), { sse: 403, ws: 403 });
    });
  });
});

/**
 * Writes `bytes` on a new connection and resolves to the status code of the response head
 * (the head is enough: a stream or an upgrade never ends as a response here).
 */
async function statusOf(server, bytes) {
  const socket = net.connect({ host: server.host, port: server.port });
  const head = new Promise((resolve, reject) => {
    let buf = '';
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (d) => {
      buf += d.toString('latin1');
      if (buf.includes('\r\n\r\n')) resolve(buf);
    });
    socket.on('error', reject);
  });
  try {
    const text = await bounded(head, ANSWER_BOUND_MS, 'a response head');
    return Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
  } finally {
    socket.destroy();
  }
}
