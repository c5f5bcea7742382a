// Unit tests of herald.js's pure logic, in node without a DOM: backoff, the bounded command
// queue, eid/seq resume bookkeeping and transport fallback. They import the library's own ES
// modules (web/herald/), the very sources cmake/bundle_web.cmake joins into /herald.js;
// tests/web/bundle.test.mjs checks that join.
//
//   node --test tests/web/

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Backoff, CommandQueue, EventTracker, TransportLadder, parseTransports } from '../../web/herald/bookkeeping.js';
import { endpoint, webSocketUrl } from '../../web/herald/helpers.js';
import { Herald } from '../../web/herald/index.js';

/** Resolves to {status: 'pending'|'fulfilled'|'rejected'} once the microtasks queued so far ran. */
async function settledState(promise) {
  const pending = { status: 'pending' };
  return Promise.race([
    promise.then((value) => ({ status: 'fulfilled', value }), (reason) => ({ status: 'rejected', reason })),
    new Promise((resolve) => setImmediate(() => resolve(pending))),
  ]);
}

describe('loading', () => {
  test('importing the entry module defines globalThis.Herald without touching a DOM', () => {
    assert.equal(globalThis.Herald, Herald);
    assert.equal(typeof Herald.connect, 'function');
    assert.deepEqual(Herald.transports, ['ws', 'sse', 'longpoll', 'jsonp', 'frame']);
    assert.equal(typeof document, 'undefined');
  });

  test('connect without a url outside a page says that the url is required', () => {
    assert.throws(() => Herald.connect({ user: 'ann' }), /url is required/);
  });

  test('connect without a user is refused', () => {
    assert.throws(() => Herald.connect({ url: 'http://127.0.0.1:1' }), /user/);
  });
});

describe('Backoff', () => {
  test('each delay lies in [ceiling/2, ceiling] and the ceiling doubles', () => {
    for (const r of [0, 0.5, 0.999999]) {
      const b = new Backoff({ baseMs: 100, capMs: 100_000, random: () => r });
      for (let n = 0; n < 8; n++) {
        const ceiling = 100 * 2 ** n;
        const d = b.next();
        assert.ok(d >= ceiling / 2 && d <= ceiling, `attempt ${n} random ${r}: ${d} not in [${ceiling / 2}, ${ceiling}]`);
      }
    }
  });

  test('the lowest and highest random values reach both ends of the jitter', () => {
    assert.equal(new Backoff({ baseMs: 400, random: () => 0 }).next(), 200);
    assert.equal(new Backoff({ baseMs: 400, random: () => 1 }).next(), 400);
  });

  test('the delay never passes the cap', () => {
    const b = new Backoff({ baseMs: 250, capMs: 5000, random: () => 1 });
    const delays = Array.from({ length: 30 }, () => b.next());
    assert.equal(Math.max(...delays), 5000);
    assert.deepEqual(delays.slice(-5), [5000, 5000, 5000, 5000, 5000]);
  });

  test('reset starts again from the base', () => {
    const b = new Backoff({ baseMs: 100, random: () => 1 });
    b.next();
    b.next();
    b.next();
    assert.equal(b.next(), 800);
    b.reset();
    assert.equal(b.attempts, 0);
    assert.equal(b.next(), 100);
  });

  test('with Math.random, 1000 delays stay within their bounds', () => {
    const b = new Backoff({ baseMs: 250, capMs: 15_000 });
    for (let i = 0; i < 1000; i++) {
      if (i % 10 === 0) b.reset();
      const ceiling = b.ceiling();
      const d = b.next();
      assert.ok(d >= ceiling / 2 && d <= ceiling);
    }
  });

  test('nonsense settings are refused', () => {
    assert.throws(() => new Backoff({ baseMs: 0 }), RangeError);
    assert.throws(() => new Backoff({ baseMs: 100, capMs: 50 }), RangeError);
  });
});

