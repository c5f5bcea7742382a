// Losing a node (SIGKILL) while the others keep delivering. Nodes run with
// --peer-heartbeat 1 --peer-timeout 2, so the bound stated for healing is HEAL_BOUND_MS
// (peer-timeout 2 s + 8 s margin): within it the survivors count 2 nodes, the dead node's
// users have left every group (presence and leave events) and its sessions answer
// unknown_session. Its clients enter on a survivor and join with `since`: with
// --group-replicas 2 every group keeps its epoch (recovered:true, every missed message),
// whichever node was its home — several groups are used, so some are homed on the dead
// node; with --group-replicas 1, a group recovers exactly when its home survived (found out
// by trying: recovered:true keeps the epoch, recovered:false brings a new one).

import assert from 'node:assert/strict';
import {
  Inbox, call, enter, rpc, test, uniq, unknownSessionLike,
} from '../blackbox/lib/herald.mjs';
import {
  FAST_FAILURE, HEAL_BOUND_MS, freezeNode, killNode, logEntries, nodeName, scrape, shown, startClusterNode, stopAll,
  until, untilLog, untilNodes, valueOf, withCluster,
} from './lib/cluster.mjs';

const GROUPS = 8;

/**
 * speak, retried while the answer is `unavailable` (503: a group whose order cannot be
 * decided right now, e.g. while its home is being replaced), bounded. Any other error
 * fails. Returns {seq, attempts}.
 */
async function speakRetrying(url, session, group, data, { boundMs = HEAL_BOUND_MS + 5_000 } = {}) {
  const deadline = Date.now() + boundMs;
  let attempts = 0;
  for (;;) {
    attempts += 1;
    const r = await rpc(url, { id: 1, method: 'speak', params: { session, group, data } }, { boundMs: 15_000 });
    if (r.status === 200 && r.body.result) return { seq: r.body.result.groups[group].seq, attempts };
    assert.ok(r.status === 503 && r.body.error?.code === 'unavailable', `speak ${JSON.stringify(data)} into ${group} through ${url}: ${shown(r)}`);
    assert.ok(Date.now() < deadline, `speak into ${group} still unavailable after ${boundMs} ms: ${shown(r)}`);
  }
}

/** The message events of `group` in an inbox, as comparable records. */
const messagesOf = (inbox, group) =>
  inbox.events.filter((e) => e.type === 'message' && e.group === group).map((e) => ({ seq: e.seq, epoch: e.epoch, data: e.data }));

/** Polls `inbox` until `done()` holds (bounded). */
async function pollUntil(inbox, done, what, { boundMs = 20_000, describe } = {}) {
  const deadline = Date.now() + boundMs;
  while (!done()) {
    const seen = describe ? describe() : JSON.stringify(inbox.events).slice(0, 3000);
    assert.ok(Date.now() < deadline, `${what} within ${boundMs} ms; session ${inbox.session} got ${seen}`);
    await inbox.poll(1);
  }
}

/**
 * The common setup: groups g[0..GROUPS), members m1@n1, m2@n2, m3@n3 in every group, speakers
 * s1@n1 and s2@n2, plus `vic` on n3 in every group. Speaks `rounds` rounds (each speaker once
 * per group) and waits until every member has them all. Returns the state.
 */
