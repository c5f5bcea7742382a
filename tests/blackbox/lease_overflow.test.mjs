// Leases (expiry, renewal by ping, a pending listen keeps a session alive) and
// session queue overflow. Real time must pass for leases: the server's own 1 s
// long-poll timeout is the clock, never a sleep in the test.

import assert from 'node:assert/strict';
import {
  assertKeys, assertTime, call, callError, describe, enter, Inbox, is, listen, test, uniq, useHerald,
} from './lib/herald.mjs';

describe('leases with --lease 1 --max-lease 5', () => {
  const herald = useHerald(['--lease', '1', '--max-lease', '5']);

  test('enter answers the default lease of --lease', async () => {
    const r = await call(herald.url, 'enter', { user: 'l' });
    assert.equal(r.lease, 1);
    const capped = await call(herald.url, 'enter', { user: 'l', lease: 60 });
    assert.equal(capped.lease, 5);
  });

  test('a session that does nothing expires: members see leave with reason expired, then it is unknown_session', async () => {
    const g = uniq('g');
    const watcher = await enter(herald.url, 'watcher', [g], { lease: 5 });
    const name = uniq('idle');
    const idle = await enter(herald.url, name, [g]);
    const inbox = new Inbox(herald.url, watcher); // its pending listens keep the watcher alive
    const ev = await inbox.until(is.leave(g, name, 'expired'), { boundMs: 20_000, what: 'leave expired' });
    assertKeys(ev, ['type', 'eid', 'group', 'user', 'reason', 'time'], 'leave event');
    assertTime(ev.time);
    await callError(herald.url, 'ping', { session: idle }, 404, 'unknown_session');
    await callError(herald.url, 'speak', { session: idle, group: g, data: 1 }, 404, 'unknown_session');
    const r = await listen(herald.url, idle, 0, 0);
    assert.equal(r.status, 404, r.text);
    assert.equal(r.body?.error?.code, 'unknown_session', r.text);
    const p = await call(herald.url, 'presence', { session: watcher, group: g });
    assert.equal(p.users.includes(name), false);
  });

  test('a session pinged more often than its lease outlives that lease', async () => {
    const g = uniq('g');
    const watcher = await enter(herald.url, 'watcher', [g], { lease: 5 });
    const name = uniq('pinger');
    const pinger = await enter(herald.url, name, [g], { lease: 2 });
    const inbox = new Inbox(herald.url, watcher);
    // Each empty 1 s long-poll of the watcher is a second of real time; ping the
    // 2 s session once per second until 4 such seconds (twice its lease) passed.
    let emptyPolls = 0;
    let rounds = 0;
    while (emptyPolls < 4) {
      rounds += 1;
      assert.ok(rounds < 30, 'the watcher\'s long-polls never came back empty');
      const pong = await call(herald.url, 'ping', { session: pinger });
      assertTime(pong.time);
      const got = await inbox.poll(1);
      if (got.length === 0) emptyPolls += 1;
    }
    await call(herald.url, 'ping', { session: pinger });
    assert.equal(inbox.events.some(is.leave(g, name)), false, `pinged session left: ${JSON.stringify(inbox.events)}`);
    assert.ok((await call(herald.url, 'presence', { session: watcher, group: g })).users.includes(name));
  });

  test('a pending listen longer than the lease keeps the session alive', async () => {
    const g = uniq('g');
    const watcher = await enter(herald.url, 'watcher', [g], { lease: 5 });
    const name = uniq('listener');
    const s = await enter(herald.url, name, [g]); // lease 1 s
    const first = await listen(herald.url, s, 0, 0);
    assert.equal(first.status, 200, first.text);
    const r = await listen(herald.url, s, first.body.cursor, 3); // 3 s > lease
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.events, []);
    await call(herald.url, 'ping', { session: s }); // the lease clock restarted when the listen ended
    const inbox = new Inbox(herald.url, watcher);
    await inbox.poll(0);
    assert.equal(inbox.events.some(is.leave(g, name)), false);
  });

  test('every request on a session renews its lease, not only ping', async () => {
    const g = uniq('g');
    const watcher = await enter(herald.url, 'watcher', [g], { lease: 5 });
    const name = uniq('busy');
    const busy = await enter(herald.url, name, [g], { lease: 2 });
    const inbox = new Inbox(herald.url, watcher);
    let emptyPolls = 0;
    let rounds = 0;
    while (emptyPolls < 4) {
      rounds += 1;
      assert.ok(rounds < 30, 'the watcher\'s long-polls never came back empty');
      await call(herald.url, 'presence', { session: busy, group: g });
      const got = await inbox.poll(1);
      if (got.length === 0) emptyPolls += 1;
    }
    await call(herald.url, 'ping', { session: busy });
    assert.equal(inbox.events.some(is.leave(g, name)), false);
  });
});

