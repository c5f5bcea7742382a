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

describe('publish with an Idempotency-Key', () => {
  const herald = useHerald(['--idempotency-keys', '3']);

  test('a retry with the same key gets the same seq and publishes nothing more', async () => {
    const g = uniq('g');
    const s = await enter(herald.url, 'member', [g]);
    const key = uniq('k');
    const first = await publish(herald.url, { group: g, data: 'once' }, { 'Idempotency-Key': key });
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(first.body, { groups: { [g]: { seq: 1 } } });
    for (let i = 0; i < 3; i++) {
      const again = await publish(herald.url, { group: g, data: 'once' }, { 'Idempotency-Key': key });
      assert.deepEqual(again.body, first.body, `retry ${i + 1}: ${again.text}`);
    }
    // The quoted form (a structured-field string) names the same key.
    const quoted = await publish(herald.url, { group: g, data: 'once' }, { 'Idempotency-Key': `"${key}"` });
    assert.deepEqual(quoted.body, first.body, quoted.text);
    const other = await publish(herald.url, { group: g, data: 'twice' }, { 'Idempotency-Key': uniq('k') });
    assert.deepEqual(other.body, { groups: { [g]: { seq: 2 } } });
    const h = await call(herald.url, 'history', { session: s, group: g });
    assert.deepEqual(h.messages.map((m) => [m.seq, m.data]), [[1, 'once'], [2, 'twice']]);
    const inbox = new Inbox(herald.url, s);
    await inbox.until(is.message(g, 'twice'));
    assert.equal(inbox.events.filter((e) => e.type === 'message').length, 2, JSON.stringify(inbox.events));
  });

  test('a key is per group: the same key in two groups publishes in both, and a groups publish retries as a whole', async () => {
    const g1 = uniq('g');
    const g2 = uniq('g');
    const key = uniq('k');
    const a = await publish(herald.url, { group: g1, data: 1 }, { 'Idempotency-Key': key });
    const b = await publish(herald.url, { group: g2, data: 1 }, { 'Idempotency-Key': key });
    assert.deepEqual([a.body, b.body], [{ groups: { [g1]: { seq: 1 } } }, { groups: { [g2]: { seq: 1 } } }]);
    const bothKey = uniq('k');
    const both = await publish(herald.url, { groups: [g1, g2], data: 2 }, { 'Idempotency-Key': bothKey });
    assert.deepEqual(both.body, { groups: { [g1]: { seq: 2 }, [g2]: { seq: 2 } } });
    const retried = await publish(herald.url, { groups: [g1, g2], data: 2 }, { 'Idempotency-Key': bothKey });
    assert.deepEqual(retried.body, both.body, retried.text);
  });

  test('beyond --idempotency-keys per group the oldest key is forgotten, and its retry publishes again', async () => {
    const g = uniq('g');
    const keys = [uniq('k'), uniq('k'), uniq('k'), uniq('k')];
    for (const [i, key] of keys.entries()) {
      const r = await publish(herald.url, { group: g, data: i }, { 'Idempotency-Key': key });
      assert.deepEqual(r.body, { groups: { [g]: { seq: i + 1 } } });
    }
    const newest = await publish(herald.url, { group: g, data: 3 }, { 'Idempotency-Key': keys[3] });
    assert.deepEqual(newest.body, { groups: { [g]: { seq: 4 } } }, 'a remembered key');
    const oldest = await publish(herald.url, { group: g, data: 0 }, { 'Idempotency-Key': keys[0] });
    assert.deepEqual(oldest.body, { groups: { [g]: { seq: 5 } } }, 'the first key was forgotten (3 kept)');
  });

  test('a malformed key, or a key on a publish to a user, is bad_request and publishes nothing', async () => {
    const g = uniq('g');
    const s = await enter(herald.url, 'member', [g]);
    for (const bad of ['a b', 'x'.repeat(256), 'tab\there', '""', 'é']) {
      const r = await publish(herald.url, { group: g, data: 'no' }, { 'Idempotency-Key': bad });
      assertError(r, 400, 'bad_request', `key ${JSON.stringify(bad)}`);
      assert.match(r.body.error.message, /Idempotency-Key/);
    }
    const toUser = await publish(herald.url, { user: 'member', data: 'no' }, { 'Idempotency-Key': uniq('k') });
    assertError(toUser, 400, 'bad_request');
    const h = await call(herald.url, 'history', { session: s, group: g });
    assert.deepEqual(h.messages, []);
  });
});