async function setup(nodes, rounds) {
  const [n1, n2, n3] = nodes;
  const groups = Array.from({ length: GROUPS }, (_, i) => uniq(`fo${i}`));
  const users = { m1: uniq('m1'), m2: uniq('m2'), m3: uniq('m3'), vic: uniq('vic'), s1: uniq('s1'), s2: uniq('s2') };
  const st = { groups, users, n1, n2, n3, said: new Map(groups.map((g) => [g, []])) };
  st.m1 = { session: await enter(n1.url, users.m1, groups) };
  st.m2 = { session: await enter(n2.url, users.m2, groups) };
  st.m3 = { session: await enter(n3.url, users.m3, groups) };
  st.vic = await enter(n3.url, users.vic, groups);
  st.s1 = await enter(n1.url, users.s1, groups);
  st.s2 = await enter(n2.url, users.s2, groups);
  st.m1.inbox = new Inbox(n1.url, st.m1.session);
  st.m2.inbox = new Inbox(n2.url, st.m2.session);
  st.m3.inbox = new Inbox(n3.url, st.m3.session);
  st.speakRound = async (tag) => {
    await Promise.all(
      [
        [n1, st.s1, 's1'],
        [n2, st.s2, 's2'],
      ].map(async ([node, session, who]) => {
        for (const g of groups) {
          const data = { who, tag };
          const r = await speakRetrying(node.url, session, g, data);
          st.said.get(g).push({ seq: r.seq, data });
        }
      }),
    );
  };
  for (let r = 0; r < rounds; r++) await st.speakRound(`before${r}`);
  const total = 2 * rounds;
  for (const m of [st.m1, st.m2, st.m3]) {
    await pollUntil(m.inbox, () => groups.every((g) => messagesOf(m.inbox, g).length >= total), `every member to get ${total} messages per group`, { describe: () => seqSummary(st, m.inbox) });
  }
  // What m3 (on n3, about to die) saw last, per group: its `since`.
  st.since = new Map(groups.map((g) => {
    const last = messagesOf(st.m3.inbox, g).at(-1);
    return [g, { seq: last.seq, epoch: last.epoch }];
  }));
  return st;
}

/** Per group: the seqs acknowledged to the speakers and the (epoch-tagged) seqs an inbox holds. */
function seqSummary(st, inbox) {
  return st.groups
    .map((g) => `${g}: acknowledged ${st.said.get(g).map((s) => s.seq).join(',')} | received ${messagesOf(inbox, g).map((m) => `${m.epoch.slice(0, 4)}/${m.seq}`).join(',')}`)
    .join(' ;; ');
}

/** Asserts the survivors' views of every group: one epoch, seqs consecutive, every acknowledged speak once, identical. */
function assertSurvivorsAgree(st, { sameEpochAsBefore }) {
  for (const g of st.groups) {
    const a = messagesOf(st.m1.inbox, g);
    const b = messagesOf(st.m2.inbox, g);
    assert.deepEqual(b, a, `group ${g}: the members on n1 and n2 saw different messages`);
    const seqs = a.map((m) => m.seq);
    const byEpochSeq = new Set(a.map((m) => `${m.epoch}/${m.seq}`));
    assert.equal(byEpochSeq.size, a.length, `group ${g}: an (epoch, seq) came twice: ${JSON.stringify(a)}`);
    for (let i = 1; i < seqs.length; i++) {
      // Within one epoch seqs run by 1; a new epoch (the group's history was lost) restarts them.
      if (a[i].epoch === a[i - 1].epoch) assert.equal(seqs[i], seqs[i - 1] + 1, `group ${g}: seq ${seqs[i - 1]} then ${seqs[i]}: ${JSON.stringify(a)}`);
    }
    if (sameEpochAsBefore) assert.equal(new Set(a.map((m) => m.epoch)).size, 1, `group ${g} changed its epoch though fewer than --group-replicas nodes were lost: ${JSON.stringify(a)}`);
    for (const s of st.said.get(g)) {
      const got = a.filter((m) => m.seq === s.seq && m.data.who === s.data.who && m.data.tag === s.data.tag);
      assert.equal(got.length, 1, `group ${g}: the speak ${JSON.stringify(s)} (acknowledged) reached the members ${got.length} times: ${JSON.stringify(a)}`);
    }
  }
}