describe('overflow with --queue-max 5', () => {
  const herald = useHerald(['--queue-max', '5']);

  test('a queue that overflows answers an overflow event first, at the gap, and every event is accounted for', async () => {
    const g = uniq('g');
    const speaker = await enter(herald.url, 'speaker', [g]);
    const listener = await enter(herald.url, 'listener', [g]); // its own join: eid 1
    for (let i = 1; i <= 20; i++) await call(herald.url, 'speak', { session: speaker, group: g, data: i });

    const inbox = new Inbox(herald.url, listener);
    const first = await inbox.poll(0);
    assert.ok(first.length <= 5, `a queue of 5 answered ${first.length} events`);
    const overflow = first[0];
    assert.equal(overflow?.type, 'overflow', `the first event must be the overflow: ${JSON.stringify(first)}`);
    assertKeys(overflow, ['type', 'eid', 'dropped', 'time'], 'overflow event');
    assert.ok(overflow.dropped > 0);
    assertTime(overflow.time);
    // Nothing was acknowledged, so eids 1..dropped were lost: the overflow takes the
    // eid of the newest one lost (docs/protocol.md) and the next event follows it.
    assert.equal(overflow.eid, overflow.dropped);
    assert.equal(first.filter((e) => e.type === 'overflow').length, 1, 'overflows at the head are merged');

    await inbox.until(is.message(g, 20));
    const dropped = inbox.events.filter((e) => e.type === 'overflow').reduce((n, e) => n + e.dropped, 0);
    const kept = inbox.events.filter((e) => e.type !== 'overflow');
    assert.equal(kept.length + dropped, 21, `1 join + 20 messages: ${JSON.stringify(inbox.events)}`);
    const seqs = kept.filter((e) => e.type === 'message').map((e) => e.seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'messages stay in seq order');
    assert.equal(seqs.at(-1), 20, 'the newest message survives');
    const eids = inbox.events.map((e) => e.eid);
    for (let i = 1; i < eids.length; i++) assert.ok(eids[i] > eids[i - 1], `eids must increase: ${eids}`);
    assert.equal(eids.at(-1), 21, 'the overflow event takes no eid of its own');
  });

  test('an overflow after an acknowledgement counts only the events lost since, and takes the eid of the newest lost', async () => {
    const g = uniq('g');
    const speaker = await enter(herald.url, 'speaker', [g]);
    const listener = await enter(herald.url, 'listener', [g]);
    const inbox = new Inbox(herald.url, listener);
    await inbox.until(is.join(g, 'listener'));
    const acked = inbox.cursor;
    assert.deepEqual(await inbox.poll(0), [], 'nothing else queued'); // this listen acknowledges the join
    for (let i = 1; i <= 10; i++) await call(herald.url, 'speak', { session: speaker, group: g, data: i });
    const got = await inbox.poll(0);
    const overflow = got[0];
    assert.equal(overflow?.type, 'overflow', JSON.stringify(got));
    assert.equal(overflow.eid, acked + overflow.dropped,
      `eids acked+1 … acked+dropped were lost (acked ${acked}, before: ${JSON.stringify(inbox.events.slice(0, -got.length))}, got: ${JSON.stringify(got)})`);
    await inbox.until(is.message(g, 10));
    const after = inbox.events.slice(inbox.events.indexOf(overflow));
    const dropped = after.filter((e) => e.type === 'overflow').reduce((n, e) => n + e.dropped, 0);
    assert.equal(after.filter((e) => e.type === 'message').length + dropped, 10, JSON.stringify(after));
  });

  test('a listener that keeps up with a small queue loses nothing', async () => {
    const g = uniq('g');
    const speaker = await enter(herald.url, 'speaker', [g]);
    const listener = await enter(herald.url, 'listener', [g]);
    const inbox = new Inbox(herald.url, listener);
    await inbox.until(is.join(g, 'listener'));
    for (let i = 1; i <= 12; i++) {
      await call(herald.url, 'speak', { session: speaker, group: g, data: i });
      await inbox.until(is.message(g, i));
    }
    assert.equal(inbox.events.some((e) => e.type === 'overflow'), false);
    assert.deepEqual(inbox.events.filter((e) => e.type === 'message').map((e) => e.data), [...Array(12).keys()].map((i) => i + 1));
  });
});
