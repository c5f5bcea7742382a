// Every transport against a node that does not own the session: long-poll (and its
// supersession), JSONP, SSE with Last-Event-ID resumed through another node, the SSE
// implicit enter, WebSocket attach and forever-frame. A client that hops between nodes
// and transports, always resuming with its last eid, gets every event exactly once, in
// order.

import assert from 'node:assert/strict';
import WebSocket from 'ws';
import {
  Collector, Inbox, bounded, call, describe, enter, listen, openForeverFrame, openSse, test, uniq,
} from '../blackbox/lib/herald.mjs';
import { useCluster } from './lib/cluster.mjs';

const lastIs = (n) => (e) => e && e.type === 'message' && e.data === n;

/**
 * A session `session` owned by `owner`, in group `g`, fed by a speaker on `speakerNode`.
 * `take` records what a leg delivered; `check` asserts eids 1..n and every message once,
 * in order.
 */
async function journey(owner, speakerNode, user) {
  const g = uniq('g');
  const session = await enter(owner.url, user, [g]);
  const speaker = await enter(speakerNode.url, `${user}-speaker`, [g]);
  // The session's own join and the speaker's: consume them first so that the legs see only
  // messages (their number is not what this file tests: methods.test.mjs compares them).
  const inbox = new Inbox(owner.url, session);
  await inbox.until((e) => e.type === 'join' && e.user === `${user}-speaker`, { what: "the speaker's join" });
  const j = {
    g,
    session,
    said: 0,
    received: [...inbox.events],
    cursor: inbox.cursor,
    legs: [`setup: eids ${inbox.events.map((e) => e.eid).join(',')}`],
    async speak(k) {
      for (let i = 0; i < k; i++) {
        j.said += 1;
        await call(speakerNode.url, 'speak', { session: speaker, group: g, data: j.said });
      }
    },
    take(leg, events) {
      const numbered = events.filter((e) => e && typeof e.eid === 'number');
      j.legs.push(`${leg}: eids ${numbered.map((e) => e.eid).join(',')}`);
      j.received.push(...numbered);
      if (numbered.length) j.cursor = numbered.at(-1).eid;
    },
    check() {
      const eids = j.received.map((e) => e.eid);
      const legs = j.legs.join(' | ');
      assert.deepEqual(eids, eids.map((_, i) => i + 1), `eids must run 1..n with no gap and no duplicate: ${legs}`);
      const data = j.received.filter((e) => e.type === 'message').map((e) => e.data);
      assert.deepEqual(data, Array.from({ length: j.said }, (_, i) => i + 1), `every message exactly once, in order: ${legs}`);
    },
  };
  return j;
}

async function viaLongPoll(node, j, more) {
  const inbox = new Inbox(node.url, j.session, { cursor: j.cursor });
  await inbox.until(lastIs(j.said), { what: `message ${j.said} by long-poll through ${node.nodeName}` });
  await j.speak(more);
  await inbox.until(lastIs(j.said), { what: `message ${j.said} by long-poll through ${node.nodeName}` });
  j.take(`long-poll@${node.nodeName}`, inbox.events);
}

/** SSE through `node`; resuming by the Last-Event-ID header (the browser's way) when `byHeader`. */
async function viaSse(node, j, more, { byHeader = false } = {}) {
  const s = byHeader
    ? await openSse(node, '', { headers: { 'Last-Event-ID': `${j.session}.${j.cursor}` } })
    : await openSse(node, { session: j.session, cursor: j.cursor });
  const what = `message ${j.said} by SSE through ${node.nodeName}${byHeader ? ' (Last-Event-ID)' : ''}`;
  try {
    assert.equal(s.status, 200, s.describe());
    await s.untilEvent((e) => lastIs(j.said)(e.json), { what });
    await j.speak(more);
    await s.untilEvent((e) => lastIs(j.said)(e.json), { what });
  } finally {
    s.close();
  }
  for (const e of s.events) if (e.json?.eid !== undefined) assert.equal(e.id, `${j.session}.${e.json.eid}`, 'SSE id is <session>.<eid>');
  j.take(`sse@${node.nodeName}`, s.events.map((e) => e.json));
}