test('SIGKILL of n3 (home of some of the groups): n1 and n2 keep delivering, presence heals, n3\'s client re-enters and recovers every group', { timeout: 90_000 }, () =>
  withCluster(3, [...FAST_FAILURE, '--history', '500'], async (nodes) => {
    const st = await setup(nodes, 3);
    const [n1, n2, n3] = nodes;

    await killNode(n3);
    // Keep talking while the cluster notices: speaks of the survivors must succeed (after
    // retries while `unavailable`) and reach the surviving members.
    await st.speakRound('during0');
    await st.speakRound('during1');

    // Membership: within the stated bound both survivors count 2 nodes and n3 down.
    await untilNodes([n1, n2], 2, { boundMs: HEAL_BOUND_MS });
    for (const node of [n1, n2]) {
      const m = await scrape(node);
      assert.equal(valueOf(m, 'herald_cluster_peer_up', { peer: 'n3' }), 0, `${nodeName(node)}: herald_cluster_peer_up{peer="n3"}`);
    }
    // Presence heals: n3's users (m3, vic) are no longer members anywhere.
    const alive = [st.users.m1, st.users.m2, st.users.s1, st.users.s2].sort();
    for (const node of [n1, n2]) {
      for (const g of st.groups) {
        let last;
        await until(
          async () => {
            last = await call(node.url, 'presence', { session: st.m1.session, group: g });
            return JSON.stringify([...last.users].sort()) === JSON.stringify(alive) && last.count === alive.length;
          },
          { boundMs: HEAL_BOUND_MS, what: `presence of ${g} through ${nodeName(node)} without n3's users`, describe: () => JSON.stringify(last) },
        );
      }
    }
    await st.speakRound('after0');
    await st.speakRound('after1');
    const expected = (g) => st.said.get(g).length;
    for (const m of [st.m1, st.m2]) {
      await pollUntil(m.inbox, () => st.groups.every((g) => messagesOf(m.inbox, g).length >= expected(g)), 'the survivors to get every acknowledged message', { describe: () => seqSummary(st, m.inbox) });
      // The dead node's users left every group, announced to the survivors.
      const missingLeaves = () =>
        st.groups.flatMap((g) => [st.users.m3, st.users.vic].filter((user) => !m.inbox.events.some((e) => e.type === 'leave' && e.group === g && e.user === user)).map((user) => `${user}@${g}`));
      const deadline = Date.now() + HEAL_BOUND_MS;
      while (missingLeaves().length) {
        assert.ok(Date.now() < deadline, `the leaves of n3's users (m3, vic) in every group, at ${m.inbox.session}: missing ${missingLeaves().join(', ')}; leaves seen: ${JSON.stringify(m.inbox.events.filter((e) => e.type === 'leave'))}`);
        await m.inbox.poll(1);
      }
      await m.inbox.poll(0);
    }
    assertSurvivorsAgree(st, { sameEpochAsBefore: true });
    for (const g of st.groups) {
      for (const user of [st.users.m3, st.users.vic]) {
        const leaves = st.m1.inbox.events.filter((e) => e.type === 'leave' && e.group === g && e.user === user);
        assert.equal(leaves.length, 1, `one leave of ${user} in ${g}: ${JSON.stringify(leaves)}`);
        assert.ok(['leave', 'exit', 'expired'].includes(leaves[0].reason), `leave reason: ${JSON.stringify(leaves[0])}`);
      }
    }

    // n3's client: its session answers unknown_session through the survivors.
    for (const node of [n1, n2]) {
      let last;
      await until(
        async () => {
          last = await rpc(node.url, { id: 1, method: 'ping', params: { session: st.m3.session } });
          return last.status === 404 && last.body.error?.code === 'unknown_session';
        },
        { boundMs: HEAL_BOUND_MS, what: `n3's session to be unknown_session through ${nodeName(node)}`, describe: () => shown(last) },
      );
    }
    // It enters on n1 and joins every group with since = what it saw last.
    const back = await enter(n1.url, st.users.m3);
    assert.ok(back.startsWith('n1_'), back);
    const inbox = new Inbox(n2.url, back);
    for (const g of st.groups) {
      const since = st.since.get(g);
      const r = await call(n2.url, 'join', { session: back, group: g, since });
      assert.equal(r.recovered, true, `join ${g} since ${JSON.stringify(since)}: --group-replicas 2 and one node lost must recover: ${JSON.stringify(r)}`);
      assert.equal(r.epoch, since.epoch, `join ${g}: the epoch changed though its history was held by 2 nodes`);
      assert.equal(r.seq, st.said.get(g).length, `join ${g}: seq is the group's last`);
    }
    for (const g of st.groups) {
      const since = st.since.get(g);
      const want = messagesOf(st.m1.inbox, g).filter((m) => m.seq > since.seq);
      await pollUntil(inbox, () => messagesOf(inbox, g).length >= want.length, `the missed messages of ${g}`);
    }
    await inbox.poll(0);
    for (const g of st.groups) {
      const since = st.since.get(g);
      const want = messagesOf(st.m1.inbox, g).filter((m) => m.seq > since.seq);
      assert.deepEqual(messagesOf(inbox, g), want, `the recovered messages of ${g}: every one after seq ${since.seq}, once, in order`);
    }
    // And it keeps receiving.
    await call(n2.url, 'speak', { session: st.s2, group: st.groups[0], data: 'welcome back' });
    await inbox.until((e) => e.type === 'message' && e.data === 'welcome back', { what: 'a new message after recovery' });
  }));

