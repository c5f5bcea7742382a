// Every method, through every node, for sessions entered on other nodes: the answers (and
// the events each session receives) equal what one node gives for the same calls.
//
// One scenario: bob enters on node T, ann on node O; every call for ann then goes through
// node V (V ≠ O), bob's events are read through O. It runs once on a single herald (the
// reference) and once for each of the 6 ordered pairs (O, V) of a three-node cluster.

import assert from 'node:assert/strict';
import {
  Inbox, describe, is, listen, publishJson, rpc, test, uniq, unknownSessionLike, useHerald,
} from '../blackbox/lib/herald.mjs';
import { useCluster } from './lib/cluster.mjs';
import { Normaliser, assertSeqOrder, eventKey } from './lib/scenario.mjs';

const EVENT_BOUND_MS = 10_000;

/** A command's answer as the scenario records it: the result, or {status, error code}. */
async function answer(url, method, params) {
  const r = await rpc(url, { id: 1, method, params });
  if (r.status === 200 && r.body && 'result' in r.body) return r.body.result;
  return { status: r.status, error: r.body?.error?.code };
}

async function published(url, body) {
  const r = await publishJson(url, body);
  return r.status === 200 ? r.body : { status: r.status, error: r.body?.error?.code };
}

/**
 * Runs the scenario with ann owned by `O`, bob by `T`, ann's calls through `V` (urls).
 * Returns {steps: [[label, normalised answer]], annEvents, bobEvents} (normalised, sorted
 * event keys) and asserts the per-run invariants (one epoch per group, seq order, eids).
 */
async function scenario({ O, V, T }) {
  const n = new Normaliser();
  const ann = n.name(uniq('ann'), 'ann');
  const bob = n.name(uniq('bob'), 'bob');
  const nobody = n.name(uniq('nobody'), 'nobody');
  const g0 = n.name(uniq('g0'), 'g0');
  const g1 = n.name(uniq('g1'), 'g1');
  const g2 = n.name(uniq('g2'), 'g2');
  const steps = [];
  const rec = (label, value, group) => {
    n.noteEpochsIn(value, label, group);
    steps.push([label, value]);
    return value;
  };

  const bobEnter = rec('enter bob [g0,g1] on T', await answer(T, 'enter', { user: bob, groups: [g0, g1] }));
  const B = n.name(bobEnter.session, '<bob-session>');
  const annEnter = rec('enter ann [g0] on O', await answer(O, 'enter', { user: ann, groups: [g0] }));
  const A = n.name(annEnter.session, '<ann-session>');
  assert.equal(typeof A, 'string', `enter ann: ${JSON.stringify(annEnter)}`);

  rec('join g1', await answer(V, 'join', { session: A, group: g1 }));
  rec('join g1 again', await answer(V, 'join', { session: A, group: g1 }));
  rec('presence g0', await answer(V, 'presence', { session: A, group: g0 }));
  rec('presence g1', await answer(V, 'presence', { session: A, group: g1 }));
  rec('speak g0', await answer(V, 'speak', { session: A, group: g0, data: { n: 1 } }));
  rec('speak [g0,g1]', await answer(V, 'speak', { session: A, groups: [g0, g1], data: { n: 2 } }));
  rec('bob speaks g1 on T', await answer(T, 'speak', { session: B, group: g1, data: { n: 3 } }));
  rec('publish g0 from srv', await published(V, { group: g0, data: { n: 4 }, from: 'srv' }));
  rec('publish [g0,g1]', await published(V, { groups: [g0, g1], data: { n: 5 } }));
  rec('send bob', await answer(V, 'send', { session: A, to: bob, data: { d: 1 } }));
  rec('send nobody', await answer(V, 'send', { session: A, to: nobody, data: { d: 0 } }));
  rec('sendUserMessage bob', await answer(V, 'sendUserMessage', { chatId: A, userId: bob, message: { d: 2 } }));
  rec('publish to user ann', await published(V, { user: ann, data: { d: 3 } }));
  rec('history g0', await answer(V, 'history', { session: A, group: g0 }), g0);
  rec('history g0 since 1 limit 1', await answer(V, 'history', { session: A, group: g0, since: 1, limit: 1 }), g0);
  rec('history g1', await answer(V, 'history', { session: A, group: g1 }), g1);
  rec('ping', await answer(V, 'ping', { session: A }));
  const batch = await rpc(V, [
    { id: 'a', method: 'presence', params: { session: A, group: g1 } },
    { id: 'b', method: 'ping', params: { session: A } },
  ]);
  rec('batch presence+ping', { status: batch.status, body: batch.body });
  rec('join a bad group name', await answer(V, 'join', { session: A, group: 'bad group!' }));
  rec('speak to a group not joined', await answer(V, 'speak', { session: A, group: g2, data: 1 }));
  rec('send without to', await answer(V, 'send', { session: A, data: 1 }));
  rec('presence of an unknown session of O', await answer(V, 'presence', { session: unknownSessionLike(A), group: g0 }));

  // ann's events, read through V.
  const annInbox = new Inbox(V, A);
  const annMust = [
    is.message(g0, { n: 1 }), is.message(g0, { n: 2 }), is.message(g1, { n: 2 }), is.message(g1, { n: 3 }),
    is.message(g0, { n: 4 }), is.message(g0, { n: 5 }), is.message(g1, { n: 5 }), is.direct('server', { d: 3 }),
  ];
  for (const pred of annMust) await annInbox.until(pred, { boundMs: EVENT_BOUND_MS, what: 'every event ann must get' });
  await annInbox.poll(0);

  rec('leave g1', await answer(V, 'leave', { session: A, group: g1 }));
  rec('leave g1 again', await answer(V, 'leave', { session: A, group: g1 }));
  rec('exit', await answer(V, 'exit', { session: A }));
  rec('ping after exit', await answer(V, 'ping', { session: A }));
  const l = await listen(V, A, annInbox.cursor, 0);
  rec('GET /v1/listen after exit', { status: l.status, error: l.body?.error?.code });

  // bob's events, read through O (not bob's node).
  const bobInbox = new Inbox(O, B);
  for (const pred of [
    is.join(g0, ann), is.join(g1, ann), is.message(g0, { n: 1 }), is.message(g1, { n: 2 }), is.message(g1, { n: 5 }),
    is.direct(ann, { d: 1 }), is.direct(ann, { d: 2 }), is.leave(g1, ann, 'leave'), is.leave(g0, ann),
  ]) await bobInbox.until(pred, { boundMs: EVENT_BOUND_MS, what: 'every event bob must get' });
  await bobInbox.poll(0);

  for (const [who, inbox] of [['ann', annInbox], ['bob', bobInbox]]) {
    assertSeqOrder(inbox.events, `${who}'s events`);
    n.noteEpochsIn(inbox.events, `${who}'s events`);
  }
  n.assertOneEpochPerGroup();
  return {
    steps: steps.map(([label, v]) => [label, n.norm(v)]),
    annEvents: annInbox.events.map((e) => eventKey(n, e)).sort(),
    bobEvents: bobInbox.events.map((e) => eventKey(n, e)).sort(),
    annRaw: annInbox.events.map((e) => n.norm(e)),
    bobRaw: bobInbox.events.map((e) => n.norm(e)),
  };
}

