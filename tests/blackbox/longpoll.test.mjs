// GET /v1/listen: long-polling, cursors, acknowledgement, supersession, eids.

import assert from 'node:assert/strict';
import {
  assertError, assertKeys, call, describe, enter, Inbox, is, listen, request, test, uniq, unknownSessionLike,
  useHerald,
} from './lib/herald.mjs';

describe('long-poll listen', () => {
  const herald = useHerald();

  test('listen returns at once with the events already queued, long before its timeout', async () => {
    const g = uniq('g');
    const s = await enter(herald.url, 'early', [g]);
    await call(herald.url, 'speak', { session: s, group: g, data: 'queued before listen' });
    // timeout 60 s, bounded at 10 s: only an immediate answer passes.
    const r = await listen(herald.url, s, 0, 60, { boundMs: 10_000 });
    assert.equal(r.status, 200, r.text);
    assertKeys(r.body, ['events', 'cursor'], 'listen result');
    assert.ok(r.body.events.some(is.message(g, 'queued before listen')), r.text);
  });

  test('a listen sent before a speak returns that message without waiting for its timeout', async () => {
    const g = uniq('g');
    const s = await enter(herald.url, 'waiter', [g]);
    const first = await listen(herald.url, s, 0, 0); // take the own join event out of the way
    const cursor = first.body.cursor;
    const pending = listen(herald.url, s, cursor, 60, { boundMs: 10_000 });
    const speaker = await enter(herald.url, 'speaker');
    await call(herald.url, 'speak', { session: speaker, group: g, data: 'wake up' });
    const r = await pending;
    assert.equal(r.status, 200, r.text);
    assert.ok(r.body.events.some(is.message(g, 'wake up')), r.text);
  });

  test('listen returns at its timeout with no events and the cursor it was given', async () => {
    const g = uniq('g');
    const s = await enter(herald.url, 'idle', [g]);
    const first = await listen(herald.url, s, 0, 0);
    assert.equal(first.status, 200, first.text);
    const cursor = first.body.cursor;
    assert.ok(cursor >= 1, 'the own join event was queued');
    const r = await listen(herald.url, s, cursor, 1);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { events: [], cursor });
  });

  test('listen with timeout 0 polls: it answers at once even with nothing queued', async () => {
    const s = await enter(herald.url, 'poller');
    const r = await listen(herald.url, s, 0, 0, { boundMs: 10_000 });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { events: [], cursor: 0 });
  });

  test('listen without cursor starts from everything still queued', async () => {
    const g = uniq('g');
    const s = await enter(herald.url, 'nocursor', [g]);
    await call(herald.url, 'speak', { session: s, group: g, data: 'm' });
    // Without a cursor nothing is acknowledged, so each listen starts from eid 1.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const r = await request(herald.url, { path: `/v1/listen?session=${s}&timeout=1` });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.events[0]?.eid, 1, r.text);
      if (r.body.events.some(is.message(g, 'm'))) break;
      assert.ok(Date.now() < deadline, `message never arrived: ${r.text}`);
    }
  });

  test('eids of a session start at 1 and increase by exactly 1', async () => {
    const g = uniq('g');
    const s = await enter(herald.url, 'counter', [g]);
    for (let i = 0; i < 5; i++) await call(herald.url, 'speak', { session: s, group: g, data: i });
    const inbox = new Inbox(herald.url, s); // Inbox itself asserts eid = previous + 1
    await inbox.until((e) => e.type === 'message' && e.data === 4);
    assert.deepEqual(inbox.events.map((e) => e.eid), inbox.events.map((_, i) => i + 1));
  });

  test('the cursor acknowledges: listening again with an old cursor re-delivers what it did not acknowledge', async () => {
    const g = uniq('g');
    const s = await enter(herald.url, 'redeliver', [g]);
    await call(herald.url, 'speak', { session: s, group: g, data: 'a' });
    await call(herald.url, 'speak', { session: s, group: g, data: 'b' });
    // Listen with cursor 0 (acknowledging nothing) until both messages are queued.
    let all;
    const deadline = Date.now() + 10_000;
    for (;;) {
      const r = await listen(herald.url, s, 0, 1);
      assert.equal(r.status, 200, r.text);
      all = r.body.events;
      if (all.some(is.message(g, 'b'))) break;
      assert.ok(Date.now() < deadline, `messages never arrived: ${r.text}`);
    }
    assert.ok(all.length >= 3, 'own join, a and b');

    // Same old cursor 0: nothing was acknowledged, so everything comes again.
    const again = await listen(herald.url, s, 0, 0);
    assert.equal(again.status, 200, again.text);
    assert.deepEqual(again.body.events, all);

    // Cursor k acknowledges up to k: only later events come.
    const k = all.at(-2).eid;
    const rest = await listen(herald.url, s, k, 0);
    assert.deepEqual(rest.body.events, [all.at(-1)]);
    assert.equal(rest.body.cursor, all.at(-1).eid);

    const done = await listen(herald.url, s, all.at(-1).eid, 0);
    assert.deepEqual(done.body, { events: [], cursor: all.at(-1).eid });
  });

  test('a cursor above the last assigned eid is bad_request', async () => {
    const s = await enter(herald.url, 'future');
    const r = await listen(herald.url, s, 1000, 0);
    assertError(r, 400, 'bad_request', 'listen cursor=1000');
  });

  test('a newer listen makes the older pending one return at once with superseded true', async () => {
    const s = await enter(herald.url, 'twice');
    const older = listen(herald.url, s, 0, 60, { boundMs: 20_000 });
    let settled = false;
    older.then(() => (settled = true), () => (settled = true));
    // We cannot see when the older listen is registered, so keep sending newer
    // (1 s) listens until the older one has been answered; bounded.
    const deadline = Date.now() + 10_000;
    while (!settled) {
      assert.ok(Date.now() < deadline, 'the older listen was never superseded');
      const newer = await listen(herald.url, s, 0, 1);
      assert.equal(newer.status, 200, newer.text);
    }
    const r = await older;
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { events: [], cursor: 0, superseded: true });
  });

  test('listen answers unknown_session when the session exits while it waits', async () => {
    const s = await enter(herald.url, 'leaving');
    const pending = listen(herald.url, s, 0, 60, { boundMs: 10_000 });
    await call(herald.url, 'exit', { session: s });
    const r = await pending;
    // Whether the listen was pending at exit or arrived after it, the session is gone.
    assertError(r, 404, 'unknown_session', 'pending listen after exit');
  });

  test('listen without session, or with a malformed one, is bad_request in the bare error shape', async () => {
    const missing = await request(herald.url, { path: '/v1/listen?cursor=0&timeout=0' });
    assertError(missing, 400, 'bad_request', 'listen without session');
    assert.equal('id' in missing.body, false, 'GET /v1/listen answers the bare error shape');
    const malformed = await listen(herald.url, 'not a session!', 0, 0);
    assertError(malformed, 400, 'bad_request', 'listen malformed session');
    const tooLong = await listen(herald.url, 'a'.repeat(65), 0, 0);
    assertError(tooLong, 400, 'bad_request', 'listen 65-char session');
  });

  test('listen on a well-formed unknown session is unknown_session (404)', async () => {
    const real = await enter(herald.url, 'template');
    const r = await listen(herald.url, unknownSessionLike(real), 0, 0);
    assertError(r, 404, 'unknown_session', 'listen unknown session');
  });

  test('listen with a negative or non-numeric timeout or cursor is bad_request', async () => {
    const s = await enter(herald.url, 'badargs');
    assertError(await listen(herald.url, s, 0, -1), 400, 'bad_request', 'timeout=-1');
    assertError(await listen(herald.url, s, 0, 'soon'), 400, 'bad_request', 'timeout=soon');
    assertError(await listen(herald.url, s, -1, 0), 400, 'bad_request', 'cursor=-1');
    assertError(await listen(herald.url, s, 'x', 0), 400, 'bad_request', 'cursor=x');
  });

  test('listen with a timeout above the maximum is clamped, not refused', async () => {
    const g = uniq('g');
    const s = await enter(herald.url, 'long', [g]);
    await call(herald.url, 'speak', { session: s, group: g, data: 'x' });
    const r = await listen(herald.url, s, 0, 100_000, { boundMs: 10_000 });
    assert.equal(r.status, 200, r.text);
    assert.ok(r.body.events.length > 0);
  });
});

describe('long-poll listen with --listen-batch 2', () => {
  const herald = useHerald(['--listen-batch', '2']);

  test('one listen reply carries at most listen-batch events and the rest follow on the next listen', async () => {
    const url = herald.url;
    const g = uniq('g');
    const s = await enter(url, 'batched', [g]);
    for (let i = 1; i <= 4; i++) await call(url, 'speak', { session: s, group: g, data: i });
    const inbox = new Inbox(url, s);
    const replies = [];
    while (!inbox.events.some(is.message(g, 4))) {
      assert.ok(replies.length < 10, 'too many listens');
      replies.push(await inbox.poll(0));
    }
    for (const events of replies) assert.ok(events.length <= 2, `a reply carried ${events.length} events`);
    assert.deepEqual(inbox.events.filter((e) => e.type === 'message').map((e) => e.data), [1, 2, 3, 4]);
  });
});
