// Every method of the v1 contract over POST /v1/rpc, with the result shapes the
// contract fixes and the event shapes sessions receive.

import assert from 'node:assert/strict';
import {
  assertError, assertKeys, assertTime, call, callError, describe, enter, enterResult, Inbox, is, rpc, test, uniq,
  useHerald,
} from './lib/herald.mjs';

const config = {
  groups: [
    { name: 'lobby', bit: 1, title: 'Lobby' },
    { name: 'sales', bit: 2, title: 'Sales' },
    { name: 'support', bit: 4, title: 'Support' },
  ],
};

describe('rpc methods', () => {
  const herald = useHerald(['--max-lease', '200'], { configJson: config });

  // --- enter ---------------------------------------------------------------

  test('enter with group names answers session, user, lease and each group with seq and epoch', async () => {
    const g1 = uniq('g');
    const g2 = uniq('g');
    const r = await enterResult(herald.url, 'alice', [g1, g2]);
    assertKeys(r, ['session', 'user', 'lease', 'groups'], 'enter result');
    assert.match(r.session, /^[A-Za-z0-9_-]{1,64}$/);
    assert.equal(r.user, 'alice');
    assert.equal(r.lease, 100, 'default lease is 100 s');
    assert.deepEqual(Object.keys(r.groups).sort(), [g1, g2].sort());
    for (const g of [g1, g2]) {
      assertKeys(r.groups[g], ['seq', 'epoch'], `groups.${g}`);
      assert.equal(r.groups[g].seq, 0, 'a fresh group has seq 0');
      assert.equal(typeof r.groups[g].epoch, 'string');
      assert.match(r.groups[g].epoch, /^[0-9a-f]{12}$/, 'epoch is 12 hex chars (docs/protocol.md)');
    }
  });

  test('enter without groups answers an empty groups object', async () => {
    const r = await enterResult(herald.url, 'loner');
    assert.deepEqual(r.groups, {});
  });

  test('two enters give two different session ids', async () => {
    const a = await enter(herald.url, 'twin');
    const b = await enter(herald.url, 'twin');
    assert.notEqual(a, b);
  });

  test('enter with an integer bitmask joins the declared groups carrying those bits', async () => {
    const r = await enterResult(herald.url, 'bits', 5);
    assert.deepEqual(Object.keys(r.groups).sort(), ['lobby', 'support']);
    const presence = await call(herald.url, 'presence', { session: r.session, group: 'support' });
    assert.ok(presence.users.includes('bits'));
    const sales = await call(herald.url, 'presence', { session: r.session, group: 'sales' });
    assert.equal(sales.users.includes('bits'), false);
  });

  test('enter with a bitmask naming an undeclared bit is bad_request', async () => {
    await callError(herald.url, 'enter', { user: 'bits', groups: 8 }, 400, 'bad_request');
    await callError(herald.url, 'enter', { user: 'bits', groups: 1 | 16 }, 400, 'bad_request');
  });

  test('enter accepts the SocketPro alias userId for user', async () => {
    const r = await enterResult(herald.url, undefined, ['lobby'], { userId: 'sp-user' });
    assert.equal(r.user, 'sp-user');
  });

  test('enter honours a requested lease and clamps it into [1, max-lease]', async () => {
    for (const [asked, granted] of [[7, 7], [1, 1], [200, 200], [0, 1], [-5, 1], [1_000_000, 200]]) {
      const r = await enterResult(herald.url, 'l', undefined, { lease: asked });
      assert.equal(r.lease, granted, `enter with lease ${asked} must be granted ${granted}`);
    }
  });

  test('enter accepts and ignores a token (v1 has no auth backend)', async () => {
    const r = await enterResult(herald.url, 'tok', ['lobby'], { token: 'anything' });
    assert.equal(r.user, 'tok');
  });

  test('enter with a non-integer lease is bad_request', async () => {
    await callError(herald.url, 'enter', { user: 'l', lease: 2.5 }, 400, 'bad_request');
    await callError(herald.url, 'enter', { user: 'l', lease: 'long' }, 400, 'bad_request');
  });

  test('enter with a bad user is bad_request: missing, empty, 65 chars, not a string, control char', async () => {
    await callError(herald.url, 'enter', {}, 400, 'bad_request');
    await callError(herald.url, 'enter', { user: '' }, 400, 'bad_request');
    await callError(herald.url, 'enter', { user: 'u'.repeat(65) }, 400, 'bad_request');
    await callError(herald.url, 'enter', { user: 42 }, 400, 'bad_request');
    await callError(herald.url, 'enter', { user: ['alice'] }, 400, 'bad_request');
    await callError(herald.url, 'enter', { user: null }, 400, 'bad_request');
    await callError(herald.url, 'enter', { user: 'a\u0001b' }, 400, 'bad_request');
  });

  test('enter accepts a user of 64 code points, non-ASCII included', async () => {
    assert.equal((await enterResult(herald.url, 'u'.repeat(64))).user, 'u'.repeat(64));
    assert.equal((await enterResult(herald.url, 'é'.repeat(64))).user, 'é'.repeat(64));
  });

  test('enter with a malformed group name is bad_request', async () => {
    await callError(herald.url, 'enter', { user: 'g', groups: ['has space'] }, 400, 'bad_request');
    await callError(herald.url, 'enter', { user: 'g', groups: ['x'.repeat(129)] }, 400, 'bad_request');
    await callError(herald.url, 'enter', { user: 'g', groups: [''] }, 400, 'bad_request');
  });

  // --- join / leave --------------------------------------------------------

  test('join answers group, seq and epoch, without recovered when since is absent', async () => {
    const g = uniq('g');
    const s = await enter(herald.url, 'joiner');
    const r = await call(herald.url, 'join', { session: s, group: g });
    assertKeys(r, ['group', 'seq', 'epoch'], 'join result');
    assert.equal(r.group, g);
    assert.equal(r.seq, 0);
    assert.equal(typeof r.epoch, 'string');
  });

  test('join reports the last assigned seq of the group', async () => {
    const g = uniq('g');
    const a = await enter(herald.url, 'a', [g]);
    await call(herald.url, 'speak', { session: a, group: g, data: 1 });
    await call(herald.url, 'speak', { session: a, group: g, data: 2 });
    const b = await enter(herald.url, 'b');
    const r = await call(herald.url, 'join', { session: b, group: g });
    assert.equal(r.seq, 2);
  });

  test('joining a group already joined is not an error', async () => {
    const g = uniq('g');
    const s = await enter(herald.url, 'again', [g]);
    const r = await call(herald.url, 'join', { session: s, group: g });
    assert.equal(r.group, g);
  });

  test('join with since of the same epoch recovers: recovered true and the missed messages queued in order', async () => {
    const g = uniq('g');
    const a = await enter(herald.url, 'speaker', [g]);
    const epoch = (await call(herald.url, 'join', { session: a, group: g })).epoch;
    for (const n of [1, 2, 3, 4]) await call(herald.url, 'speak', { session: a, group: g, data: { n } });

    const b = await enter(herald.url, 'recoverer');
    const r = await call(herald.url, 'join', { session: b, group: g, since: { seq: 1, epoch } });
    assert.equal(r.recovered, true);
    assert.equal(r.seq, 4);
    assert.equal(r.epoch, epoch);

    const inbox = new Inbox(herald.url, b);
    await inbox.until(is.message(g, { n: 4 }));
    const messages = inbox.events.filter((e) => e.type === 'message');
    assert.deepEqual(messages.map((e) => e.seq), [2, 3, 4]);
    assert.deepEqual(messages.map((e) => e.data.n), [2, 3, 4]);
  });

  test('join with since of another epoch answers recovered false', async () => {
    const g = uniq('g');
    const a = await enter(herald.url, 'speaker', [g]);
    await call(herald.url, 'speak', { session: a, group: g, data: 'x' });
    const b = await enter(herald.url, 'late');
    const r = await call(herald.url, 'join', { session: b, group: g, since: { seq: 0, epoch: 'not-the-epoch' } });
    assert.equal(r.recovered, false);
  });

  test('leave answers ok and the session gets no more messages of that group', async () => {
    const g = uniq('g');
    const marker = uniq('g');
    const a = await enter(herald.url, 'a', [g]);
    const b = await enter(herald.url, 'b', [g, marker]);
    assert.deepEqual(await call(herald.url, 'leave', { session: b, group: g }), { ok: true });
    await call(herald.url, 'speak', { session: a, group: g, data: 'after leave' });
    await call(herald.url, 'speak', { session: a, group: marker, data: 'marker' });
    const inbox = new Inbox(herald.url, b);
    await inbox.until(is.message(marker, 'marker'));
    assert.equal(inbox.events.some(is.message(g)), false, 'a left session must not receive the group\'s messages');
  });

  test('leave of a group not joined answers ok', async () => {
    const s = await enter(herald.url, 'idem');
    assert.deepEqual(await call(herald.url, 'leave', { session: s, group: uniq('g') }), { ok: true });
  });

  // --- speak ---------------------------------------------------------------

  test('speak answers the group seq, increasing by 1 per message', async () => {
    const g = uniq('g');
    const s = await enter(herald.url, 'talker', [g]);
    const r1 = await call(herald.url, 'speak', { session: s, group: g, data: 'one' });
    assert.deepEqual(r1, { groups: { [g]: { seq: 1 } } });
    const r2 = await call(herald.url, 'speak', { session: s, group: g, data: 'two' });
    assert.deepEqual(r2, { groups: { [g]: { seq: 2 } } });
  });

  test('speak to a groups array answers a seq per group', async () => {
    const g1 = uniq('g');
    const g2 = uniq('g');
    const s = await enter(herald.url, 'multi', [g1, g2]);
    await call(herald.url, 'speak', { session: s, group: g2, data: 'first in g2' });
    const r = await call(herald.url, 'speak', { session: s, groups: [g1, g2], data: 'both' });
    assert.deepEqual(r, { groups: { [g1]: { seq: 1 }, [g2]: { seq: 2 } } });
  });

  test('speak delivers a message event to every member, the sender included, with the contract shape', async () => {
    const g = uniq('g');
    const alice = await enter(herald.url, 'alice', [g]);
    const bob = await enter(herald.url, 'bob', [g]);
    const aliceJoin = await call(herald.url, 'join', { session: alice, group: g });
    const data = { text: 'hi', n: [1, 2, { deep: true }] };
    await call(herald.url, 'speak', { session: alice, group: g, data });
    for (const s of [alice, bob]) {
      const inbox = new Inbox(herald.url, s);
      const m = await inbox.until(is.message(g, data));
      assertKeys(m, ['type', 'eid', 'group', 'seq', 'epoch', 'from', 'data', 'time'], 'message event');
      assert.equal(m.group, g);
      assert.equal(m.seq, 1);
      assert.equal(m.epoch, aliceJoin.epoch);
      assert.equal(m.from, 'alice');
      assert.deepEqual(m.data, data);
      assertTime(m.time);
    }
  });

  test('speak carries any JSON value as data', async () => {
    const g = uniq('g');
    const s = await enter(herald.url, 'any', [g]);
    const values = ['text', 0, -1.5, true, false, null, [], {}, { nested: ['a', { b: 'ü€😀' }] }];
    for (const data of values) await call(herald.url, 'speak', { session: s, group: g, data });
    const inbox = new Inbox(herald.url, s);
    await inbox.until((e) => e.type === 'message' && e.seq === values.length);
    assert.deepEqual(inbox.events.filter((e) => e.type === 'message').map((e) => e.data), values);
  });

  // --- send ----------------------------------------------------------------

  test('send counts the target user\'s sessions and delivers a direct event to each', async () => {
    const bobName = uniq('bob');
    const bob1 = await enter(herald.url, bobName);
    const bob2 = await enter(herald.url, bobName);
    const alice = await enter(herald.url, 'alice');
    const data = { hello: 'bob' };
    assert.deepEqual(await call(herald.url, 'send', { session: alice, to: bobName, data }), { delivered: 2 });
    for (const s of [bob1, bob2]) {
      const inbox = new Inbox(herald.url, s);
      const d = await inbox.until(is.direct('alice', data));
      assertKeys(d, ['type', 'eid', 'from', 'to', 'data', 'time'], 'direct event');
      assert.equal(d.to, bobName);
      assertTime(d.time);
    }
  });

  test('send to a user with no session answers delivered 0, not an error', async () => {
    const alice = await enter(herald.url, 'alice');
    assert.deepEqual(await call(herald.url, 'send', { session: alice, to: uniq('nobody'), data: 1 }), { delivered: 0 });
  });

  test('sendUserMessage with chatId, userId and message is send', async () => {
    const target = uniq('sp');
    const t = await enter(herald.url, target);
    const alice = await enter(herald.url, 'alice');
    const r = await call(herald.url, 'sendUserMessage', { chatId: alice, userId: target, message: 'via alias' });
    assert.deepEqual(r, { delivered: 1 });
    const inbox = new Inbox(herald.url, t);
    const d = await inbox.until(is.direct('alice', 'via alias'));
    assert.equal(d.to, target);
  });

  test('speak and history accept the SocketPro aliases chatId for session and message for data', async () => {
    const g = uniq('g');
    const s = await enter(herald.url, 'chat', [g]);
    assert.deepEqual(await call(herald.url, 'speak', { chatId: s, group: g, message: 'm' }), { groups: { [g]: { seq: 1 } } });
    const h = await call(herald.url, 'history', { chatId: s, group: g });
    assert.deepEqual(h.messages.map((m) => m.data), ['m']);
  });

  // --- presence / history ----------------------------------------------------

  test('presence answers the distinct users sorted and their count', async () => {
    const g = uniq('g');
    const s = await enter(herald.url, 'carol', [g]);
    await enter(herald.url, 'alice', [g]);
    await enter(herald.url, 'bob', [g]);
    await enter(herald.url, 'alice', [g]);
    assert.deepEqual(await call(herald.url, 'presence', { session: s, group: g }), { users: ['alice', 'bob', 'carol'], count: 3 });
  });

  test('history answers the epoch and the message events without eid', async () => {
    const g = uniq('g');
    const s = await enter(herald.url, 'hist', [g]);
    const epoch = (await call(herald.url, 'join', { session: s, group: g })).epoch;
    await call(herald.url, 'speak', { session: s, group: g, data: 'a' });
    await call(herald.url, 'speak', { session: s, group: g, data: 'b' });
    const h = await call(herald.url, 'history', { session: s, group: g });
    assertKeys(h, ['epoch', 'messages'], 'history result');
    assert.equal(h.epoch, epoch);
    assert.equal(h.messages.length, 2);
    for (const m of h.messages) {
      assertKeys(m, ['type', 'group', 'seq', 'epoch', 'from', 'data', 'time'], 'history message');
      assert.equal(m.type, 'message');
      assert.equal(m.from, 'hist');
      assertTime(m.time);
    }
    assert.deepEqual(h.messages.map((m) => [m.seq, m.data]), [[1, 'a'], [2, 'b']]);
  });

  // --- ping / exit / attach ------------------------------------------------

  test('ping answers the server time, with or without a session', async () => {
    const s = await enter(herald.url, 'pinger');
    const withSession = await call(herald.url, 'ping', { session: s });
    assertKeys(withSession, ['time'], 'ping result');
    assertTime(withSession.time);
    const without = await call(herald.url, 'ping', {});
    assertTime(without.time);
    const noParams = await rpc(herald.url, { method: 'ping' });
    assert.equal(noParams.status, 200);
    assertTime(noParams.body.result.time);
  });

  test('exit answers ok, then the session is unknown_session and members see leave with reason exit', async () => {
    const g = uniq('g');
    const watcher = await enter(herald.url, 'watcher', [g]);
    const leaverName = uniq('leaver');
    const leaver = await enter(herald.url, leaverName, [g]);
    assert.deepEqual(await call(herald.url, 'exit', { session: leaver }), { ok: true });
    await callError(herald.url, 'ping', { session: leaver }, 404, 'unknown_session');
    await callError(herald.url, 'speak', { session: leaver, group: g, data: 1 }, 404, 'unknown_session');
    await callError(herald.url, 'exit', { session: leaver }, 404, 'unknown_session');
    const inbox = new Inbox(herald.url, watcher);
    const ev = await inbox.until(is.leave(g, leaverName, 'exit'));
    assertKeys(ev, ['type', 'eid', 'group', 'user', 'reason', 'time'], 'leave event');
    assertTime(ev.time);
  });

  test('a join event has type, eid, group, user and time', async () => {
    const g = uniq('g');
    const watcher = await enter(herald.url, 'watcher', [g]);
    const newcomer = uniq('newcomer');
    await enter(herald.url, newcomer, [g]);
    const ev = await new Inbox(herald.url, watcher).until(is.join(g, newcomer));
    assertKeys(ev, ['type', 'eid', 'group', 'user', 'time'], 'join event');
    assertTime(ev.time);
  });

  test('leave notifies members with reason leave', async () => {
    const g = uniq('g');
    const watcher = await enter(herald.url, 'watcher', [g]);
    const name = uniq('goer');
    const goer = await enter(herald.url, name, [g]);
    await call(herald.url, 'leave', { session: goer, group: g });
    const ev = await new Inbox(herald.url, watcher).until(is.leave(g, name));
    assert.equal(ev.reason, 'leave');
    assertKeys(ev, ['type', 'eid', 'group', 'user', 'reason', 'time'], 'leave event');
  });

  test('attach over HTTP is bad_request (WebSocket only)', async () => {
    const s = await enter(herald.url, 'attacher');
    await callError(herald.url, 'attach', { session: s, cursor: 0 }, 400, 'bad_request');
  });

  test('listen as an rpc method answers a reply frame with events and cursor', async () => {
    const g = uniq('g');
    const s = await enter(herald.url, 'rpc-listener', [g]);
    await call(herald.url, 'speak', { session: s, group: g, data: 'queued' });
    const r = await call(herald.url, 'listen', { session: s, cursor: 0, timeout: 0 });
    assertKeys(r, ['events', 'cursor'], 'listen result');
    assert.ok(r.events.some(is.message(g, 'queued')));
    assert.equal(r.cursor, r.events.at(-1).eid);
  });

  test('a method on an unknown session is unknown_session for every session method', async () => {
    const s = await enter(herald.url, 'probe');
    await call(herald.url, 'exit', { session: s });
    for (const [method, params] of [
      ['join', { group: 'lobby' }],
      ['leave', { group: 'lobby' }],
      ['speak', { group: 'lobby', data: 1 }],
      ['send', { to: 'x', data: 1 }],
      ['listen', { cursor: 0, timeout: 0 }],
      ['presence', { group: 'lobby' }],
      ['history', { group: 'lobby' }],
      ['ping', {}],
    ]) {
      const r = await rpc(herald.url, { id: method, method, params: { session: s, ...params } });
      assertError(r, 404, 'unknown_session', method);
    }
  });
});