async function viaForeverFrame(node, j, more) {
  const f = await openForeverFrame(node, { session: j.session, callback: 'cb', cursor: j.cursor });
  const what = `message ${j.said} by forever-frame through ${node.nodeName}`;
  try {
    assert.equal(f.status, 200, f.describe());
    await f.untilCall(lastIs(j.said), { what });
    await j.speak(more);
    await f.untilCall(lastIs(j.said), { what });
  } finally {
    f.close();
  }
  j.take(`forever-frame@${node.nodeName}`, f.calls.map((c) => c.json));
}

/** Opens /v1/ws (herald.v1) on `node`: {ws, frames: Collector of {text, json}}. */
async function openWs(node) {
  const ws = new WebSocket(`ws://${node.host}:${node.port}/v1/ws`, 'herald.v1');
  const frames = new Collector(`WebSocket frames from ${node.nodeName}`);
  ws.on('message', (data) => {
    const text = data.toString('utf8');
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    frames.push({ text, json });
  });
  ws.on('error', () => {});
  const opened = await bounded(
    new Promise((resolve) => {
      ws.once('open', () => resolve(ws.protocol === 'herald.v1'));
      ws.once('close', () => resolve(false));
      ws.once('unexpected-response', (_req, res) => {
        res.resume();
        resolve(false);
      });
    }),
    10_000,
    'the WebSocket upgrade',
  );
  if (!opened) {
    ws.terminate();
    assert.fail(`${node.nodeName} refused the herald.v1 WebSocket upgrade`);
  }
  return { ws, frames };
}

async function viaWebSocket(node, j, more) {
  const { ws, frames } = await openWs(node);
  const what = `message ${j.said} by WebSocket through ${node.nodeName}`;
  try {
    ws.send(JSON.stringify({ id: 'a1', method: 'attach', params: { session: j.session, cursor: j.cursor } }));
    const reply = await frames.until((xs) => xs.find((x) => x.json?.id === 'a1'), { what: 'the attach reply' });
    assert.deepEqual(reply.json.result, { session: j.session, cursor: j.cursor }, reply.text);
    const events = () => frames.items.map((x) => x.json).filter((e) => e && typeof e.type === 'string');
    await frames.until(() => events().some(lastIs(j.said)), { what });
    await j.speak(more);
    await frames.until(() => events().some(lastIs(j.said)), { what });
    // A command for the (foreign) session over this socket works too.
    ws.send(JSON.stringify({ id: 'p1', method: 'presence', params: { session: j.session, group: j.g } }));
    const p = await frames.until((xs) => xs.find((x) => x.json?.id === 'p1'), { what: 'the presence reply over WebSocket' });
    assert.equal(p.json.result?.count, 2, p.text);
    j.take(`websocket@${node.nodeName}`, events());
  } finally {
    ws.terminate();
  }
}

async function viaJsonp(node, j) {
  const r = await listen(node.url, j.session, j.cursor, 0, { callback: 'cb' });
  assert.equal(r.status, 200, `JSONP listen through ${node.nodeName}: HTTP ${r.status} ${r.text}`);
  const m = /^\s*cb\(([\s\S]*)\);?\s*$/.exec(r.text);
  assert.ok(m, `JSONP body: ${r.text}`);
  const body = JSON.parse(m[1]);
  assert.ok(body.events.some(lastIs(j.said)), `JSONP listen through ${node.nodeName} lacks message ${j.said}: ${r.text}`);
  j.take(`jsonp@${node.nodeName}`, body.events);
}

