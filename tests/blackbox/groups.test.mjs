// Groups: join/leave notifications, declared vs undeclared groups, recovery with
// `since` against a short history.

import assert from 'node:assert/strict';
import {
  call, callError, describe, enter, Inbox, is, test, uniq, useHerald,
} from './lib/herald.mjs';

/** Speaks a marker into `group` and returns the events `inbox` got before it. */
async function eventsBeforeMarker(url, inbox, speaker, group) {
  const marker = uniq('marker');
  await call(url, 'speak', { session: speaker, group, data: marker });
  await inbox.until(is.message(group, marker), { what: `marker ${marker}` });
  return inbox.before(is.message(group, marker));
}

const presenceEvents = (events) => events.filter((e) => e.type === 'join' || e.type === 'leave');

describe('groups with --history 3 and a declared silent group', () => {
  const herald = useHerald(['--history', '3'], {
      configJson: { groups: [{ name: 'quiet', notify: false }, { name: 'short', history: 2 }] },
    });

  test('the joiner sees its own join and earlier members see it too', async () => {
    const g = uniq('g');
    const first = uniq('first');
    const second = uniq('second');
    const a = await enter(herald.url, first, [g]);
    const b = await enter(herald.url, second);
    await call(herald.url, 'join', { session: b, group: g });
    const aInbox = new Inbox(herald.url, a);
    await aInbox.until(is.join(g, first), { what: 'own join' });
    await aInbox.until(is.join(g, second), { what: 'join of the second member' });
    await new Inbox(herald.url, b).until(is.join(g, second), { what: 'the joiner\'s own join' });
  });

  test('a declared group with notify false announces no joins or leaves', async () => {
    const watcher = await enter(herald.url, 'watcher', ['quiet']);
    const visitor = await enter(herald.url, uniq('visitor'), ['quiet']);
    await call(herald.url, 'leave', { session: visitor, group: 'quiet' });
    await call(herald.url, 'join', { session: visitor, group: 'quiet' });
    await call(herald.url, 'exit', { session: visitor });
    const inbox = new Inbox(herald.url, watcher);
    const seen = await eventsBeforeMarker(herald.url, inbox, watcher, 'quiet');
    assert.deepEqual(presenceEvents(seen), []);
  });

  test('a user with several sessions is announced on the first join and the last leave only', async () => {
    const g = uniq('g');
    const watcher = await enter(herald.url, 'watcher', [g]);
    const name = uniq('multi');
    const s1 = await enter(herald.url, name, [g]);
    const s2 = await enter(herald.url, name, [g]);
    await call(herald.url, 'leave', { session: s1, group: g });
    const inbox = new Inbox(herald.url, watcher);
    let seen = await eventsBeforeMarker(herald.url, inbox, watcher, g);
    assert.deepEqual(presenceEvents(seen).filter((e) => e.user === name).map((e) => e.type), ['join']);
    await call(herald.url, 'leave', { session: s2, group: g });
    await inbox.until(is.leave(g, name, 'leave'));
    seen = inbox.events;
    assert.deepEqual(presenceEvents(seen).filter((e) => e.user === name).map((e) => e.type), ['join', 'leave']);
  });

  test('history keeps at most --history messages, the newest', async () => {
    const g = uniq('g');
    const s = await enter(herald.url, 'h', [g]);
    for (let i = 1; i <= 6; i++) await call(herald.url, 'speak', { session: s, group: g, data: i });
    const h = await call(herald.url, 'history', { session: s, group: g });
    assert.deepEqual(h.messages.map((m) => m.seq), [4, 5, 6]);
  });

  test('a declared group\'s history length overrides --history', async () => {
    const s = await enter(herald.url, 'h', ['short']);
    const before = (await call(herald.url, 'join', { session: s, group: 'short' })).seq;
    for (let i = 1; i <= 4; i++) await call(herald.url, 'speak', { session: s, group: 'short', data: i });
    const h = await call(herald.url, 'history', { session: s, group: 'short' });
    assert.deepEqual(h.messages.map((m) => m.data), [3, 4]);
    assert.deepEqual(h.messages.map((m) => m.seq), [before + 3, before + 4]);
  });

  test('join with since older than the history answers recovered false', async () => {
    const g = uniq('g');
    const a = await enter(herald.url, 'speaker', [g]);
    const { epoch } = await call(herald.url, 'join', { session: a, group: g });
    for (let i = 1; i <= 6; i++) await call(herald.url, 'speak', { session: a, group: g, data: i });
    const b = await enter(herald.url, 'late');
    // History holds 4, 5, 6; messages 2 and 3 after since.seq 1 are lost.
    const r = await call(herald.url, 'join', { session: b, group: g, since: { seq: 1, epoch } });
    assert.equal(r.recovered, false);
    assert.equal(r.seq, 6);
  });

  test('join with since just inside the history recovers the rest in order', async () => {
    const g = uniq('g');
    const a = await enter(herald.url, 'speaker', [g]);
    const { epoch } = await call(herald.url, 'join', { session: a, group: g });
    for (let i = 1; i <= 6; i++) await call(herald.url, 'speak', { session: a, group: g, data: i });
    const b = await enter(herald.url, 'late');
    const r = await call(herald.url, 'join', { session: b, group: g, since: { seq: 3, epoch } });
    assert.equal(r.recovered, true);
    const inbox = new Inbox(herald.url, b);
    await inbox.until(is.message(g, 6));
    assert.deepEqual(inbox.events.filter((e) => e.type === 'message').map((e) => e.seq), [4, 5, 6]);
  });

  test('recovered messages come before messages spoken after the join', async () => {
    const g = uniq('g');
    const a = await enter(herald.url, 'speaker', [g]);
    const { epoch } = await call(herald.url, 'join', { session: a, group: g });
    await call(herald.url, 'speak', { session: a, group: g, data: 'missed' });
    const b = await enter(herald.url, 'late');
    const r = await call(herald.url, 'join', { session: b, group: g, since: { seq: 0, epoch } });
    assert.equal(r.recovered, true);
    await call(herald.url, 'speak', { session: a, group: g, data: 'live' });
    const inbox = new Inbox(herald.url, b);
    await inbox.until(is.message(g, 'live'));
    assert.deepEqual(inbox.events.filter((e) => e.type === 'message').map((e) => e.data), ['missed', 'live']);
  });

  test('join with since ahead of the group answers recovered false', async () => {
    const g = uniq('g');
    const a = await enter(herald.url, 'speaker', [g]);
    const { epoch } = await call(herald.url, 'join', { session: a, group: g });
    await call(herald.url, 'speak', { session: a, group: g, data: 1 });
    const b = await enter(herald.url, 'late');
    const r = await call(herald.url, 'join', { session: b, group: g, since: { seq: 99, epoch } });
    assert.equal(r.recovered, false);
  });

  test('speak does not require membership and reaches members but not the non-member sender', async () => {
    const g = uniq('g');
    const member = await enter(herald.url, 'member', [g]);
    const outsiderName = uniq('outsider');
    const outsider = await enter(herald.url, outsiderName, [uniq('own')]);
    assert.deepEqual(await call(herald.url, 'speak', { session: outsider, group: g, data: 'from outside' }), {
      groups: { [g]: { seq: 1 } },
    });
    await new Inbox(herald.url, member).until(is.message(g, 'from outside'));
    const outsiderInbox = new Inbox(herald.url, outsider);
    const ownMarker = await call(herald.url, 'send', { session: member, to: outsiderName, data: 'marker' });
    assert.equal(ownMarker.delivered, 1);
    await outsiderInbox.until(is.direct('member', 'marker'));
    assert.equal(outsiderInbox.events.some(is.message(g)), false);
  });

  test('join or speak with a malformed group name is bad_request', async () => {
    const s = await enter(herald.url, 'bad');
    await callError(herald.url, 'join', { session: s, group: 'no spaces' }, 400, 'bad_request');
    await callError(herald.url, 'join', { session: s, group: 'x'.repeat(129) }, 400, 'bad_request');
    await callError(herald.url, 'join', { session: s, group: 42 }, 400, 'bad_request');
    await callError(herald.url, 'join', { session: s }, 400, 'bad_request');
    await callError(herald.url, 'speak', { session: s, group: 'a<b', data: 1 }, 400, 'bad_request');
    await callError(herald.url, 'speak', { session: s, data: 1 }, 400, 'bad_request');
  });

  test('group names may use every allowed character and 128 chars', async () => {
    const s = await enter(herald.url, 'names');
    for (const g of ['A-z_0.9:/x', 'x'.repeat(128)]) {
      const r = await call(herald.url, 'join', { session: s, group: g });
      assert.equal(r.group, g);
    }
  });
});