describe('CommandQueue', () => {
  test('commands are taken in order with increasing ids and settle by their reply', async () => {
    const q = new CommandQueue({ max: 10 });
    const a = q.push('speak', { group: 'g', data: 1 });
    const b = q.push('presence', { group: 'g' });
    const taken = q.take();
    assert.deepEqual(taken.map((e) => e.method), ['speak', 'presence']);
    assert.ok(taken[1].id > taken[0].id);
    // replies may come in any order: each settles its own command
    assert.ok(q.settle({ id: taken[1].id, result: { users: ['ann'], count: 1 } }));
    assert.ok(q.settle({ id: taken[0].id, error: { code: 'too_large', message: 'data too large' } }));
    assert.deepEqual(await b, { users: ['ann'], count: 1 });
    await assert.rejects(a, (err) => err.code === 'too_large' && err.message === 'data too large' && err.name === 'HeraldError');
    assert.equal(q.size, 0);
  });

  test('a reply nobody waits for is ignored', () => {
    const q = new CommandQueue();
    assert.equal(q.settle({ id: 42, result: {} }), null);
    assert.equal(q.settle(undefined), null);
  });

  test('when max commands wait, the next is rejected at once with queue_full', async () => {
    const q = new CommandQueue({ max: 2 });
    const first = q.push('speak', {});
    q.push('speak', {});
    const third = q.push('speak', {});
    await assert.rejects(third, (err) => err.code === 'queue_full' && /2 commands already wait/.test(err.message));
    assert.equal(q.waiting.length, 2);
    assert.equal((await settledState(first)).status, 'pending');
  });

  test('commands in flight do not count against the waiting bound', async () => {
    const q = new CommandQueue({ max: 1 });
    q.push('ping', {});
    q.take();
    const next = q.push('ping', {});
    assert.equal(q.waiting.length, 1);
    assert.equal((await settledState(next)).status, 'pending');
  });

  test('take(n) takes at most n', () => {
    const q = new CommandQueue();
    for (let i = 0; i < 5; i++) q.push('ping', {});
    assert.equal(q.take(2).length, 2);
    assert.equal(q.waiting.length, 3);
    assert.equal(q.inFlight.size, 2);
  });

  test('a lost connection requeues idempotent commands in order and rejects the others', async () => {
    const q = new CommandQueue();
    const join = q.push('join', { group: 'a' });
    const speak = q.push('speak', { group: 'a', data: 'x' });
    const presence = q.push('presence', { group: 'a' });
    const send = q.push('send', { to: 'bob', data: 'y' });
    q.take();
    const later = q.push('history', { group: 'a' });
    assert.equal(q.connectionLost(), 2);
    await assert.rejects(speak, (err) => err.code === 'connection_lost' && /speak/.test(err.message));
    await assert.rejects(send, (err) => err.code === 'connection_lost');
    assert.deepEqual(q.waiting.map((e) => e.method), ['join', 'presence', 'history']);
    assert.equal(q.inFlight.size, 0);
    // sent again, they settle by the new replies
    const again = q.take();
    for (const e of again) q.settle({ id: e.id, result: { method: e.method } });
    assert.deepEqual(await join, { method: 'join' });
    assert.deepEqual(await presence, { method: 'presence' });
    assert.deepEqual(await later, { method: 'history' });
  });

  test('retry puts one command back at the head (it was not run)', async () => {
    const q = new CommandQueue();
    const speak = q.push('speak', { data: 1 });
    q.push('speak', { data: 2 });
    const [first] = q.take(1);
    q.retry(first);
    assert.deepEqual(q.waiting.map((e) => e.params.data), [1, 2]);
    const [again] = q.take(1);
    assert.notEqual(again.id, 0);
    q.settle({ id: again.id, result: 'ok' });
    assert.equal(await speak, 'ok');
  });

  test('rejectAll rejects waiting and in-flight commands with the given code', async () => {
    const q = new CommandQueue();
    const a = q.push('ping', {});
    q.take();
    const b = q.push('ping', {});
    q.rejectAll('closed', 'the client is closed');
    await assert.rejects(a, { code: 'closed' });
    await assert.rejects(b, { code: 'closed' });
    assert.equal(q.size, 0);
  });
});

