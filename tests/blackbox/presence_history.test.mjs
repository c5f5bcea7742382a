// presence and history in detail.

import assert from 'node:assert/strict';
import {
  assertKeys, before, call, callError, describe, enter, test, uniq, useHerald,
} from './lib/herald.mjs';

describe('presence', () => {
  const herald = useHerald();

  test('presence lists each user once, sorted, with count the number of distinct users', async () => {
    const g = uniq('g');
    const s = await enter(herald.url, 'zed', [g]);
    for (const u of ['mia', 'Bob', 'anna', 'mia', 'zed']) await enter(herald.url, u, [g]);
    const p = await call(herald.url, 'presence', { session: s, group: g });
    assertKeys(p, ['users', 'count'], 'presence result');
    assert.deepEqual(p.users, [...new Set(['zed', 'mia', 'Bob', 'anna'])].sort());
    assert.equal(p.count, 4);
  });

  test('presence does not require membership', async () => {
    const g = uniq('g');
    await enter(herald.url, 'inside', [g]);
    const outsider = await enter(herald.url, 'outside');
    assert.deepEqual(await call(herald.url, 'presence', { session: outsider, group: g }), { users: ['inside'], count: 1 });
  });

  test('presence of an empty group answers no users', async () => {
    const s = await enter(herald.url, 'alone');
    assert.deepEqual(await call(herald.url, 'presence', { session: s, group: uniq('empty') }), { users: [], count: 0 });
  });

  test('presence drops users that left or exited', async () => {
    const g = uniq('g');
    const s = await enter(herald.url, 'stay', [g]);
    const leaver = await enter(herald.url, 'leaver', [g]);
    const exiter = await enter(herald.url, 'exiter', [g]);
    assert.equal((await call(herald.url, 'presence', { session: s, group: g })).count, 3);
    await call(herald.url, 'leave', { session: leaver, group: g });
    await call(herald.url, 'exit', { session: exiter });
    assert.deepEqual(await call(herald.url, 'presence', { session: s, group: g }), { users: ['stay'], count: 1 });
  });

  test('a user stays present while any of its sessions is a member', async () => {
    const g = uniq('g');
    const s = await enter(herald.url, 'observer', [g]);
    const d1 = await enter(herald.url, 'dual', [g]);
    await enter(herald.url, 'dual', [g]);
    await call(herald.url, 'exit', { session: d1 });
    assert.deepEqual((await call(herald.url, 'presence', { session: s, group: g })).users, ['dual', 'observer']);
  });

  test('presence without a group is bad_request', async () => {
    const s = await enter(herald.url, 'p');
    await callError(herald.url, 'presence', { session: s }, 400, 'bad_request');
  });
});

describe('history', () => {
  const herald = useHerald(['--history', '10']);
  let g;
  let s;
  let epoch;
  before(async () => {
    g = uniq('g');
    s = await enter(herald.url, 'historian', [g]);
    epoch = (await call(herald.url, 'join', { session: s, group: g })).epoch;
    for (let i = 1; i <= 6; i++) await call(herald.url, 'speak', { session: s, group: g, data: { i } });
  });

  const seqs = (h) => h.messages.map((m) => m.seq);

  test('history without since or limit answers every kept message in ascending seq', async () => {
    const h = await call(herald.url, 'history', { session: s, group: g });
    assert.equal(h.epoch, epoch);
    assert.deepEqual(seqs(h), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(h.messages.map((m) => m.data.i), [1, 2, 3, 4, 5, 6]);
    for (const m of h.messages) {
      assert.equal(m.group, g);
      assert.equal(m.epoch, epoch);
      assert.equal('eid' in m, false, 'history messages carry no eid');
    }
  });

  test('history since is exclusive', async () => {
    assert.deepEqual(seqs(await call(herald.url, 'history', { session: s, group: g, since: 4 })), [5, 6]);
    assert.deepEqual(seqs(await call(herald.url, 'history', { session: s, group: g, since: 0 })), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(seqs(await call(herald.url, 'history', { session: s, group: g, since: 6 })), []);
  });

  test('history limit without since answers the newest messages', async () => {
    assert.deepEqual(seqs(await call(herald.url, 'history', { session: s, group: g, limit: 2 })), [5, 6]);
  });

  test('history limit with since pages forward from since', async () => {
    assert.deepEqual(seqs(await call(herald.url, 'history', { session: s, group: g, since: 1, limit: 2 })), [2, 3]);
    assert.deepEqual(seqs(await call(herald.url, 'history', { session: s, group: g, since: 3, limit: 2 })), [4, 5]);
  });

  test('history of a group without messages answers its epoch and no messages', async () => {
    const h = await call(herald.url, 'history', { session: s, group: uniq('fresh') });
    assert.equal(typeof h.epoch, 'string');
    assert.deepEqual(h.messages, []);
  });

  test('history does not require membership', async () => {
    const outsider = await enter(herald.url, 'reader');
    assert.deepEqual(seqs(await call(herald.url, 'history', { session: outsider, group: g })), [1, 2, 3, 4, 5, 6]);
  });

  test('history with a non-numeric since or limit is bad_request', async () => {
    await callError(herald.url, 'history', { session: s, group: g, since: 'x' }, 400, 'bad_request');
    await callError(herald.url, 'history', { session: s, group: g, limit: 'all' }, 400, 'bad_request');
    await callError(herald.url, 'history', { session: s, group: g, limit: -1 }, 400, 'bad_request');
  });
});