test('--group-replicas 1, SIGKILL of n3: each group either kept its epoch and recovers (home survived) or has a new epoch and recovered:false (home was n3)', { timeout: 90_000 }, (t) =>
  withCluster(3, [...FAST_FAILURE, '--history', '500', '--group-replicas', '1'], async (nodes) => {
    const st = await setup(nodes, 2);
    const [n1, n2, n3] = nodes;
    await killNode(n3);
    await untilNodes([n1, n2], 2, { boundMs: HEAL_BOUND_MS });
    await st.speakRound('after0');
    for (const m of [st.m1, st.m2]) {
      await pollUntil(m.inbox, () => st.groups.every((g) => messagesOf(m.inbox, g).length >= st.said.get(g).length), 'the survivors to get every acknowledged message', { describe: () => seqSummary(st, m.inbox) });
      await m.inbox.poll(0);
    }
    assertSurvivorsAgree(st, { sameEpochAsBefore: false });
    const back = await enter(n2.url, st.users.m3);
    const inbox = new Inbox(n1.url, back);
    const outcome = { kept: [], lost: [] };
    for (const g of st.groups) {
      const since = st.since.get(g);
      const r = await call(n1.url, 'join', { session: back, group: g, since });
      assert.equal(typeof r.recovered, 'boolean', `join with since answers recovered: ${JSON.stringify(r)}`);
      const after = messagesOf(st.m1.inbox, g).filter((m) => m.seq > since.seq && m.epoch === since.epoch);
      if (r.recovered) {
        assert.equal(r.epoch, since.epoch, `${g}: recovered:true with another epoch: ${JSON.stringify(r)}`);
        outcome.kept.push({ g, want: after });
      } else {
        assert.notEqual(r.epoch, since.epoch, `${g}: recovered:false although the epoch is the one the client had: ${JSON.stringify(r)}`);
        // The members on n1/n2 saw the new epoch's messages.
        const newer = messagesOf(st.m1.inbox, g).filter((m) => m.epoch !== since.epoch);
        assert.ok(newer.every((m) => m.epoch === r.epoch), `${g}: members saw messages of an epoch other than the group's current one: ${JSON.stringify(newer)} vs ${r.epoch}`);
        outcome.lost.push(g);
      }
    }
    t.diagnostic(`groups homed on surviving nodes (kept): ${outcome.kept.length}; on n3 (lost): ${outcome.lost.length}`);
    for (const { g, want } of outcome.kept) {
      await pollUntil(inbox, () => messagesOf(inbox, g).length >= want.length, `the missed messages of ${g}`);
    }
    await inbox.poll(0);
    for (const { g, want } of outcome.kept) assert.deepEqual(messagesOf(inbox, g), want, `${g}: recovered messages`);
    for (const g of outcome.lost) assert.deepEqual(messagesOf(inbox, g), [], `${g}: recovered:false queues nothing of the old epoch`);
  }));

