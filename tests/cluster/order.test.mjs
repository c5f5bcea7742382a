// One order for a group across the cluster: speakers on three nodes (and POST /v1/publish
// through each node) talk into one group at the same time; members on every node receive
// the same sequence — identical lists, seq 1..N with no gap and no duplicate, each
// speaker's messages in the order it spoke them — and history through every node agrees.

import assert from 'node:assert/strict';
import { Inbox, call, describe, enter, publishJson, test, uniq } from '../blackbox/lib/herald.mjs';
import { useCluster } from './lib/cluster.mjs';

const PER_SPEAKER = 40;
const BOUND_MS = 30_000;

/** Long-polls `inbox` until it holds `count` messages of `group` (bounded), then once more. */
export async function untilMessages(inbox, group, count, { boundMs = BOUND_MS } = {}) {
  const deadline = Date.now() + boundMs;
  const messages = () => inbox.events.filter((e) => e.type === 'message' && e.group === group);
  while (messages().length < count) {
    if (Date.now() > deadline) {
      assert.fail(`session ${inbox.session} (through ${inbox.url}) got ${messages().length} of ${count} messages of ${group} within ${boundMs} ms; seqs: ${messages().map((e) => e.seq).join(',')}`);
    }
    await inbox.poll(1);
  }
  await inbox.poll(0); // anything beyond count (a duplicate) shows up here
  return messages();
}

describe('one order for concurrent speakers on three nodes', () => {
  const nodes = useCluster(3, { args: ['--history', '500'] });

  test('members on every node see identical lists: seq 1..N, no gap, no duplicate, each speaker in its own order', async () => {
    const g = uniq('g');
    // Two members per node, each read through the next node.
    const members = [];
    for (const [i, node] of nodes.entries()) {
      for (let k = 0; k < 2; k++) {
        const session = await enter(node.url, uniq(`m${i}${k}`), [g]);
        members.push({ name: `member ${k} of ${node.nodeName}`, inbox: new Inbox(nodes[(i + 1) % 3].url, session) });
      }
    }
    const speakers = [];
    for (const [i, node] of nodes.entries()) speakers.push({ node, user: `spk${i + 1}`, session: await enter(node.url, uniq(`spk${i + 1}`), [g]) });

    // Each speaker speaks PER_SPEAKER times, one speak in flight at a time; the three speakers
    // and a publisher (POST /v1/publish rotating over the nodes) run at the same time.
    const replies = []; // {data, seq}
    const speakLoops = speakers.map(async (s, i) => {
      for (let k = 0; k < PER_SPEAKER; k++) {
        const data = { s: i + 1, k };
        const r = await call(s.node.url, 'speak', { session: s.session, group: g, data });
        replies.push({ data, seq: r.groups?.[g]?.seq });
      }
    });
    const publishLoop = (async () => {
      for (let k = 0; k < PER_SPEAKER; k++) {
        const data = { s: 'pub', k };
        const r = await publishJson(nodes[k % 3], { group: g, data, from: 'pub' });
        assert.equal(r.status, 200, `publish through ${nodes[k % 3].nodeName}: HTTP ${r.status} ${r.text}`);
        replies.push({ data, seq: r.body.groups?.[g]?.seq });
      }
    })();
    await Promise.all([...speakLoops, publishLoop]);
    const total = 4 * PER_SPEAKER;

    // The seqs the speakers were given: exactly 1..total, each once.
    const given = replies.map((r) => r.seq).sort((a, b) => a - b);
    assert.deepEqual(given, Array.from({ length: total }, (_, i) => i + 1), 'the seqs answered to speak/publish must be 1..N, each once');
    const keyOf = (data) => `${data?.s}/${data?.k}`; // the server may re-serialise data with other key order
    const seqOf = new Map(replies.map((r) => [keyOf(r.data), r.seq]));

    const lists = [];
    for (const m of members) {
      const got = await untilMessages(m.inbox, g, total);
      const list = got.map((e) => ({ seq: e.seq, epoch: e.epoch, from: e.from, data: e.data }));
      const seqs = list.map((e) => e.seq);
      assert.deepEqual(seqs, Array.from({ length: total }, (_, i) => i + 1), `${m.name}: seqs must be 1..${total} in order, no gap or duplicate`);
      assert.equal(new Set(list.map((e) => e.epoch)).size, 1, `${m.name}: one epoch`);
      for (const e of list) assert.equal(e.seq, seqOf.get(keyOf(e.data)), `${m.name}: message ${JSON.stringify(e.data)} carries seq ${e.seq}, its speak was answered another seq`);
      for (const who of ['1', '2', '3', 'pub']) {
        const ks = list.filter((e) => String(e.data.s) === who).map((e) => e.data.k);
        assert.deepEqual(ks, Array.from({ length: PER_SPEAKER }, (_, i) => i), `${m.name}: speaker ${who}'s messages in the order spoken`);
      }
      lists.push({ name: m.name, list });
    }
    for (const l of lists.slice(1)) assert.deepEqual(l.list, lists[0].list, `${l.name} and ${lists[0].name} saw different orders`);

    // The speakers are members too: the same list.
    for (const s of speakers) {
      const inbox = new Inbox(s.node.url, s.session);
      const got = await untilMessages(inbox, g, total);
      assert.deepEqual(got.map((e) => ({ seq: e.seq, epoch: e.epoch, from: e.from, data: e.data })), lists[0].list, `speaker ${s.user} saw another order`);
    }

    // History through every node: the same messages in the same order.
    for (const node of nodes) {
      const h = await call(node.url, 'history', { session: members[0].inbox.session, group: g });
      assert.deepEqual(h.messages.map((e) => ({ seq: e.seq, epoch: e.epoch, from: e.from, data: e.data })), lists[0].list, `history through ${node.nodeName}`);
      assert.equal(h.epoch, lists[0].list[0].epoch, `history epoch through ${node.nodeName}`);
    }
  });

  test('a speak to several groups homed anywhere gets one seq per group, and each group keeps one order', async () => {
    const groups = Array.from({ length: 6 }, () => uniq('multi'));
    const sessions = [];
    for (const node of nodes) sessions.push(await enter(node.url, uniq('multi'), groups));
    await Promise.all(
      sessions.map(async (session, i) => {
        for (let k = 0; k < 10; k++) {
          const r = await call(nodes[i].url, 'speak', { session, groups, data: { i, k } });
          assert.deepEqual(Object.keys(r.groups).sort(), [...groups].sort(), JSON.stringify(r));
        }
      }),
    );
    const per = [];
    for (const [i, session] of sessions.entries()) {
      const inbox = new Inbox(nodes[(i + 2) % 3].url, session);
      const lists = {};
      for (const g of groups) lists[g] = (await untilMessages(inbox, g, 30)).map((e) => `${e.seq}:${JSON.stringify(e.data)}`);
      per.push(lists);
    }
    for (const g of groups) {
      assert.deepEqual(per[0][g].map((x) => Number(x.split(':')[0])), Array.from({ length: 30 }, (_, i) => i + 1), `group ${g}: seqs 1..30`);
      for (const p of per.slice(1)) assert.deepEqual(p[g], per[0][g], `group ${g}: members on different nodes saw different orders`);
    }
  });
});
