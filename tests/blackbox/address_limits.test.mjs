// Per-client-address caps (issue 15): --max-connections-per-address,
// --max-sessions-per-address and --trusted-proxies for X-Forwarded-For. Clients
// come from several loopback addresses (127.0.0.x) by binding their local address.

import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { assertError, bounded, describe, runHerald, test, uniq, useHerald } from './lib/herald.mjs';

// One POST /v1/rpc from `localAddress`, with extra headers; resolves to {status, headers, body}.
function rpcFrom(node, localAddress, frame, headers = {}) {
  const body = JSON.stringify(frame);
  return bounded(new Promise((resolve, reject) => {
    const req = http.request({
      host: node.host, port: node.port, method: 'POST', path: '/v1/rpc', localAddress, agent: false,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers },
    }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  }), 10_000, `POST /v1/rpc from ${localAddress}`);
}

const enterFrom = (node, localAddress, headers) =>
  rpcFrom(node, localAddress, { id: 1, method: 'enter', params: { user: uniq('a') } }, headers);

// An idle TCP connection from `localAddress`, open.
function idleSocket(node, localAddress) {
  return bounded(new Promise((resolve, reject) => {
    const s = net.connect({ host: node.host, port: node.port, localAddress }, () => resolve(s));
    s.on('error', reject);
  }), 10_000, 'an idle connection');
}

describe('--max-connections-per-address 3', () => {
  const herald = useHerald(['--max-connections-per-address', '3']);

  test('a fourth connection from one address is answered 429 rate_limited; others are not; a close frees a place', async () => {
    const idle = [];
    try {
      for (let i = 0; i < 3; i++) idle.push(await idleSocket(herald, '127.0.0.1'));
      const refused = await rpcFrom(herald, '127.0.0.1', { id: 1, method: 'ping', params: {} });
      assertError(refused, 429, 'rate_limited', 'the fourth connection');
      assert.equal(refused.headers['retry-after'], '1');
      assert.match(refused.body.error.message, /max-connections-per-address/);
      assert.equal((await rpcFrom(herald, '127.0.0.2', { id: 1, method: 'ping', params: {} })).status, 200);
      idle.shift().destroy();
      // The server sees the close asynchronously: retry until the place is free, bounded.
      const deadline = Date.now() + 10_000;
      let status;
      do status = (await rpcFrom(herald, '127.0.0.1', { id: 1, method: 'ping', params: {} })).status;
      while (status !== 200 && Date.now() < deadline);
      assert.equal(status, 200);
    } finally {
      for (const s of idle) s.destroy();
    }
  });
});

describe('--max-sessions-per-address 2', () => {
  const herald = useHerald(['--max-sessions-per-address', '2']);

  test('a third enter from one address is rate_limited; another address enters', async () => {
    for (let i = 0; i < 2; i++) assert.equal((await enterFrom(herald, '127.0.0.4')).status, 200);
    const third = await enterFrom(herald, '127.0.0.4');
    assertError(third, 429, 'rate_limited', 'third enter');
    assert.match(third.body.error.message, /max-sessions-per-address/);
    assert.equal((await enterFrom(herald, '127.0.0.5')).status, 200);
  });

  test('an exit frees the place', async () => {
    const session = (await enterFrom(herald, '127.0.0.6')).body.result.session;
    await enterFrom(herald, '127.0.0.6');
    assert.equal((await enterFrom(herald, '127.0.0.6')).status, 429);
    assert.equal((await rpcFrom(herald, '127.0.0.6', { id: 1, method: 'exit', params: { session } })).status, 200);
    assert.equal((await enterFrom(herald, '127.0.0.6')).status, 200);
  });

  test('X-Forwarded-For from an untrusted peer is ignored', async () => {
    await enterFrom(herald, '127.0.0.7', { 'X-Forwarded-For': '10.1.1.1' });
    await enterFrom(herald, '127.0.0.7', { 'X-Forwarded-For': '10.1.1.2' });
    assert.equal((await enterFrom(herald, '127.0.0.7', { 'X-Forwarded-For': '10.1.1.3' })).status, 429);
  });
});

describe('--trusted-proxies 127.0.0.8,10.9.0.0/16 with --max-sessions-per-address 1', () => {
  const herald = useHerald(['--trusted-proxies', '127.0.0.8,10.9.0.0/16', '--max-sessions-per-address', '1']);

  test('behind a trusted proxy each forwarded client has its own count', async () => {
    const via = (xff) => enterFrom(herald, '127.0.0.8', { 'X-Forwarded-For': xff });
    assert.equal((await via('192.0.2.1')).status, 200);
    assert.equal((await via('192.0.2.1')).status, 429);
    assert.equal((await via('192.0.2.2')).status, 200);
    // The right-most untrusted hop is the client: a forged left part does not help.
    assert.equal((await via('203.0.113.9, 192.0.2.1')).status, 429);
    // Trusted hops (a second proxy in 10.9/16) are skipped.
    assert.equal((await via('192.0.2.3, 10.9.1.1')).status, 200);
    assert.equal((await via('192.0.2.3')).status, 429);
  });
});

describe('a bad --trusted-proxies stops the node at start', () => {
  test('exit 2 naming the setting', async () => {
    for (const value of ['not-an-address', '10.0.0.0/33', '::1/129']) {
      const r = await runHerald(['--listen', '127.0.0.1:0', '--trusted-proxies', value]);
      assert.equal(r.code, 2, `${value}: ${r.stderr}`);
      assert.match(r.stderr, /trusted-proxies/);
    }
  });
});