test('a node restarted under the same name after SIGKILL is a new incarnation: it joins again, and the old sessions stay unknown', { timeout: 60_000 }, () =>
  withCluster(3, FAST_FAILURE, async (nodes) => {
    const [n1, n2, n3] = nodes;
    const g = uniq('g');
    const old = await enter(n3.url, uniq('old'), [g]);
    const member = await enter(n1.url, uniq('member'), [g]);
    const oldIncarnation = logEntries(n1).find((e) => e.msg === 'cluster: node joined' && e.peer === 'n3')?.incarnation;
    await killNode(n3);
    await untilNodes([n1, n2], 2, { boundMs: HEAL_BOUND_MS });
    const again = await startClusterNode(2, [n1.clusterAddr, n2.clusterAddr], { args: FAST_FAILURE });
    try {
      await untilNodes([n1, n2, again], 3);
      const joined = await untilLog(n1, (e) => e.msg === 'cluster: node joined' && e.peer === 'n3' && e.incarnation !== oldIncarnation, { what: 'n1 logging the new incarnation of n3' });
      assert.notEqual(joined.incarnation, oldIncarnation);
      // The old n3 session is gone for good; the unknown one with the same prefix too.
      for (const node of [n1, n2, again]) {
        const r = await rpc(node.url, { id: 1, method: 'ping', params: { session: old } });
        assert.equal(r.status, 404, `old n3 session through ${nodeName(node)}: ${shown(r)}`);
        assert.equal(r.body.error?.code, 'unknown_session');
      }
      const r = await rpc(again.url, { id: 1, method: 'ping', params: { session: unknownSessionLike(old) } });
      assert.equal(r.body.error?.code, 'unknown_session', shown(r));
      // The new n3 serves: a session there speaks to the member on n1.
      const fresh = await enter(again.url, uniq('fresh'), [g]);
      assert.ok(fresh.startsWith('n3_'), fresh);
      await call(n2.url, 'speak', { session: fresh, group: g, data: 'from the new n3' });
      const inbox = new Inbox(n2.url, member);
      await inbox.until((e) => e.type === 'message' && e.data === 'from the new n3', { what: 'the new n3 speaking to n1' });
    } finally {
      await stopAll([again]);
    }
  }));

test('a frozen node (SIGSTOP) is dropped after --peer-timeout: the others count it out and its users leave', { timeout: 60_000 }, () =>
  withCluster(3, FAST_FAILURE, async (nodes) => {
    const [n1, n2, n3] = nodes;
    const g = uniq('g');
    const frozenUser = uniq('frozen');
    const watcherUser = uniq('watch');
    const watcher = await enter(n1.url, watcherUser, [g]);
    await enter(n3.url, frozenUser, [g]);
    const inbox = new Inbox(n2.url, watcher);
    await inbox.until((e) => e.type === 'join' && e.user === frozenUser, { what: "the frozen user's join" });
    const resume = freezeNode(n3);
    try {
      await untilNodes([n1, n2], 2, { boundMs: HEAL_BOUND_MS });
      await inbox.until((e) => e.type === 'leave' && e.group === g && e.user === frozenUser, { what: "the frozen node's user to leave", boundMs: HEAL_BOUND_MS });
      const p = await call(n2.url, 'presence', { session: watcher, group: g });
      assert.deepEqual(p.users, [watcherUser], `presence with n3 frozen and dropped: ${JSON.stringify(p)}`);
      // The survivors still deliver.
      await call(n2.url, 'speak', { session: watcher, group: g, data: 'still here' });
      await inbox.until((e) => e.type === 'message' && e.data === 'still here', { what: 'delivery with n3 frozen' });
    } finally {
      resume();
    }
  }));