describe('groups with --undeclared-groups refuse', () => {
  const herald = useHerald(['--undeclared-groups', 'refuse'], {
      configJson: { groups: [{ name: 'lobby', bit: 1 }] },
    });

  test('enter with an undeclared group is not_found and creates no session', async () => {
    const name = uniq('refused');
    await callError(herald.url, 'enter', { user: name, groups: ['lobby', 'undeclared'] }, 404, 'not_found');
    const s = await enter(herald.url, 'checker', ['lobby']);
    const p = await call(herald.url, 'presence', { session: s, group: 'lobby' });
    assert.equal(p.users.includes(name), false, 'the failed enter must not have joined lobby');
  });

  test('join, speak, presence and history of an undeclared group are not_found', async () => {
    const s = await enter(herald.url, 'u', ['lobby']);
    await callError(herald.url, 'join', { session: s, group: 'nope' }, 404, 'not_found');
    await callError(herald.url, 'speak', { session: s, group: 'nope', data: 1 }, 404, 'not_found');
    await callError(herald.url, 'presence', { session: s, group: 'nope' }, 404, 'not_found');
    await callError(herald.url, 'history', { session: s, group: 'nope' }, 404, 'not_found');
  });

  test('declared groups still work', async () => {
    const s = await enter(herald.url, 'u', ['lobby']);
    const r = await call(herald.url, 'speak', { session: s, group: 'lobby', data: 'ok' });
    assert.equal(typeof r.groups.lobby.seq, 'number');
  });
});