describe('transports through a node that does not own the session', () => {
  const nodes = useCluster(3, { args: ['--jsonp'] });
  const [n1, n2, n3] = nodes;

  test('a session of n1 read by long-poll, SSE, forever-frame, JSONP and WebSocket through n2 and n3 gets every event exactly once, in order', async () => {
    const j = await journey(n1, n3, 'hopper');
    await j.speak(3);
    await viaLongPoll(n2, j, 2);
    await j.speak(2);
    await viaSse(n3, j, 2);
    await j.speak(2);
    await viaSse(n2, j, 2, { byHeader: true });
    await j.speak(2);
    await viaWebSocket(n3, j, 2);
    await j.speak(2);
    await viaForeverFrame(n2, j, 2);
    await j.speak(2);
    await viaJsonp(n3, j);
    await j.speak(2);
    await viaWebSocket(n2, j, 2);
    await j.speak(1);
    await viaLongPoll(n1, j, 1);
    j.check();
  });

  test('a long-poll through n2 returns as soon as a message spoken through n3 reaches the session of n1', async () => {
    const g = uniq('g');
    const session = await enter(n1.url, 'waiter', [g]);
    const speaker = await enter(n3.url, 'poke', [g]);
    const inbox = new Inbox(n2.url, session);
    await inbox.until((e) => e.type === 'join' && e.user === 'poke', { what: "poke's join" });
    const pending = listen(n2.url, session, inbox.cursor, 60);
    await call(n3.url, 'speak', { session: speaker, group: g, data: 'wake' });
    const r = await pending; // bounded by the listen timeout + 10 s; answering early is the point
    assert.equal(r.status, 200, r.text);
    assert.ok(r.body.events.some(lastIs('wake')), `the long-poll returned without the message: ${r.text}`);
  });

  test('a newer long-poll through n3 supersedes an older one pending through n2 (session on n1)', async () => {
    const session = await enter(n1.url, 'twice');
    const first = await listen(n2.url, session, 0, 0);
    assert.equal(first.status, 200, first.text);
    const cursor = first.body.cursor;
    // We cannot see when the older long-poll reached the session: if the newer one got there
    // first, the older one supersedes it instead. Either way exactly one of the two answers
    // superseded:true at once; the other is answered at its timeout (3 s).
    const older = listen(n2.url, session, cursor, 3);
    const newer = listen(n3.url, session, cursor, 3);
    const answers = await Promise.all([older, newer]);
    for (const r of answers) assert.equal(r.status, 200, r.text);
    const superseded = answers.filter((r) => r.body.superseded === true);
    assert.equal(superseded.length, 1, `one of two long-polls on one session through two nodes must be superseded: ${answers.map((r) => r.text).join(' ; ')}`);
    assert.deepEqual(superseded[0].body, { events: [], cursor, superseded: true });
  });

  test('SSE implicit enter through n2, resumed by Last-Event-ID through n3 and through n1, continues the same n2 session exactly', async () => {
    const g = uniq('g');
    const user = uniq('sse');
    const first = await openSse(n2, { user, groups: g });
    let session;
    let lastId;
    const speaker = await enter(n1.url, uniq('spk'), [g]);
    try {
      const hello = await first.untilEvent((e) => e.event === 'session', { what: 'the session event' });
      session = hello.json.session;
      assert.ok(session.startsWith('n2_'), `the implicit enter on n2 made session ${session}`);
      assert.equal(hello.id, `${session}.0`);
      await call(n1.url, 'speak', { session: speaker, group: g, data: 1 });
      await first.untilEvent((e) => lastIs(1)(e.json), { what: 'message 1' });
      lastId = first.lastEventId;
    } finally {
      first.close();
    }
    const seen = [...first.numbered()];
    await call(n1.url, 'speak', { session: speaker, group: g, data: 2 });
    for (const node of [n3, n1]) {
      // Exactly what a browser sends again: the same URL, plus Last-Event-ID.
      const again = await openSse(node, { user, groups: g }, { headers: { 'Last-Event-ID': lastId } });
      try {
        const want = node === n3 ? 2 : 3;
        await again.untilEvent((e) => lastIs(want)(e.json), { what: `message ${want} after resuming through ${node.nodeName}` });
        assert.ok(!again.events.some((e) => e.event === 'session'), `resuming through ${node.nodeName} entered a new session: ${again.describe()}`);
        assert.ok(again.numbered().every((e) => e.id.startsWith(`${session}.`)), again.describe());
        seen.push(...again.numbered());
        lastId = again.lastEventId;
      } finally {
        again.close();
      }
      if (node === n3) await call(n1.url, 'speak', { session: speaker, group: g, data: 3 });
    }
    const eids = seen.map((e) => e.eid).filter((eid) => eid > 0); // .0 is the session event
    assert.deepEqual(eids, eids.map((_, i) => i + 1), `eids across three nodes: ${JSON.stringify(seen.map((e) => e.id))}`);
    assert.deepEqual(seen.filter((e) => e.json?.type === 'message').map((e) => e.json.data), [1, 2, 3]);
  });
});