describe('EventTracker', () => {
  const msg = (eid, group, seq, epoch = 'e1', data = seq) => ({ type: 'message', eid, group, seq, epoch, from: 'x', data, time: 1 });

  test('events are delivered once each, in eid order; replays are dropped', () => {
    const t = new EventTracker();
    t.startSession('s1');
    const delivered = [];
    const feed = (events) => {
      for (const e of events) if (t.accept(e).deliver) delivered.push(e.eid);
    };
    feed([msg(1, 'g', 1), msg(2, 'g', 2), msg(3, 'g', 3)]);
    // a reconnect replays from an older cursor
    feed([msg(2, 'g', 2), msg(3, 'g', 3), msg(4, 'g', 4)]);
    assert.deepEqual(delivered, [1, 2, 3, 4]);
    assert.equal(t.lastEid, 4);
    assert.deepEqual(t.accept(msg(4, 'g', 4)), { deliver: false, reason: 'duplicate' });
  });

  test('an overflow event may jump ahead; any other jump is delivered but counted as a gap', () => {
    const t = new EventTracker();
    t.startSession('s1');
    assert.deepEqual(t.accept({ type: 'join', eid: 1, group: 'g', user: 'a' }), { deliver: true, reason: 'next' });
    assert.deepEqual(t.accept({ type: 'overflow', eid: 131, dropped: 130 }), { deliver: true, reason: 'overflow' });
    assert.equal(t.gaps, 0);
    assert.deepEqual(t.accept({ type: 'direct', eid: 135, from: 'a', to: 'b', data: 1 }), { deliver: true, reason: 'gap' });
    assert.equal(t.gaps, 1);
    assert.equal(t.lastEid, 135);
  });

  test('heartbeats and control frames have no eid and are not events for the app', () => {
    const t = new EventTracker();
    assert.deepEqual(t.accept({ type: 'heartbeat', time: 1 }), { deliver: false, reason: 'no_eid' });
  });

  test('startSession resumes after a cursor, or from zero for a new session', () => {
    const t = new EventTracker();
    t.startSession('s1', 7);
    assert.equal(t.accept(msg(7, 'g', 7)).deliver, false);
    assert.equal(t.accept(msg(8, 'g', 8)).deliver, true);
    t.startSession('s2');
    assert.equal(t.lastEid, 0);
    assert.equal(t.session, 's2');
  });

  test('group positions follow joins and messages; since() is what to re-join with', () => {
    const t = new EventTracker();
    t.startSession('s1');
    t.joined('g', { seq: 4, epoch: 'e1' });
    assert.deepEqual(t.since('g'), { seq: 4, epoch: 'e1' });
    t.accept(msg(1, 'g', 5));
    t.accept(msg(2, 'g', 6));
    assert.deepEqual(t.since('g'), { seq: 6, epoch: 'e1' });
    assert.deepEqual(t.groups(), ['g']);
    t.left('g');
    assert.equal(t.since('g'), undefined);
    assert.deepEqual(t.groups(), []);
  });

  test('a join reply older than a message already seen does not move the position back', () => {
    const t = new EventTracker();
    t.startSession('s1');
    t.joinedGroups.add('g');
    t.accept(msg(1, 'g', 9)); // the stream was faster than the join's reply
    t.joined('g', { seq: 8, epoch: 'e1' });
    assert.deepEqual(t.since('g'), { seq: 9, epoch: 'e1' });
    t.joined('g', { seq: 2, epoch: 'e2' }); // a new epoch always wins
    assert.deepEqual(t.since('g'), { seq: 2, epoch: 'e2' });
  });

  test('after a re-join on a new session, messages already seen (same epoch, seq) are dropped', () => {
    const t = new EventTracker();
    t.startSession('s1');
    t.joined('g', { seq: 0, epoch: 'e1' });
    for (let i = 1; i <= 3; i++) assert.equal(t.accept(msg(i, 'g', i)).deliver, true);
    t.startSession('s2'); // node lost: new session, eids start again
    // the server re-queues from since.seq; an overlap would be dropped by seq
    assert.deepEqual(t.accept(msg(1, 'g', 3)), { deliver: false, reason: 'duplicate' });
    assert.equal(t.accept(msg(2, 'g', 4)).deliver, true);
    // a new epoch (the group's history was lost) starts over
    assert.equal(t.accept(msg(3, 'g', 1, 'e2')).deliver, true);
    assert.deepEqual(t.since('g'), { seq: 1, epoch: 'e2' });
  });
});

describe('TransportLadder and transport options', () => {
  test('falls to the next transport after maxFailures consecutive failures', () => {
    const l = new TransportLadder(['ws', 'sse', 'longpoll'], { maxFailures: 2 });
    assert.equal(l.current, 'ws');
    assert.equal(l.failed(), false);
    assert.equal(l.current, 'ws');
    assert.equal(l.failed(), true);
    assert.equal(l.current, 'sse');
  });

  test('a stable connection forgives earlier failures', () => {
    const l = new TransportLadder(['ws', 'sse'], { maxFailures: 2 });
    l.failed();
    l.stable();
    assert.equal(l.failed(), false);
    assert.equal(l.current, 'ws');
  });

  test('after the last transport comes the first again', () => {
    const l = new TransportLadder(['ws', 'sse'], { maxFailures: 1 });
    l.failed();
    assert.equal(l.current, 'sse');
    l.failed();
    assert.equal(l.current, 'ws');
  });

  test('a single forced transport never moves', () => {
    const l = new TransportLadder(['longpoll'], { maxFailures: 1 });
    for (let i = 0; i < 5; i++) assert.equal(l.failed(), false);
    assert.equal(l.current, 'longpoll');
  });

  test('skip moves on at once and starts the count again', () => {
    const l = new TransportLadder(['ws', 'sse', 'longpoll'], { maxFailures: 2 });
    l.failed();
    l.skip();
    assert.equal(l.current, 'sse');
    assert.equal(l.failed(), false);
  });

  test('parseTransports: the default order, lists, strings, aliases, and unknown names', () => {
    assert.deepEqual(parseTransports(undefined), ['ws', 'sse', 'longpoll', 'jsonp', 'frame']);
    assert.deepEqual(parseTransports('sse'), ['sse']);
    assert.deepEqual(parseTransports('longpoll, ws'), ['longpoll', 'ws']);
    assert.deepEqual(parseTransports(['WebSocket', 'forever-frame', 'ws']), ['ws', 'frame']);
    assert.throws(() => parseTransports('carrier-pigeon'), /unknown transport "carrier-pigeon"/);
    assert.throws(() => new TransportLadder([]), RangeError);
  });

  test('URLs: ws/wss follow http/https; endpoint skips undefined parameters', () => {
    assert.equal(webSocketUrl('http://127.0.0.1:8080'), 'ws://127.0.0.1:8080/v1/ws');
    assert.equal(webSocketUrl('https://chat.example'), 'wss://chat.example/v1/ws');
    assert.equal(endpoint('http://h:1', '/v1/sse', { session: 's_1', cursor: 0, x: undefined }), 'http://h:1/v1/sse?session=s_1&cursor=0');
  });
});
