// JSONP (GET /v1/rpc?q=…&callback=…, GET /v1/listen?callback=…) and CORS.

import assert from 'node:assert/strict';
import {
  assertError, before, call, describe, enter, listen, request, rpc, test, uniq, useHerald,
} from './lib/herald.mjs';

const q = (frame) => encodeURIComponent(JSON.stringify(frame));

/** Asserts a JSONP response and returns the parsed argument of `callback(…);`. */
function jsonpArgument(r, callback) {
  assert.equal(r.status, 200, `JSONP answers are always 200: HTTP ${r.status} ${r.text}`);
  assert.match(r.headers['content-type'] ?? '', /^application\/javascript/);
  assert.equal(r.headers['x-content-type-options'], 'nosniff');
  const prefix = `${callback}(`;
  assert.ok(r.text.startsWith(prefix) && r.text.endsWith(');'), `body is not ${callback}(…);: ${r.text}`);
  return JSON.parse(r.text.slice(prefix.length, -2));
}

describe('JSONP off (default)', () => {
  const herald = useHerald();

  test('GET /v1/rpc without --jsonp is forbidden (403)', async () => {
    const r = await request(herald, { path: `/v1/rpc?q=${q({ method: 'ping' })}&callback=cb` });
    assertError(r, 403, 'forbidden', 'GET /v1/rpc');
    const plain = await request(herald, { path: `/v1/rpc?q=${q({ method: 'ping' })}` });
    assertError(plain, 403, 'forbidden', 'GET /v1/rpc without callback');
  });

  test('GET /v1/listen with callback without --jsonp is forbidden (403)', async () => {
    const s = await enter(herald.url, 'nojsonp');
    const r = await listen(herald.url, s, 0, 0, { callback: 'cb' });
    assertError(r, 403, 'forbidden', 'GET /v1/listen?callback=cb');
  });
});

