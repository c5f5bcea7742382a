// One session, many transports: a client may move between long-poll, SSE,
// forever-frame (and WebSocket) by resuming with its last eid, and receives every
// event exactly once and in order; a transport that attaches takes the session over.

import assert from 'node:assert/strict';
import WebSocket from 'ws';
import {
  bounded, call, Collector, describe, enter, Inbox, is, listen, openForeverFrame, openSse, test, uniq, useHerald,
} from './lib/herald.mjs';

/**
 * A session's journey: `speak(k)` says k more numbered messages to its group (from
 * another session); `take(events)` records what a transport delivered (event objects
 * with eid) and moves the cursor; `check()` asserts eids 1..n without gap or
 * duplicate and every message exactly once, in order.
 */
async function journey(url, user) {
  const g = uniq('g');
  const session = await enter(url, user, [g]);
  const speaker = await enter(url, `${user}-speaker`);
  const j = {
    g,
    session,
    said: 0,
    received: [],
    cursor: 0,
    legs: [],
    async speak(k) {
      for (let i = 0; i < k; i++) {
        j.said += 1;
        await call(url, 'speak', { session: speaker, group: g, data: j.said });
      }
    },
    take(leg, events) {
      const numbered = events.filter((e) => typeof e.eid === 'number');
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

const lastIs = (n) => (e) => e.type === 'message' && e.data === n;

async function viaLongPoll(url, j, moreWhileOpen) {
  const inbox = new Inbox(url, j.session, { cursor: j.cursor });
  await inbox.until(lastIs(j.said), { what: `message ${j.said} by long-poll` });
  await j.speak(moreWhileOpen);
  await inbox.until(lastIs(j.said), { what: `message ${j.said} by long-poll` });
  j.take('long-poll', inbox.events);
}

async function viaSse(herald, j, moreWhileOpen) {
  const s = await openSse(herald, { session: j.session, cursor: j.cursor });
  try {
    await s.untilEvent((e) => e.json && lastIs(j.said)(e.json), { what: `message ${j.said} by SSE` });
    await j.speak(moreWhileOpen);
    await s.untilEvent((e) => e.json && lastIs(j.said)(e.json), { what: `message ${j.said} by SSE` });
  } finally {
    s.close();
  }
  for (const e of s.events) if (e.json?.eid !== undefined) assert.equal(e.id, `${j.session}.${e.json.eid}`);
  j.take('sse', s.events.map((e) => e.json).filter(Boolean));
}

async function viaForeverFrame(herald, j, moreWhileOpen) {
  const f = await openForeverFrame(herald, { session: j.session, callback: 'cb', cursor: j.cursor });
  try {
    await f.untilCall(lastIs(j.said), { what: `message ${j.said} by forever-frame` });
    await j.speak(moreWhileOpen);
    await f.untilCall(lastIs(j.said), { what: `message ${j.said} by forever-frame` });
  } finally {
    f.close();
  }
  j.take('forever-frame', f.calls.map((c) => c.json).filter(Boolean));
}

/**
 * Opens /v1/ws with subprotocol herald.v1. Resolves to {ws, frames: Collector} once
 * open, or to null when the server does not accept the upgrade.
 */
async function openWs(herald) {
  const ws = new WebSocket(`ws://${herald.host}:${herald.port}/v1/ws`, 'herald.v1');
  const frames = new Collector('WebSocket frames');
  ws.on('message', (data, isBinary) => {
    const text = data.toString('utf8');
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    frames.push({ text, json, isBinary });
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
    return null;
  }
  return { ws, frames };
}

async function viaWebSocket(herald, j, moreWhileOpen) {
  const conn = await openWs(herald);
  assert.ok(conn, '/v1/ws refused the herald.v1 upgrade');
  const { ws, frames } = conn;
  try {
    ws.send(JSON.stringify({ id: 'a1', method: 'attach', params: { session: j.session, cursor: j.cursor } }));
    const reply = await frames.until((xs) => xs.find((x) => x.json?.id === 'a1'), { what: 'the attach reply' });
    assert.deepEqual(reply.json.result, { session: j.session, cursor: j.cursor }, reply.text);
    const events = () => frames.items.map((x) => x.json).filter((e) => e && typeof e.type === 'string');
    await frames.until(() => events().some(lastIs(j.said)), { what: `message ${j.said} by WebSocket` });
    await j.speak(moreWhileOpen);
    await frames.until(() => events().some(lastIs(j.said)), { what: `message ${j.said} by WebSocket` });
    assert.ok(frames.items.every((x) => !x.isBinary), 'events travel in text frames');
    j.take('websocket', events());
  } finally {
    ws.terminate();
  }
}

describe('switching transports', () => {
  const herald = useHerald();

  test('one session read by long-poll, then SSE, then forever-frame, then long-poll again gets every message exactly once, in order', async () => {
    const j = await journey(herald.url, 'switcher');
    await j.speak(3);
    await viaLongPoll(herald.url, j, 2);
    await j.speak(3); // while no transport is open
    await viaSse(herald, j, 2);
    await j.speak(3);
    await viaForeverFrame(herald, j, 2);
    await j.speak(3);
    await viaLongPoll(herald.url, j, 2);
    j.check();
  });

  test('the same journey with WebSocket legs (attach with the cursor): long-poll, WebSocket, SSE, WebSocket, forever-frame', async () => {
    const j = await journey(herald.url, 'ws-switcher');
    await j.speak(3);
    await viaLongPoll(herald.url, j, 2);
    await j.speak(3);
    await viaWebSocket(herald, j, 2);
    await j.speak(3);
    await viaSse(herald, j, 2);
    await j.speak(3);
    await viaWebSocket(herald, j, 2);
    await j.speak(3);
    await viaForeverFrame(herald, j, 2);
    j.check();
  });

  test('a stream attaching to the session answers a pending long-poll at once with superseded:true', async () => {
    for (const open of [
      (session) => openSse(herald, { session, cursor: 1 }),
      (session) => openForeverFrame(herald, { session, callback: 'cb', cursor: 1 }),
    ]) {
      const g = uniq('g');
      const session = await enter(herald.url, 'long-poller', [g]);
      const first = await listen(herald.url, session, 0, 0);
      assert.equal(first.body.cursor, 1, first.text);
      // We cannot see when the long-poll reached the session. If the stream attached
      // first, the long-poll takes the session back (the stream ends) and returns at its
      // 3 s timeout without superseded: then try again. Only supersession makes
      // superseded:true, so that answer proves the stream took over from the long-poll.
      let r;
      const deadline = Date.now() + 20_000;
      for (;;) {
        const pending = listen(herald.url, session, 1, 3);
        const stream = await open(session);
        r = await pending;
        stream.close();
        if (r.body?.superseded) break;
        assert.ok(Date.now() < deadline, `the long-poll was never superseded by the stream: ${r.text}`);
      }
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body, { events: [], cursor: 1, superseded: true });
    }
  });

  test('a forever-frame ends an open SSE stream of the same session (superseded), and an SSE stream ends an open forever-frame', async () => {
    const g = uniq('g');
    const session = await enter(herald.url, 'hopper', [g]);
    const sse = await openSse(herald, { session });
    await sse.untilEvent((e) => e.event === 'join', { what: 'the own join on SSE' });
    const frame = await openForeverFrame(herald, { session, callback: 'cb', cursor: 1 });
    assert.equal(await sse.endedWithin(10_000, 'the SSE stream to end'), 'end');
    assert.equal(sse.events.at(-1).event, 'superseded', sse.describe());
    await call(herald.url, 'speak', { session, group: g, data: 'on the frame' });
    await frame.untilCall(is.message(g, 'on the frame'), { what: 'the message on the frame' });

    const sse2 = await openSse(herald, { session, cursor: 2 });
    try {
      assert.equal(await frame.endedWithin(10_000, 'the frame to end'), 'end');
      const last = frame.calls.at(-1).json;
      assert.equal(last.type, 'end', frame.describe());
      assert.equal(last.reason, 'superseded');
      await call(herald.url, 'speak', { session, group: g, data: 'on SSE again' });
      const m = await sse2.untilEvent((e) => e.event === 'message', { what: 'the message on the new SSE stream' });
      assert.equal(m.json.data, 'on SSE again');
      assert.equal(m.json.eid, 3);
    } finally {
      sse2.close();
    }
  });
});
