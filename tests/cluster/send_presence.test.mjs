// Users across nodes: `send` (and POST /v1/publish to a user) reaches a user's sessions on
// every node and `delivered` counts them cluster-wide; `presence` lists the members of all
// nodes, the same through every node; join and leave announcements (leave, exit, expired)
// reach members on other nodes.

import assert from 'node:assert/strict';
import { Inbox, call, describe, enter, is, publishJson, test, uniq } from '../blackbox/lib/herald.mjs';
import { until, useCluster } from './lib/cluster.mjs';

describe('send, presence and announcements across nodes', () => {
  const nodes = useCluster(3);
  const [n1, n2, n3] = nodes;

  test('send to a user with sessions on n1 and n2, from n3: delivered counts both, and both receive it', async () => {
    const bob = uniq('bob');
    const b1 = await enter(n1.url, bob);
    const b2 = await enter(n2.url, bob);
    const ann = await enter(n3.url, uniq('ann'));
    for (const via of nodes) {
      const r = await call(via.url, 'send', { session: ann, to: bob, data: { via: via.nodeName } });
      assert.deepEqual(r, { delivered: 2 }, `send through ${via.nodeName}`);
      const p = await publishJson(via, { user: bob, data: { pub: via.nodeName } });
      assert.equal(p.status, 200, p.text);
      assert.deepEqual(p.body, { delivered: 2 }, `POST /v1/publish {user} through ${via.nodeName}`);
    }
    for (const [session, owner, reader] of [[b1, n1, n3], [b2, n2, n1]]) {
      const inbox = new Inbox(reader.url, session);
      for (const via of nodes) {
        await inbox.until((e) => e.type === 'direct' && e.data?.via === via.nodeName, { what: `the send through ${via.nodeName} at bob's session on ${owner.nodeName}` });
        await inbox.until((e) => e.type === 'direct' && e.data?.pub === via.nodeName && e.from === 'server', { what: `the publish through ${via.nodeName} at bob's session on ${owner.nodeName}` });
      }
      await inbox.poll(0);
      const directs = inbox.events.filter((e) => e.type === 'direct');
      assert.equal(directs.length, 6, `bob's session on ${owner.nodeName} got each direct once: ${JSON.stringify(directs)}`);
    }
    // A third session on n3 counts too; after one exits it does not.
    const b3 = await enter(n3.url, bob);
    assert.deepEqual(await call(n1.url, 'send', { session: ann, to: bob, data: 3 }), { delivered: 3 });
    await call(n3.url, 'exit', { session: b1 });
    assert.deepEqual(await call(n2.url, 'send', { session: ann, to: bob, data: 4 }), { delivered: 2 });
    await call(n1.url, 'exit', { session: b3 });
    await call(n1.url, 'exit', { session: b2 });
    assert.deepEqual(await call(n3.url, 'send', { session: ann, to: bob, data: 5 }), { delivered: 0 });
  });

  test('presence lists the members of every node, identically through every node', async () => {
    const g = uniq('g');
    const users = nodes.map((_, i) => uniq(`p${i + 1}`));
    const sessions = [];
    for (const [i, node] of nodes.entries()) sessions.push(await enter(node.url, users[i], [g]));
    // A second session of the first user, on another node: the user is one member.
    const again = await enter(n3.url, users[0], [g]);
    for (const via of nodes) {
      for (const s of [...sessions, again]) {
        const p = await call(via.url, 'presence', { session: s, group: g });
        assert.deepEqual([...p.users].sort(), [...users].sort(), `presence through ${via.nodeName} for ${s}`);
        assert.equal(p.count, 3, `count through ${via.nodeName}: ${JSON.stringify(p)}`);
      }
    }
    // Leaving (one of two sessions of user 0, then the other) through foreign nodes.
    await call(n2.url, 'leave', { session: sessions[0], group: g });
    for (const via of nodes) {
      const p = await call(via.url, 'presence', { session: sessions[1], group: g });
      assert.deepEqual([...p.users].sort(), [...users].sort(), `user 0 still has a session in ${g} (through ${via.nodeName})`);
    }
    await call(n1.url, 'leave', { session: again, group: g });
    for (const via of nodes) {
      const p = await call(via.url, 'presence', { session: sessions[2], group: g });
      assert.deepEqual([...p.users].sort(), [users[1], users[2]].sort(), `after user 0 left everywhere (through ${via.nodeName})`);
      assert.equal(p.count, 2);
    }
  });

  test('join and leave announcements reach members on other nodes: leave, exit and expired', async () => {
    const g = uniq('g');
    const watcher = await enter(n1.url, uniq('watch'), [g]);
    const inbox = new Inbox(n1.url, watcher);
    const carol = uniq('carol');
    const dave = uniq('dave');
    const erin = uniq('erin');
    const c = await enter(n2.url, carol, [g]);
    const d = await enter(n3.url, dave);
    await call(n1.url, 'join', { session: d, group: g });
    await enter(n2.url, erin, [g], { lease: 1 });
    await inbox.until(is.join(g, carol), { what: "carol's join (entered on n2)" });
    await inbox.until(is.join(g, dave), { what: "dave's join (session on n3, joined through n1)" });
    await inbox.until(is.join(g, erin), { what: "erin's join (n2)" });
    await call(n3.url, 'leave', { session: c, group: g });
    await inbox.until(is.leave(g, carol, 'leave'), { what: "carol's leave (reason leave)" });
    await call(n2.url, 'exit', { session: d });
    await inbox.until(is.leave(g, dave, 'exit'), { what: "dave's leave (reason exit)" });
    // erin's lease (1 s) passes without a request: she expires on n2.
    await inbox.until(is.leave(g, erin, 'expired'), { what: "erin's leave (reason expired)", boundMs: 15_000 });
    for (const user of [carol, dave, erin]) {
      assert.equal(inbox.events.filter(is.join(g, user)).length, 1, `one join of ${user}`);
      assert.equal(inbox.events.filter(is.leave(g, user)).length, 1, `one leave of ${user}`);
    }
    // And a member on n3 sees the same announcements of n1 and n2 users.
    const far = await enter(n3.url, uniq('far'), [g]);
    const farInbox = new Inbox(n2.url, far);
    const frank = uniq('frank');
    const f = await enter(n1.url, frank, [g]);
    await farInbox.until(is.join(g, frank), { what: "frank's join (n1) at a member of n3" });
    await call(n2.url, 'exit', { session: f });
    await farInbox.until(is.leave(g, frank, 'exit'), { what: "frank's exit at a member of n3" });
    await until(async () => (await call(n2.url, 'presence', { session: far, group: g })).count === 2, { what: 'presence back to the watcher and far' });
  });
});
