// Errors and batches on POST /v1/rpc, unknown paths and wrong HTTP methods.

import assert from 'node:assert/strict';
import {
  assertError, call, callError, describe, enter, Inbox, is, request, rpc, test, uniq, unknownSessionLike, useHerald,
  withHerald,
} from './lib/herald.mjs';

describe('errors', () => {
  const herald = useHerald(['--max-data', '100', '--max-body', '2000', '--max-batch', '3']);

  test('a body that is not JSON is bad_request with the error shape', async () => {
    for (const body of ['{not json', '', 'method=ping', '{"method":"ping"']) {
      const r = await rpc(herald.url, body);
      assertError(r, 400, 'bad_request', `body ${JSON.stringify(body)}`);
      assert.equal('id' in r.body, false, `no id to echo: ${r.text}`);
    }
  });

  test('a frame that is not an object is bad_request', async () => {
    for (const body of ['42', '"ping"', 'null', 'true']) assertError(await rpc(herald.url, body), 400, 'bad_request', body);
  });

  test('a missing or non-string method is bad_request', async () => {
    assertError(await rpc(herald.url, { id: 1, params: {} }), 400, 'bad_request', 'no method');
    assertError(await rpc(herald.url, { id: 1, method: 7 }), 400, 'bad_request', 'method 7');
    assertError(await rpc(herald.url, { id: 1, method: null }), 400, 'bad_request', 'method null');
  });

  test('params that is not an object is bad_request', async () => {
    assertError(await rpc(herald.url, { id: 1, method: 'ping', params: [] }), 400, 'bad_request', 'params []');
    assertError(await rpc(herald.url, { id: 1, method: 'ping', params: 'x' }), 400, 'bad_request', 'params "x"');
  });

  test('an unknown method is not_found, with the id echoed', async () => {
    const r = await rpc(herald.url, { id: 'abc', method: 'frobnicate', params: {} });
    assertError(r, 404, 'not_found', 'frobnicate');
    assert.equal(r.body.id, 'abc');
  });

  test('the id is echoed as given, of any scalar type, in results and errors', async () => {
    for (const id of [7, 'seven', 1.5, true, 0, '']) {
      const ok = await rpc(herald.url, { id, method: 'ping' });
      assert.equal(ok.status, 200);
      assert.deepEqual(ok.body.id, id, `result id ${JSON.stringify(id)}`);
      const bad = await rpc(herald.url, { id, method: 'nope' });
      assert.deepEqual(bad.body.id, id, `error id ${JSON.stringify(id)}`);
    }
  });

  test('a reply to a command without id carries no id', async () => {
    const r = await rpc(herald.url, { method: 'ping' });
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body), ['result']);
  });

  test('an id that is an object or an array is bad_request', async () => {
    assertError(await rpc(herald.url, { id: { a: 1 }, method: 'ping' }), 400, 'bad_request', 'id object');
    assertError(await rpc(herald.url, { id: [1], method: 'ping' }), 400, 'bad_request', 'id array');
  });

  test('unknown params are ignored', async () => {
    const r = await rpc(herald.url, { id: 1, method: 'ping', params: { whatever: [1, 2], extra: 'x' } });
    assert.equal(r.status, 200, r.text);
  });

  test('a session method without session is bad_request', async () => {
    await callError(herald.url, 'speak', { group: 'g', data: 1 }, 400, 'bad_request');
    await callError(herald.url, 'join', { group: 'g' }, 400, 'bad_request');
    await callError(herald.url, 'exit', {}, 400, 'bad_request');
    await callError(herald.url, 'send', { to: 'x', data: 1 }, 400, 'bad_request');
  });

  test('a malformed session id is bad_request', async () => {
    for (const session of ['has space', 'a'.repeat(65), 'dot.ted', '', 42]) {
      await callError(herald.url, 'join', { session, group: 'g' }, 400, 'bad_request');
    }
  });

  test('a well-formed session id that no session has is unknown_session (404)', async () => {
    const real = await enter(herald.url, 'template');
    await callError(herald.url, 'join', { session: unknownSessionLike(real), group: 'g' }, 404, 'unknown_session');
    await callError(herald.url, 'speak', { session: 'nosuchsession', group: 'g', data: 1 }, 404, 'unknown_session');
  });

  test('data larger than --max-data is too_large (413) and nothing is delivered', async () => {
    const g = uniq('g');
    const s = await enter(herald.url, 'big', [g]);
    await callError(herald.url, 'speak', { session: s, group: g, data: 'x'.repeat(200) }, 413, 'too_large');
    await callError(herald.url, 'send', { session: s, to: 'big', data: { blob: 'y'.repeat(200) } }, 413, 'too_large');
    await call(herald.url, 'speak', { session: s, group: g, data: 'small' });
    const inbox = new Inbox(herald.url, s);
    await inbox.until(is.message(g, 'small'));
    assert.deepEqual(inbox.events.filter((e) => e.type === 'message' || e.type === 'direct').map((e) => e.data), ['small']);
  });

  test('data just under --max-data is accepted', async () => {
    const g = uniq('g');
    const s = await enter(herald.url, 'fits', [g]);
    // Serialized: 90 chars + 2 quotes = 92 bytes <= 100.
    await call(herald.url, 'speak', { session: s, group: g, data: 'x'.repeat(90) });
  });

  test('a body larger than --max-body is too_large (413)', async () => {
    const r = await request(herald.url, {
      method: 'POST',
      path: '/v1/rpc',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ method: 'ping', params: { pad: 'p'.repeat(3000) } }),
    });
    assertError(r, 413, 'too_large', 'POST 3 KB body');
  });

  test('a batch answers an array of replies in command order with ids echoed', async () => {
    const r = await rpc(herald.url, [
      { id: 'a', method: 'ping' },
      { id: 'b', method: 'ping', params: {} },
      { id: 'c', method: 'ping' },
    ]);
    assert.equal(r.status, 200, r.text);
    assert.ok(Array.isArray(r.body), r.text);
    assert.deepEqual(r.body.map((x) => x.id), ['a', 'b', 'c']);
    for (const reply of r.body) assert.equal(typeof reply.result.time, 'number');
  });

  test('a batch with good and bad commands answers 200 and each command on its own', async () => {
    const s = await enter(herald.url, 'mixer');
    const r = await rpc(herald.url, [
      { id: 1, method: 'ping' },
      { id: 2, method: 'nope' },
      { id: 3, method: 'join', params: { session: s } },
    ]);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.length, 3);
    assert.equal(typeof r.body[0].result.time, 'number');
    assert.deepEqual([r.body[1].id, r.body[1].error.code], [2, 'not_found']);
    assert.deepEqual([r.body[2].id, r.body[2].error.code], [3, 'bad_request']);
    assert.equal(typeof r.body[2].error.message, 'string');
  });

  test('a batch runs its commands one after another in order', async () => {
    const g = uniq('g');
    const s = await enter(herald.url, 'sequential', [g]);
    const r = await rpc(herald.url, [
      { id: 1, method: 'speak', params: { session: s, group: g, data: 'first' } },
      { id: 2, method: 'speak', params: { session: s, group: g, data: 'second' } },
      { id: 3, method: 'history', params: { session: s, group: g } },
    ]);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body[2].result.messages.map((m) => m.data), ['first', 'second']);
  });

  test('a batch with a non-object element answers that element with bad_request', async () => {
    const r = await rpc(herald.url, [{ id: 1, method: 'ping' }, 42]);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.length, 2);
    assert.equal(r.body[1].error.code, 'bad_request');
  });

  test('an empty batch is bad_request', async () => {
    assertError(await rpc(herald.url, []), 400, 'bad_request', 'empty batch');
  });

  test('a batch longer than --max-batch is too_large (413)', async () => {
    const r = await rpc(herald.url, [1, 2, 3, 4].map((id) => ({ id, method: 'ping' })));
    assertError(r, 413, 'too_large', 'batch of 4 with --max-batch 3');
  });

  test('an unknown path is not_found (404) with the error shape', async () => {
    for (const path of ['/nope', '/v1/nope', '/v2/rpc', '/v1/rpc/extra']) {
      const r = await request(herald.url, { path });
      assertError(r, 404, 'not_found', `GET ${path}`);
    }
  });

  test('a known path with the wrong HTTP method is 405 with an Allow header', async () => {
    for (const [method, path] of [
      ['PUT', '/v1/rpc'],
      ['DELETE', '/v1/rpc'],
      ['GET', '/v1/publish'],
      ['POST', '/v1/listen'],
      ['POST', '/healthz'],
    ]) {
      const r = await request(herald.url, { method, path, body: method === 'GET' || method === 'DELETE' ? undefined : '{}' });
      assert.equal(r.status, 405, `${method} ${path}: HTTP ${r.status} ${r.text}`);
      assert.equal(r.body?.error?.code, 'bad_request', `${method} ${path}: ${r.text}`);
      assert.ok(r.headers.allow, `${method} ${path}: no Allow header`);
    }
  });

  test('error messages name the offending field', async () => {
    const s = await enter(herald.url, 'named');
    const cases = [
      ['enter', {}, /user/],
      ['enter', { user: 'x', lease: 'long' }, /lease/],
      ['join', { session: s }, /group/],
      ['speak', { session: s, group: 'g' }, /data/],
      ['send', { session: s, data: 1 }, /\bto\b/],
      ['listen', { session: s, cursor: 0, timeout: -1 }, /timeout/],
      ['history', { session: s, group: 'g', limit: 'x' }, /limit/],
      ['join', { session: 'bad session' }, /session/],
    ];
    for (const [method, params, field] of cases) {
      const r = await rpc(herald.url, { id: 1, method, params });
      assert.equal(r.status, 400, `${method} ${JSON.stringify(params)}: ${r.text}`);
      assert.match(r.body.error.message, field, `${method} ${JSON.stringify(params)}: ${r.text}`);
    }
  });

  test('bad parameter types are bad_request: groups, since, to, data missing', async () => {
    const s = await enter(herald.url, 'types');
    await callError(herald.url, 'enter', { user: 'x', groups: 'lobby' }, 400, 'bad_request');
    await callError(herald.url, 'enter', { user: 'x', groups: -1 }, 400, 'bad_request');
    await callError(herald.url, 'enter', { user: 'x', groups: [1, 2] }, 400, 'bad_request');
    await callError(herald.url, 'join', { session: s, group: 'g', since: 5 }, 400, 'bad_request');
    await callError(herald.url, 'join', { session: s, group: 'g', since: { seq: 'x', epoch: 'e' } }, 400, 'bad_request');
    await callError(herald.url, 'send', { session: s, data: 1 }, 400, 'bad_request');
    await callError(herald.url, 'send', { session: s, to: 7, data: 1 }, 400, 'bad_request');
    await callError(herald.url, 'send', { session: s, to: 'types' }, 400, 'bad_request');
    await callError(herald.url, 'speak', { session: s, group: 'g' }, 400, 'bad_request');
  });

  test('errors do not harm the session that made them', async () => {
    const g = uniq('g');
    const s = await enter(herald.url, 'resilient', [g]);
    await rpc(herald.url, '{garbage');
    await callError(herald.url, 'speak', { session: s, group: g, data: 'z'.repeat(500) }, 413, 'too_large');
    await callError(herald.url, 'join', { session: s, group: 'bad name' }, 400, 'bad_request');
    await call(herald.url, 'speak', { session: s, group: g, data: 'still fine' });
    await new Inbox(herald.url, s).until(is.message(g, 'still fine'));
  });
});

describe('node limits', () => {
  test('more than --max-groups-per-session groups is forbidden', () =>
    withHerald(['--max-groups-per-session', '2'], async ({ url }) => {
      await callError(url, 'enter', { user: 'many', groups: ['a', 'b', 'c'] }, 403, 'forbidden');
      const s = await enter(url, 'many', ['a', 'b']);
      await callError(url, 'join', { session: s, group: 'c' }, 403, 'forbidden');
      assert.deepEqual(await call(url, 'leave', { session: s, group: 'b' }), { ok: true });
      assert.equal((await call(url, 'join', { session: s, group: 'c' })).group, 'c');
    }));

  test('beyond --max-sessions enter is unavailable (503) until a session ends', () =>
    withHerald(['--max-sessions', '2'], async ({ url }) => {
      const first = await enter(url, 'one');
      await enter(url, 'two');
      await callError(url, 'enter', { user: 'three' }, 503, 'unavailable');
      await call(url, 'exit', { session: first });
      await enter(url, 'three');
    }));
});