describe('JSONP with --jsonp', () => {
  const herald = useHerald(['--jsonp']);

  test('GET /v1/rpc?q=&callback= answers cb(<reply frame>); as nosniff JavaScript', async () => {
    const r = await request(herald.url, { path: `/v1/rpc?q=${q({ id: 9, method: 'ping' })}&callback=cb` });
    const reply = jsonpArgument(r, 'cb');
    assert.equal(reply.id, 9);
    assert.equal(typeof reply.result.time, 'number');
  });

  test('a JSONP command runs like POST: enter then speak and history', async () => {
    const g = uniq('g');
    const entered = jsonpArgument(
      await request(herald.url, { path: `/v1/rpc?q=${q({ id: 1, method: 'enter', params: { user: 'jp', groups: [g] } })}&callback=cb` }),
      'cb',
    );
    const s = entered.result.session;
    const spoke = jsonpArgument(
      await request(herald.url, { path: `/v1/rpc?q=${q({ id: 2, method: 'speak', params: { session: s, group: g, data: 'é<>&' } })}&callback=cb` }),
      'cb',
    );
    assert.deepEqual(spoke, { id: 2, result: { groups: { [g]: { seq: 1 } } } });
    const h = await call(herald.url, 'history', { session: s, group: g });
    assert.deepEqual(h.messages.map((m) => m.data), ['é<>&']);
  });

  test('an error travels inside a 200 JSONP answer', async () => {
    const r = await request(herald.url, { path: `/v1/rpc?q=${q({ id: 'x', method: 'nope' })}&callback=cb` });
    const reply = jsonpArgument(r, 'cb');
    assert.equal(reply.id, 'x');
    assert.equal(reply.error.code, 'not_found');
    const unknown = jsonpArgument(
      await request(herald.url, { path: `/v1/rpc?q=${q({ method: 'ping', params: { session: 'nosuchsession' } })}&callback=cb` }),
      'cb',
    );
    assert.equal(unknown.error.code, 'unknown_session');
  });

  test('callbacks with $, _, digits and dots are accepted', async () => {
    for (const cb of ['$', '_cb', 'jQuery3410_1700000000', 'a.b.c$', 'A'.repeat(64)]) {
      jsonpArgument(await request(herald.url, { path: `/v1/rpc?q=${q({ method: 'ping' })}&callback=${encodeURIComponent(cb)}` }), cb);
    }
  });

  test('an invalid callback is a plain-JSON 400', async () => {
    for (const cb of ['1abc', 'a-b', 'A'.repeat(65), 'alert(1)', 'a b', '.a', 'x;y']) {
      const r = await request(herald.url, { path: `/v1/rpc?q=${q({ method: 'ping' })}&callback=${encodeURIComponent(cb)}` });
      assertError(r, 400, 'bad_request', `callback ${JSON.stringify(cb)}`);
      assert.doesNotMatch(r.headers['content-type'] ?? '', /javascript/, `callback ${JSON.stringify(cb)}`);
    }
  });

  test('GET /v1/rpc without callback answers plain JSON', async () => {
    const r = await request(herald.url, { path: `/v1/rpc?q=${q({ id: 3, method: 'ping' })}` });
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers['content-type'] ?? '', /^application\/json/);
    assert.equal(r.body.id, 3);
  });

  test('GET /v1/rpc with a missing or invalid q is a plain-JSON 400', async () => {
    assertError(await request(herald.url, { path: '/v1/rpc?callback=cb' }), 400, 'bad_request', 'no q');
    assertError(await request(herald.url, { path: `/v1/rpc?q=${encodeURIComponent('{oops')}&callback=cb` }), 400, 'bad_request', 'q not JSON');
  });

  test('GET /v1/listen with callback answers cb({events, cursor});', async () => {
    const g = uniq('g');
    const s = await enter(herald.url, 'jplisten', [g]);
    await call(herald.url, 'speak', { session: s, group: g, data: 'for jsonp' });
    // Cursor 0 acknowledges nothing, so poll until the message is there.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const r = await listen(herald.url, s, 0, 1, { callback: 'handle.events' });
      const result = jsonpArgument(r, 'handle.events');
      assert.ok(Array.isArray(result.events), r.text);
      assert.equal(typeof result.cursor, 'number');
      if (result.events.some((e) => e.type === 'message' && e.data === 'for jsonp')) break;
      assert.ok(Date.now() < deadline, `message never arrived: ${r.text}`);
    }
  });

  test('GET /v1/listen with an invalid callback is a plain-JSON 400', async () => {
    const s = await enter(herald.url, 'jpbad');
    assertError(await listen(herald.url, s, 0, 0, { callback: 'alert(1)' }), 400, 'bad_request', 'listen callback alert(1)');
  });
});