describe('every method from every node', () => {
  const single = useHerald([]);
  const nodes = useCluster(3);
  let reference;

  test('the reference: the scenario on one plain node', async () => {
    reference = await scenario({ O: single.url, V: single.url, T: single.url });
    // Sanity of the reference itself, so that a broken single node cannot hide a cluster bug.
    const byLabel = Object.fromEntries(reference.steps);
    assert.deepEqual(byLabel['send bob'], { delivered: 1 });
    assert.deepEqual(byLabel['send nobody'], { delivered: 0 });
    assert.deepEqual(byLabel['publish [g0,g1]'], { groups: { g0: { seq: 4 }, g1: { seq: 3 } } });
    assert.deepEqual(byLabel['ping after exit'], { status: 404, error: 'unknown_session' });
  });

  for (let o = 0; o < 3; o++) {
    for (let v = 0; v < 3; v++) {
      if (o === v) continue;
      const t = 3 - o - v;
      test(`ann on n${o + 1}, her calls through n${v + 1}, bob on n${t + 1}: the same answers and events as one node`, async () => {
        assert.ok(reference, 'the reference run failed');
        const got = await scenario({ O: nodes[o].url, V: nodes[v].url, T: nodes[t].url });
        for (let i = 0; i < reference.steps.length; i++) {
          assert.deepEqual(got.steps[i], reference.steps[i], `step "${reference.steps[i][0]}" differs from one node's answer`);
        }
        for (const who of ['ann', 'bob']) {
          const [mine, ref] = [got[`${who}Events`], reference[`${who}Events`]];
          const missing = ref.filter((e) => !mine.includes(e));
          const extra = mine.filter((e) => !ref.includes(e));
          assert.deepEqual(mine, ref, `${who}'s events differ from one node's: missing ${JSON.stringify(missing)}; extra ${JSON.stringify(extra)}; received ${JSON.stringify(got[`${who}Raw`])}`);
        }
      });
    }
  }

  test('presence and history of one group read through every node are identical', async () => {
    const g = uniq('g');
    const sessions = [];
    for (const [i, node] of nodes.entries()) sessions.push((await answer(node.url, 'enter', { user: uniq(`u${i}`), groups: [g] })).session);
    for (const [i, node] of nodes.entries()) await answer(node.url, 'speak', { session: sessions[i], group: g, data: { from: i } });
    const views = [];
    for (const node of nodes) {
      for (const s of sessions) {
        const p = await answer(node.url, 'presence', { session: s, group: g });
        const h = await answer(node.url, 'history', { session: s, group: g });
        views.push({ node: node.nodeName, session: s, count: p.count, users: [...(p.users ?? [])].sort(), history: h });
      }
    }
    for (const view of views) {
      assert.equal(view.count, 3, `presence count through ${view.node} for ${view.session}: ${JSON.stringify(view)}`);
      assert.deepEqual({ users: view.users, history: view.history }, { users: views[0].users, history: views[0].history }, `through ${view.node} for ${view.session}`);
    }
    assert.deepEqual(views[0].history.messages.map((m) => m.seq), [1, 2, 3]);
  });
});
