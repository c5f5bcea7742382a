// POST /v1/publish: server-side publishing without a session, and its API key.

import assert from 'node:assert/strict';
import {
  assertError, assertKeys, assertTime, call, describe, enter, Inbox, is, request, test, uniq, useHerald,
} from './lib/herald.mjs';

function publish(url, body, headers = {}) {
  return request(url, {
    method: 'POST',
    path: '/v1/publish',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('publish without an API key', () => {
  const herald = useHerald(['--max-data', '100']);

  test('publish to a group answers the bare {groups:{g:{seq}}} and members get a message from "server"', async () => {
    const g = uniq('g');
    const s = await enter(herald.url, 'member', [g]);
    const r = await publish(herald.url, { group: g, data: { news: 1 } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { groups: { [g]: { seq: 1 } } });
    const m = await new Inbox(herald.url, s).until(is.message(g, { news: 1 }));
    assertKeys(m, ['type', 'eid', 'group', 'seq', 'epoch', 'from', 'data', 'time'], 'published message');
    assert.equal(m.from, 'server');
    assert.equal(m.seq, 1);
    assertTime(m.time);
  });

  test('publish with from carries that sender', async () => {
    const g = uniq('g');
    const s = await enter(herald.url, 'member', [g]);
    const r = await publish(herald.url, { group: g, data: 'hello', from: 'newsbot' });
    assert.equal(r.status, 200, r.text);
    const m = await new Inbox(herald.url, s).until(is.message(g, 'hello'));
    assert.equal(m.from, 'newsbot');
  });

  test('publish to a groups array answers a seq per group', async () => {
    const g1 = uniq('g');
    const g2 = uniq('g');
    const s = await enter(herald.url, 'member', [g1, g2]);
    await call(herald.url, 'speak', { session: s, group: g1, data: 'earlier' });
    const r = await publish(herald.url, { groups: [g1, g2], data: 'both' });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { groups: { [g1]: { seq: 2 }, [g2]: { seq: 1 } } });
  });

  test('publish and speak share one seq order per group', async () => {
    const g = uniq('g');
    const s = await enter(herald.url, 'member', [g]);
    await call(herald.url, 'speak', { session: s, group: g, data: 'a' });
    await publish(herald.url, { group: g, data: 'b' });
    await call(herald.url, 'speak', { session: s, group: g, data: 'c' });
    const h = await call(herald.url, 'history', { session: s, group: g });
    assert.deepEqual(h.messages.map((m) => [m.seq, m.data, m.from]), [[1, 'a', 'member'], [2, 'b', 'server'], [3, 'c', 'member']]);
  });

  test('publish to a user answers {delivered:n} and each session gets a direct event from "server"', async () => {
    const name = uniq('target');
    const s1 = await enter(herald.url, name);
    const s2 = await enter(herald.url, name);
    const r = await publish(herald.url, { user: name, data: { ping: true } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { delivered: 2 });
    for (const s of [s1, s2]) {
      const d = await new Inbox(herald.url, s).until(is.direct('server', { ping: true }));
      assertKeys(d, ['type', 'eid', 'from', 'to', 'data', 'time'], 'published direct');
      assert.equal(d.to, name);
    }
  });

  test('publish to a user with from carries that sender', async () => {
    const name = uniq('target');
    const s = await enter(herald.url, name);
    await publish(herald.url, { user: name, data: 'x', from: 'ops' });
    await new Inbox(herald.url, s).until(is.direct('ops', 'x'));
  });

  test('publish to a user with no session answers delivered 0', async () => {
    const r = await publish(herald.url, { user: uniq('ghost'), data: 1 });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { delivered: 0 });
  });

  test('a bad publish body is bad_request in the bare error shape', async () => {
    for (const body of ['{nope', '[]', '{}', JSON.stringify({ data: 1 }), JSON.stringify({ group: 'bad name', data: 1 })]) {
      const r = await publish(herald.url, body);
      assertError(r, 400, 'bad_request', `publish ${body}`);
      assert.equal('id' in r.body, false);
    }
  });

  test('publish data over --max-data is too_large (413)', async () => {
    const r = await publish(herald.url, { group: uniq('g'), data: 'x'.repeat(200) });
    assertError(r, 413, 'too_large', 'publish 200-char data');
  });
});

describe('publish with --api-key', () => {
  const herald = useHerald(['--api-key', 'K-secret']);

  test('publish without Authorization is unauthorized (401)', async () => {
    assertError(await publish(herald.url, { group: uniq('g'), data: 1 }), 401, 'unauthorized', 'no bearer');
  });

  test('publish with a wrong bearer or scheme is unauthorized (401)', async () => {
    for (const auth of ['Bearer wrong', 'Bearer K-secre', 'Bearer K-secretX', 'Basic K-secret', 'K-secret', 'Bearer ']) {
      assertError(await publish(herald.url, { group: uniq('g'), data: 1 }, { Authorization: auth }), 401, 'unauthorized', auth);
    }
  });

  test('an unauthorized publish delivers nothing', async () => {
    const g = uniq('g');
    const s = await enter(herald.url, 'member', [g]);
    await publish(herald.url, { group: g, data: 'forged' }, { Authorization: 'Bearer wrong' });
    await publish(herald.url, { group: g, data: 'real' }, { Authorization: 'Bearer K-secret' });
    const inbox = new Inbox(herald.url, s);
    await inbox.until(is.message(g, 'real'));
    assert.equal(inbox.events.some(is.message(g, 'forged')), false);
  });

  test('publish with the right bearer succeeds', async () => {
    const g = uniq('g');
    const r = await publish(herald.url, { group: g, data: 1 }, { Authorization: 'Bearer K-secret' });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { groups: { [g]: { seq: 1 } } });
  });

  test('the API key does not guard /v1/rpc', async () => {
    const s = await enter(herald.url, 'client');
    assert.equal(typeof s, 'string');
  });
});
