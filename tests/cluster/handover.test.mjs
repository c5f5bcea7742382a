// A fourth node joins while messages flow: the groups whose home moves to it (rendezvous
// hashing over the live nodes; with several groups some do) are handed over. Members that
// stay connected see no message lost, duplicated or reordered, and no epoch change; the
// new node then serves the groups like the others (history, join with since).

import assert from 'node:assert/strict';
import { Inbox, call, enter, rpc, test, uniq } from '../blackbox/lib/herald.mjs';
import { nodeName, shown, startClusterNode, stopAll, untilNodes, withCluster } from './lib/cluster.mjs';

const GROUPS = 16;

const messagesOf = (inbox, group) =>
  inbox.events.filter((e) => e.type === 'message' && e.group === group).map((e) => ({ seq: e.seq, epoch: e.epoch, data: e.data }));

test('a 4th node joining while two speakers talk into 16 groups: members that stay see every message once, in order, one epoch', { timeout: 90_000 }, (t) =>
  withCluster(3, ['--history', '1000'], async (nodes) => {
    const groups = Array.from({ length: GROUPS }, (_, i) => uniq(`ho${i}`));
    const members = [];
    for (const node of nodes) {
      const session = await enter(node.url, uniq(`m-${nodeName(node)}`), groups);
      members.push({ node, inbox: new Inbox(node.url, session) });
    }
    const speakers = [];
    for (const node of nodes.slice(0, 2)) speakers.push({ node, who: nodeName(node), session: await enter(node.url, uniq('spk'), groups) });

    const acked = new Map(groups.map((g) => [g, []]));
    let stop = false;
    let retries = 0;
    let rounds = 0;
    // One speak in flight per speaker; `unavailable` (503) is retried (a group being handed
    // over may refuse for a moment), anything else fails.
    const loopErrors = [];
    const loops = speakers.map(async (s) => {
      try {
        await speakLoop(s);
      } catch (err) {
        loopErrors.push(err);
        stop = true;
      }
    });
    async function speakLoop(s) {
      for (let k = 0; !stop || k < 5 * GROUPS; k++) {
        if (loopErrors.length) return;
        const g = groups[k % GROUPS];
        const data = { who: s.who, k };
        for (let attempt = 0; ; attempt++) {
          const r = await rpc(s.node.url, { id: 1, method: 'speak', params: { session: s.session, group: g, data } }, { boundMs: 15_000 });
          if (r.status === 200 && r.body.result) {
            acked.get(g).push({ seq: r.body.result.groups[g].seq, data });
            break;
          }
          assert.ok(r.status === 503 && r.body.error?.code === 'unavailable' && attempt < 200, `speak ${JSON.stringify(data)} into ${g}: ${shown(r)}`);
          retries += 1;
        }
        if (s === speakers[0] && k % GROUPS === GROUPS - 1) rounds += 1;
      }
    }
    /** Reads a member's inbox (a long-poll of 1 s) until `cond()`; bounded; fails if a speaker failed. */
    async function readUntil(inbox, cond, what) {
      const deadline = Date.now() + 30_000;
      while (!cond()) {
        if (loopErrors.length) throw loopErrors[0];
        assert.ok(Date.now() < deadline, `${what} within 30 s (rounds spoken: ${rounds})`);
        await inbox.poll(1);
      }
    }

    // Let some messages flow first, then start n4 while they keep flowing.
    await readUntil(members[0].inbox, () => rounds >= 3, 'three rounds of speaking before n4 starts');
    const n4 = await startClusterNode(3, nodes.map((n) => n.clusterAddr));
    try {
      await untilNodes([...nodes, n4], 4);
      const joinedAt = rounds;
      await readUntil(members[1].inbox, () => rounds >= joinedAt + 3, 'three more rounds once n4 joined');
      stop = true;
      await Promise.all(loops);
      if (loopErrors.length) throw loopErrors[0];
      t.diagnostic(`speaks: ${[...acked.values()].reduce((a, l) => a + l.length, 0)}, retried after unavailable: ${retries}`);

      for (const m of members) {
        const deadline = Date.now() + 30_000;
        while (!groups.every((g) => messagesOf(m.inbox, g).length >= acked.get(g).length)) {
          assert.ok(Date.now() < deadline, `the member on ${nodeName(m.node)} to get every acknowledged message: ${groups.map((g) => `${g}: acked ${acked.get(g).length}, got ${messagesOf(m.inbox, g).map((x) => x.seq).join(',')}`).join(' ;; ')}`);
          await m.inbox.poll(1);
        }
        await m.inbox.poll(0);
      }
      for (const g of groups) {
        const ref = messagesOf(members[0].inbox, g);
        for (const m of members.slice(1)) assert.deepEqual(messagesOf(m.inbox, g), ref, `group ${g}: the members on ${nodeName(members[0].node)} and ${nodeName(m.node)} differ`);
        assert.deepEqual(ref.map((x) => x.seq), ref.map((_, i) => i + 1), `group ${g}: seqs 1..n without gap, duplicate or reordering across the handover`);
        assert.equal(new Set(ref.map((x) => x.epoch)).size, 1, `group ${g}: the epoch changed at the handover: ${JSON.stringify(ref.map((x) => `${x.epoch}/${x.seq}`))}`);
        assert.equal(ref.length, acked.get(g).length, `group ${g}: ${ref.length} messages received, ${acked.get(g).length} acknowledged`);
        for (const a of acked.get(g)) {
          const got = ref.filter((x) => x.seq === a.seq);
          assert.ok(got.length === 1 && got[0].data.who === a.data.who && got[0].data.k === a.data.k, `group ${g}: acknowledged ${JSON.stringify(a)} but members got ${JSON.stringify(got)}`);
        }
        for (const s of speakers) {
          const ks = ref.filter((x) => x.data.who === s.who).map((x) => x.data.k);
          assert.deepEqual(ks, [...ks].sort((a, b) => a - b), `group ${g}: ${s.who}'s messages out of the order spoken`);
        }
      }

      // The new node serves every group: history, and a join with since recovers.
      const late = await enter(n4.url, uniq('late'));
      assert.ok(late.startsWith('n4_'), late);
      const lateInbox = new Inbox(n4.url, late);
      for (const g of groups) {
        const ref = messagesOf(members[0].inbox, g);
        const h = await call(n4.url, 'history', { session: members[2].inbox.session, group: g });
        assert.deepEqual(h.messages.map((x) => ({ seq: x.seq, epoch: x.epoch, data: x.data })), ref, `history of ${g} through n4`);
        const r = await call(n4.url, 'join', { session: late, group: g, since: { seq: 1, epoch: ref[0].epoch } });
        assert.equal(r.recovered, true, `join ${g} on n4 with since: ${JSON.stringify(r)}`);
        assert.equal(r.epoch, ref[0].epoch);
      }
      const deadline = Date.now() + 20_000;
      while (!groups.every((g) => messagesOf(lateInbox, g).length >= messagesOf(members[0].inbox, g).length - 1)) {
        assert.ok(Date.now() < deadline, 'the late session on n4 to recover every message after seq 1');
        await lateInbox.poll(1);
      }
      await lateInbox.poll(0);
      for (const g of groups) assert.deepEqual(messagesOf(lateInbox, g), messagesOf(members[0].inbox, g).slice(1), `recovered messages of ${g} on n4`);
    } finally {
      stop = true;
      await Promise.allSettled(loops);
      await stopAll([n4]);
    }
  }));