describe('CORS with the default (same origin)', () => {
  const herald = useHerald();
  let origin;
  before(() => {
    origin = `http://${herald.host}:${herald.port}`; // node:http sends Host: <host>:<port>
  });

  test('a same-origin request gets Access-Control-Allow-Origin echoed and never Allow-Credentials', async () => {
    const r = await rpc(herald.url, { method: 'ping' }, { headers: { Origin: origin } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['access-control-allow-origin'], origin);
    assert.equal(r.headers['access-control-allow-credentials'], undefined);
  });

  test('a foreign origin is served without Access-Control-Allow-Origin', async () => {
    const r = await rpc(herald.url, { method: 'ping' }, { headers: { Origin: 'http://evil.test' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers['access-control-allow-origin'], undefined);
  });

  test('a request without Origin works', async () => {
    const r = await rpc(herald.url, { method: 'ping' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['access-control-allow-credentials'], undefined);
  });

  test('a preflight from the same origin answers 204 allowing POST', async () => {
    const r = await request(herald, {
      method: 'OPTIONS',
      path: '/v1/rpc',
      headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
    });
    assert.equal(r.status, 204, r.text);
    assert.equal(r.headers['access-control-allow-origin'], origin);
    const methods = (r.headers['access-control-allow-methods'] ?? '').split(',').map((m) => m.trim());
    assert.ok(methods.includes('POST'), `allowed methods: ${methods}`);
    assert.ok(methods.includes('GET'), `allowed methods: ${methods}`);
    const allowed = (r.headers['access-control-allow-headers'] ?? '').toLowerCase();
    for (const h of ['content-type', 'authorization', 'last-event-id']) assert.ok(allowed.includes(h), `allowed headers: ${allowed}`);
    assert.equal(r.headers['access-control-max-age'], '600');
    assert.equal(r.headers['access-control-allow-credentials'], undefined);
  });

  test('a preflight from a foreign origin is forbidden (403)', async () => {
    const r = await request(herald, {
      method: 'OPTIONS',
      path: '/v1/rpc',
      headers: { Origin: 'http://evil.test', 'Access-Control-Request-Method': 'POST' },
    });
    assertError(r, 403, 'forbidden', 'preflight from http://evil.test');
    assert.equal(r.headers['access-control-allow-origin'], undefined);
  });

  test('every JSON endpoint sets Access-Control-Allow-Origin for the same origin', async () => {
    const s = await enter(herald.url, 'corsy');
    const paths = [
      ['GET', `/v1/listen?session=${s}&cursor=0&timeout=0`],
      ['GET', '/healthz'],
      ['POST', '/v1/publish'],
    ];
    for (const [method, path] of paths) {
      const body = method === 'POST' ? JSON.stringify({ group: uniq('g'), data: 1 }) : undefined;
      const r = await request(herald, { method, path, headers: { Origin: origin, 'Content-Type': 'application/json' }, body });
      assert.equal(r.headers['access-control-allow-origin'], origin, `${method} ${path}: HTTP ${r.status}`);
    }
  });

  test('a preflight for /v1/listen and /v1/publish answers too', async () => {
    for (const path of ['/v1/listen', '/v1/publish']) {
      const r = await request(herald, {
        method: 'OPTIONS',
        path,
        headers: { Origin: origin, 'Access-Control-Request-Method': path === '/v1/listen' ? 'GET' : 'POST' },
      });
      assert.equal(r.status, 204, `${path}: HTTP ${r.status} ${r.text}`);
    }
  });
});

describe("CORS with --allow-origin '*'", () => {
  const herald = useHerald(['--allow-origin', '*']);

  test('any origin gets Access-Control-Allow-Origin *', async () => {
    for (const origin of ['http://a.test', 'https://b.example:8443']) {
      const r = await rpc(herald.url, { method: 'ping' }, { headers: { Origin: origin } });
      assert.equal(r.headers['access-control-allow-origin'], '*');
      assert.equal(r.headers['access-control-allow-credentials'], undefined);
    }
  });

  test('a preflight from any origin answers 204', async () => {
    const r = await request(herald, {
      method: 'OPTIONS',
      path: '/v1/rpc',
      headers: { Origin: 'http://anything.test', 'Access-Control-Request-Method': 'POST' },
    });
    assert.equal(r.status, 204, r.text);
    assert.equal(r.headers['access-control-allow-origin'], '*');
  });
});

describe('CORS with --allow-origin http://a.test', () => {
  const herald = useHerald(['--allow-origin', 'http://a.test']);

  test('the listed origin is echoed with Vary: Origin', async () => {
    const r = await rpc(herald.url, { method: 'ping' }, { headers: { Origin: 'http://a.test' } });
    assert.equal(r.headers['access-control-allow-origin'], 'http://a.test');
    assert.match(r.headers.vary ?? '', /origin/i);
    assert.equal(r.headers['access-control-allow-credentials'], undefined);
  });

  test('other origins get no Access-Control-Allow-Origin', async () => {
    for (const origin of ['http://b.test', 'http://a.test.evil', 'https://a.test']) {
      const r = await rpc(herald.url, { method: 'ping' }, { headers: { Origin: origin } });
      assert.equal(r.status, 200);
      assert.equal(r.headers['access-control-allow-origin'], undefined, origin);
    }
  });

  test('preflights: 204 for the listed origin, 403 for others', async () => {
    const ok = await request(herald, {
      method: 'OPTIONS',
      path: '/v1/rpc',
      headers: { Origin: 'http://a.test', 'Access-Control-Request-Method': 'POST' },
    });
    assert.equal(ok.status, 204, ok.text);
    assert.equal(ok.headers['access-control-allow-origin'], 'http://a.test');
    const refused = await request(herald, {
      method: 'OPTIONS',
      path: '/v1/rpc',
      headers: { Origin: 'http://b.test', 'Access-Control-Request-Method': 'POST' },
    });
    assertError(refused, 403, 'forbidden', 'preflight from http://b.test');
  });
});