describe('groups with --notify-presence off', () => {
  const herald = useHerald(['--notify-presence', 'off'], {
      configJson: { groups: [{ name: 'announced', notify: true }] },
    });

  test('undeclared groups announce no joins or leaves', async () => {
    const g = uniq('g');
    const watcher = await enter(herald.url, 'watcher', [g]);
    const visitor = await enter(herald.url, uniq('visitor'), [g]);
    await call(herald.url, 'leave', { session: visitor, group: g });
    const seen = await eventsBeforeMarker(herald.url, new Inbox(herald.url, watcher), watcher, g);
    assert.deepEqual(presenceEvents(seen), []);
  });

  test('a declared group with notify true still announces', async () => {
    const watcher = await enter(herald.url, 'watcher', ['announced']);
    const name = uniq('visitor');
    await enter(herald.url, name, ['announced']);
    await new Inbox(herald.url, watcher).until(is.join('announced', name));
  });
});

describe('groups with --notify-presence-max 2', () => {
  const herald = useHerald(['--notify-presence-max', '2']);

  test('a group with more than notify-presence-max members stops announcing joins, presence still answers', async () => {
    const g = uniq('g');
    const second = uniq('second');
    const third = uniq('third');
    const watcher = await enter(herald.url, 'watcher', [g]);
    await enter(herald.url, second, [g]);
    await enter(herald.url, third, [g]);
    const seen = await eventsBeforeMarker(herald.url, new Inbox(herald.url, watcher), watcher, g);
    const joins = seen.filter((e) => e.type === 'join').map((e) => e.user);
    assert.ok(joins.includes(second), `with 2 members joins are announced: ${JSON.stringify(seen)}`);
    assert.equal(joins.includes(third), false, `the third member's join must not be announced: ${JSON.stringify(seen)}`);
    const p = await call(herald.url, 'presence', { session: watcher, group: g });
    assert.equal(p.count, 3);
    assert.deepEqual(p.users, ['watcher', second, third].sort());
  });
});
