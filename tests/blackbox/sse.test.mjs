// GET /v1/sse: Server-Sent Events — the wire format read raw, a real EventSource
// client (npm `eventsource` 4.1.1), resume by Last-Event-ID, supersession, a slow
// reader that is cut off, and the lease of a session whose stream is open.

import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { EventSource } from 'eventsource';
import {
  assertKeys, assertTime, bounded, call, Collector, describe, enter, eventSourceFetch, Inbox, is, listen, openSse,
  publishJson, request, SseReader, test, uniq, unknownSessionLike, useHerald, withHerald,
} from './lib/herald.mjs';

// ---------------------------------------------------------------------------
// Helpers

const msgs = (events) => events.filter((e) => e.event === 'message');

/** The eid part of an SSE id `<session>.<eid>`. */
const eidOf = (id) => Number(id.slice(id.lastIndexOf('.') + 1));

/**
 * Waits (long-poll with cursor 0, so nothing is acknowledged) until `session` has
 * queued an event satisfying `pred`: a stream opened afterwards with a cursor can
 * rely on those eids existing.
 */
async function queued(url, session, pred, boundMs = 10_000) {
  const deadline = Date.now() + boundMs;
  for (;;) {
    const r = await listen(url, session, 0, 1);
    assert.equal(r.status, 200, r.text);
    if (r.body.events.some(pred)) return r.body.events;
    assert.ok(Date.now() < deadline, `session ${session} never queued the expected event: ${r.text}`);
  }
}

/**
 * Asserts that `events` (SSE events of one session, numbered ids only) carry eids
 * that increase by exactly 1 from `from` + 1, an `overflow` event being the only
 * place where they may jump; and that each data's eid and type match id and event.
 */
function assertEidChain(events, session, from) {
  let prev = from;
  for (const e of events) {
    assert.ok(e.id?.startsWith(`${session}.`), `id ${e.id} does not name session ${session}`);
    const eid = eidOf(e.id);
    if (e.event === 'overflow') assert.ok(eid > prev, `overflow eid ${eid} not after ${prev}`);
    else assert.equal(eid, prev + 1, `eid jumped from ${prev} to ${eid} without an overflow event`);
    assert.equal(e.json?.eid, eid, `data eid differs from the id: ${e.id} ${e.data}`);
    assert.equal(e.json?.type, e.event, `event field differs from data type: ${e.event} ${e.data}`);
    prev = eid;
  }
  return prev;
}

/**
 * Opens GET `path` on a raw TCP socket and decodes the chunked body by hand into an
 * SseReader, so that the test can stop reading (`socket.pause()`) and see exactly how
 * the server ends the connection: `ended` resolves to 'end' after the terminating
 * chunk, or 'aborted' when the connection closes without it (a cut-off). A partial
 * last chunk (the server stopped mid-write) is discarded.
 */
async function openRawSse(server, path, headers = {}) {
  const socket = net.connect({ host: server.host, port: server.port });
  await bounded(
    new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    }),
    5_000,
    'a TCP connection to herald',
  );
  const req = new EventEmitter();
  req.destroy = () => socket.destroy();
  const res = new EventEmitter();
  res.socket = socket;
  res.complete = false;
  let buf = Buffer.alloc(0);
  let inBody = false;
  let reader;
  let resolveHead;
  const head = new Promise((resolve) => (resolveHead = resolve));
  const decode = () => {
    if (!inBody) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
      res.statusCode = Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0])?.[1]);
      res.headers = {};
      for (const l of lines.slice(1)) {
        const c = l.indexOf(':');
        res.headers[l.slice(0, c).trim().toLowerCase()] = l.slice(c + 1).trim();
      }
      buf = buf.subarray(end + 4);
      inBody = true;
      reader = new SseReader(req, res);
      resolveHead(reader);
    }
    for (;;) {
      const lineEnd = buf.indexOf('\r\n');
      if (lineEnd < 0) return;
      const size = parseInt(buf.subarray(0, lineEnd).toString('latin1'), 16);
      if (size === 0) {
        if (!res.complete) {
          res.complete = true;
          res.emit('end');
        }
        return;
      }
      if (buf.length < lineEnd + 2 + size + 2) return;
      res.emit('data', buf.subarray(lineEnd + 2, lineEnd + 2 + size));
      buf = buf.subarray(lineEnd + 2 + size + 2);
    }
  };
  socket.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    decode();
  });
  socket.on('error', () => {});
  socket.on('close', () => res.emit('close'));
  const hdrs = Object.entries({ Host: `${server.host}:${server.port}`, ...headers })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.write(`GET ${path} HTTP/1.1\r\n${hdrs}\r\n`);
  return bounded(head, 10_000, `the response head of GET ${path}`);
}

/** An EventSource whose listeners push into one Collector, for bounded waits. */
function watchEventSource(es, types) {
  const seen = new Collector('EventSource events');
  for (const type of types) {
    es.addEventListener(type, (ev) => {
      const item = { type: ev.type, data: ev.data, lastEventId: ev.lastEventId, code: ev.code, message: ev.message };
      if (typeof ev.data === 'string') {
        try {
          item.json = JSON.parse(ev.data);
        } catch {
          /* not JSON */
        }
      }
      item.describe = () => `${item.type} ${item.lastEventId ?? ''} ${item.data ?? item.message ?? ''}`;
      seen.push(item);
    });
  }
  return seen;
}

// ---------------------------------------------------------------------------

describe('SSE wire format', () => {
  const herald = useHerald(['--heartbeat', '1', '--sse-retry-ms', '1500']);

  test('an SSE response is 200 text/event-stream, no-cache, unbuffered, chunked, and starts with retry:', async () => {
    const s = await openSse(herald, { user: 'wire', groups: uniq('g') });
    try {
      assert.equal(s.status, 200, s.describe());
      assert.equal(s.headers['content-type'], 'text/event-stream; charset=utf-8');
      assert.equal(s.headers['cache-control'], 'no-cache');
      assert.equal(s.headers['x-accel-buffering'], 'no');
      assert.equal(s.headers['transfer-encoding'], 'chunked');
      assert.equal(s.headers['content-length'], undefined);
      await s.untilEvent((e) => e.event === 'session', { what: 'the session event' });
      assert.ok(s.text.startsWith('retry: 1500\n\n'), `the body must start with the retry field: ${s.describe()}`);
      assert.deepEqual(s.retries, [1500]);
    } finally {
      s.close();
    }
  });

  test('implicit enter (user=, groups=a,b): the first event is "session" with id <session>.0 and the enter result as data', async () => {
    const a = uniq('a');
    const b = uniq('b');
    const s = await openSse(herald, { user: 'implicit', groups: `${a},${b}` });
    try {
      const first = await s.untilEvent(() => true, { what: 'a first event' });
      assert.equal(first.event, 'session', s.describe());
      const session = first.json?.session;
      assert.equal(typeof session, 'string', s.describe());
      assert.equal(first.id, `${session}.0`);
      assertKeys(first.json, ['session', 'user', 'lease', 'groups'], 'session event data');
      assert.equal(first.json.user, 'implicit');
      assertKeys(first.json.groups, [a, b], 'entered groups');
      for (const g of [a, b]) assertKeys(first.json.groups[g], ['seq', 'epoch'], `groups.${g}`);
      // The session is real: its own joins follow as eids 1 and 2.
      await s.untilEvent((e) => e.id === `${session}.2`, { what: 'the second join' });
      const joins = s.events.filter((e) => e.event === 'join');
      assert.deepEqual(joins.map((e) => e.id), [`${session}.1`, `${session}.2`]);
      assert.deepEqual(joins.map((e) => e.json.group).sort(), [a, b].sort());
      const presence = await call(herald.url, 'presence', { session, group: a });
      assert.deepEqual(presence.users, ['implicit']);
    } finally {
      s.close();
    }
  });

  test('each event is "id: <session>.<eid>", "event: <type>", "data: <event JSON>" and the data parses to that event', async () => {
    const g = uniq('g');
    const session = await enter(herald.url, 'framer', [g]);
    const speaker = await enter(herald.url, 'speaker');
    const s = await openSse(herald, { session });
    try {
      const data = [{ nested: { list: [1, 'two', null] } }, 'line\nbreak\r\nand "quotes"', 'ünïcödé \u2028 😀', 42];
      for (const d of data) await call(herald.url, 'speak', { session: speaker, group: g, data: d });
      await s.untilEvent((e) => e.event === 'message' && e.json?.data === 42, { what: 'the last message' });
      // Every complete block on the wire is a retry field, a heartbeat comment, or an
      // event of exactly three lines.
      const blocks = s.text.split('\n\n').slice(0, -1);
      for (const block of blocks)
        assert.match(block, /^(retry: \d+|: heartbeat \d+|id: [A-Za-z0-9_-]+\.\d+\nevent: [a-z]+\ndata: [^\n\r]+)$/, `block ${JSON.stringify(block)}`);
      const numbered = s.events.filter((e) => e.id !== null);
      assertEidChain(numbered, session, 0);
      assert.deepEqual(msgs(s.events).map((e) => e.json.data), data);
      for (const e of msgs(s.events)) {
        assertKeys(e.json, ['type', 'eid', 'group', 'seq', 'epoch', 'from', 'data', 'time'], 'message event');
        assert.equal(e.json.from, 'speaker');
        assert.equal(e.json.group, g);
      }
    } finally {
      s.close();
    }
  });

  test('a heartbeat comment arrives on an idle stream (--heartbeat 1)', async () => {
    const session = await enter(herald.url, 'idle');
    const s = await openSse(herald, { session });
    try {
      const hb = await s.until(() => s.comments.find((c) => /^ heartbeat \d+$/.test(c)), { what: 'a ": heartbeat <ms>" comment' });
      assertTime(Number(hb.trim().split(' ')[1]), 'heartbeat time');
      assert.equal(s.events.length, 0, 'a heartbeat is no event');
    } finally {
      s.close();
    }
  });

  test('session= with cursor= sends only the events after the cursor', async () => {
    const g = uniq('g');
    const session = await enter(herald.url, 'cursored', [g]);
    for (let i = 1; i <= 3; i++) await call(herald.url, 'speak', { session, group: g, data: i });
    await queued(herald.url, session, is.message(g, 3));
    const s = await openSse(herald, { session, cursor: 2 });
    try {
      await s.untilEvent((e) => e.json?.data === 3, { what: 'message 3' });
      const numbered = s.events.filter((e) => e.id !== null);
      assert.equal(numbered[0].id, `${session}.3`, s.describe());
      assertEidChain(numbered, session, 2);
      assert.deepEqual(msgs(s.events).map((e) => e.json.data), [2, 3]);
    } finally {
      s.close();
    }
  });

  test('Last-Event-ID wins over session= and cursor=, and resumes that session after that eid', async () => {
    const g = uniq('g');
    const s1 = await enter(herald.url, 'named-by-id', [g]);
    const s2 = await enter(herald.url, 'named-by-query', [g]);
    for (let i = 1; i <= 3; i++) await call(herald.url, 'speak', { session: s1, group: g, data: i });
    await queued(herald.url, s1, is.message(g, 3));
    const s = await openSse(herald, { session: s2, cursor: 0 }, { headers: { 'Last-Event-ID': `${s1}.3` } });
    try {
      // s1: join(1) join of s2(2) messages 1..3 (3..5); after eid 3 come messages 2 and 3.
      await s.untilEvent((e) => e.json?.data === 3, { what: 'message 3' });
      const numbered = s.events.filter((e) => e.id !== null);
      assert.ok(numbered.every((e) => e.id.startsWith(`${s1}.`)), `only ${s1} events: ${s.describe()}`);
      assertEidChain(numbered, s1, 3);
      assert.deepEqual(msgs(s.events).map((e) => e.json.data), [2, 3]);
    } finally {
      s.close();
    }
  });

  test('a lastEventId query parameter resumes like the Last-Event-ID header', async () => {
    const g = uniq('g');
    const session = await enter(herald.url, 'query-id', [g]);
    for (let i = 1; i <= 2; i++) await call(herald.url, 'speak', { session, group: g, data: i });
    await queued(herald.url, session, is.message(g, 2));
    const s = await openSse(herald, { session: unknownSessionLike(session), lastEventId: `${session}.2` });
    try {
      await s.untilEvent((e) => e.json?.data === 2, { what: 'message 2' });
      const numbered = s.events.filter((e) => e.id !== null);
      assertEidChain(numbered, session, 2);
      assert.deepEqual(msgs(s.events).map((e) => e.json.data), [2]);
    } finally {
      s.close();
    }
  });

  test('Last-Event-ID <session>.superseded, .gone and .stop are answered 204 No Content', async () => {
    const session = await enter(herald.url, 'ended-streams');
    for (const suffix of ['superseded', 'gone', 'stop']) {
      const r = await request(herald.url, { path: `/v1/sse?session=${session}`, headers: { 'Last-Event-ID': `${session}.${suffix}` } });
      assert.equal(r.status, 204, `.${suffix}: HTTP ${r.status} ${r.text}`);
      assert.equal(r.text, '');
    }
    const q = await request(herald.url, { path: `/v1/sse?lastEventId=${session}.superseded` });
    assert.equal(q.status, 204, `lastEventId=.superseded: HTTP ${q.status} ${q.text}`);
  });

  test('Last-Event-ID <session>.gone on an enter URL (user=) enters a new session and announces it', async () => {
    const g = uniq('g');
    const old = await enter(herald.url, 'before', [g]);
    await call(herald.url, 'exit', { session: old });
    const s = await openSse(herald, { user: 'after', groups: g }, { headers: { 'Last-Event-ID': `${old}.gone` } });
    try {
      assert.equal(s.status, 200);
      const ev = await s.untilEvent((e) => e.event === 'session', { what: 'a session event' });
      assert.notEqual(ev.json.session, old);
      assert.equal(ev.id, `${ev.json.session}.0`);
      assert.equal(ev.json.user, 'after');
      await s.untilEvent((e) => e.event === 'join' && e.json.user === 'after' && e.json.group === g, { what: 'its join' });
    } finally {
      s.close();
    }
  });

  test('resuming a session that no longer exists on an enter URL: an unknown_session error event, then a new session', async () => {
    const g = uniq('g');
    const old = await enter(herald.url, 'expired-one', [g]);
    await call(herald.url, 'exit', { session: old });
    const s = await openSse(herald, { user: 'reborn', groups: g }, { headers: { 'Last-Event-ID': `${old}.3` } });
    try {
      const ev = await s.untilEvent((e) => e.event === 'session', { what: 'a session event' });
      const errIndex = s.events.findIndex((e) => e.event === 'error');
      assert.ok(errIndex >= 0 && errIndex < s.events.indexOf(ev), `an error event comes first: ${s.describe()}`);
      assert.equal(s.events[errIndex].json?.error?.code, 'unknown_session', s.describe());
      assert.notEqual(ev.json.session, old);
      assert.equal(ev.json.user, 'reborn');
    } finally {
      s.close();
    }
  });

  test('a disallowed Origin is refused with 403 forbidden; same origin and no Origin are served', async () => {
    const session = await enter(herald.url, 'origins');
    const r = await request(herald.url, { path: `/v1/sse?session=${session}`, headers: { Origin: 'http://evil.example' } });
    assert.equal(r.status, 403, r.text);
    assert.equal(r.body?.error?.code, 'forbidden', r.text);
    const same = await openSse(herald, { session }, { headers: { Origin: `http://${herald.host}:${herald.port}` } });
    same.close();
    assert.equal(same.status, 200);
    const none = await openSse(herald, { session });
    none.close();
    assert.equal(none.status, 200);
  });

  test('malformed requests are 400 bad_request before any stream starts', async () => {
    const session = await enter(herald.url, 'malformed');
    const cases = [
      ['session=bad!id', {}],
      ['session=' + 'a'.repeat(65), {}],
      ['', {}], // neither session nor user
      [`session=${session}&cursor=-1`, {}],
      [`session=${session}&cursor=abc`, {}],
      [`session=${session}`, { 'Last-Event-ID': `${session}.abc` }],
      [`session=${session}`, { 'Last-Event-ID': 'bad!id.3' }],
      ['user=&groups=a', {}],
      [`user=u&groups=${encodeURIComponent('bad name')}`, {}],
    ];
    for (const [query, headers] of cases) {
      const r = await request(herald.url, { path: `/v1/sse?${query}`, headers });
      assert.equal(r.status, 400, `/v1/sse?${query} ${JSON.stringify(headers)} → HTTP ${r.status} ${r.text}`);
      assert.equal(r.body?.error?.code, 'bad_request', r.text);
    }
  });

  test('an unknown (well-formed) session gets an unknown_session error event with id <session>.gone, then the stream ends', async () => {
    const real = await enter(herald.url, 'real');
    const ghost = unknownSessionLike(real);
    const s = await openSse(herald, { session: ghost });
    assert.equal(s.status, 200);
    assert.equal(await s.endedWithin(), 'end');
    const errors = s.events.filter((e) => e.event === 'error');
    assert.equal(errors.length, 1, s.describe());
    assert.equal(errors[0].id, `${ghost}.gone`);
    assert.equal(errors[0].json?.error?.code, 'unknown_session');
    assert.equal(typeof errors[0].json.error.message, 'string');
  });

  test('a cursor past the last eid gets a bad_request error event, then the stream ends', async () => {
    const session = await enter(herald.url, 'future-cursor');
    const s = await openSse(herald, { session, cursor: 99 });
    assert.equal(await s.endedWithin(), 'end');
    const errors = s.events.filter((e) => e.event === 'error');
    assert.equal(errors.length, 1, s.describe());
    assert.equal(errors[0].json?.error?.code, 'bad_request', s.describe());
    // Its id makes a browser's automatic reconnect stop instead of retrying forever.
    assert.equal(errors[0].id, `${session}.stop`, s.describe());
  });

  test('when the session exits, its open stream gets id <session>.gone, event error, unknown_session, and ends', async () => {
    const g = uniq('g');
    const session = await enter(herald.url, 'exiting', [g]);
    const s = await openSse(herald, { session });
    await s.untilEvent((e) => e.event === 'join', { what: 'the own join' });
    await call(herald.url, 'exit', { session });
    assert.equal(await s.endedWithin(), 'end');
    const last = s.events.at(-1);
    assert.equal(last.event, 'error', s.describe());
    assert.equal(last.id, `${session}.gone`);
    assert.equal(last.json?.error?.code, 'unknown_session');
  });
});

// ---------------------------------------------------------------------------

describe('SSE with a real EventSource client (npm eventsource)', () => {
  const herald = useHerald(['--sse-retry-ms', '100']);

  test('EventSource receives the session event, named events and lastEventId <session>.<eid>', async () => {
    const g = uniq('g');
    const es = new EventSource(`${herald.url}/v1/sse?user=browser&groups=${g}`); // the library's own fetch
    const seen = watchEventSource(es, ['open', 'session', 'join', 'message', 'error']);
    const onmessage = new Collector('onmessage');
    es.onmessage = (ev) => onmessage.push(ev.data);
    try {
      const sessionEv = await seen.until((xs) => xs.find((x) => x.type === 'session'), { what: 'the session event' });
      const session = sessionEv.json.session;
      assert.equal(sessionEv.lastEventId, `${session}.0`);
      assert.equal(sessionEv.json.user, 'browser');
      const join = await seen.until((xs) => xs.find((x) => x.type === 'join'), { what: 'the join event' });
      assert.equal(join.lastEventId, `${session}.1`);
      assert.equal(join.json.group, g);
      const speaker = await enter(herald.url, 'speaker');
      await call(herald.url, 'speak', { session: speaker, group: g, data: { hello: 'browser' } });
      const m = await seen.until((xs) => xs.find((x) => x.type === 'message'), { what: 'the message event' });
      assert.equal(m.lastEventId, `${session}.${m.json.eid}`);
      assert.deepEqual(m.json.data, { hello: 'browser' });
      // type "message" is also what onmessage sees; session and join events are not.
      await onmessage.until((xs) => xs.length >= 1, { what: 'onmessage' });
      assert.deepEqual(onmessage.items.map((d) => JSON.parse(d).type), ['message']);
      assert.equal(seen.items.filter((x) => x.type === 'open').length, 1);
      assert.equal(seen.items.filter((x) => x.type === 'error').length, 0, 'no error while the stream is open');
      assert.equal(es.readyState, EventSource.OPEN);
    } finally {
      es.close();
    }
  });

  test('EventSource reconnects by itself after the connection drops and gets every missed message exactly once, in order', async () => {
    const g = uniq('g');
    const f = eventSourceFetch();
    const es = new EventSource(`${herald.url}/v1/sse?user=reconnector&groups=${g}`, { fetch: f });
    const seen = watchEventSource(es, ['session', 'message', 'error']);
    try {
      const sessionEv = await seen.until((xs) => xs.find((x) => x.type === 'session'), { what: 'the session event' });
      const session = sessionEv.json.session;
      const speaker = await enter(herald.url, 'speaker');
      const speak = (i) => call(herald.url, 'speak', { session: speaker, group: g, data: i });
      const received = () => seen.items.filter((x) => x.type === 'message').map((x) => x.json.data);
      for (let i = 1; i <= 5; i++) await speak(i);
      await seen.until(() => received().includes(5), { what: 'messages 1..5' });
      const lastBefore = seen.items.filter((x) => x.type === 'message').at(-1).lastEventId;

      // Cut the connection and hold the library's reconnect until more was said.
      const release = f.hold();
      f.cut();
      await f.untilRequests(2, { boundMs: 10_000 });
      assert.equal(f.requests[1].headers['Last-Event-ID'], lastBefore, 'the reconnect names the last event received');
      for (let i = 6; i <= 12; i++) await speak(i);
      release();
      await seen.until(() => received().includes(12), { what: 'messages 6..12 after the reconnect' });

      assert.deepEqual(received(), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 'every message exactly once, in order');
      const eids = seen.items.filter((x) => x.type === 'message').map((x) => eidOf(x.lastEventId));
      assert.deepEqual(eids, eids.map((_, i) => eids[0] + i), 'eids contiguous across the reconnect');
      assert.equal(seen.items.filter((x) => x.type === 'session').length, 1, 'the same session resumed, no new enter');
      assert.ok(seen.items.filter((x) => x.type === 'message').every((x) => x.lastEventId.startsWith(`${session}.`)));
      assert.equal(es.readyState, EventSource.OPEN);
    } finally {
      es.close();
    }
  });

  test('EventSource stops for good when its stream is superseded: event superseded, then the reconnect is answered 204', async () => {
    const g = uniq('g');
    const session = await enter(herald.url, 'superseded-browser', [g]);
    const f = eventSourceFetch();
    const es = new EventSource(`${herald.url}/v1/sse?session=${session}`, { fetch: f });
    const seen = watchEventSource(es, ['join', 'superseded', 'error']);
    try {
      await seen.until((xs) => xs.find((x) => x.type === 'join'), { what: 'the own join' });
      const pending = listen(herald.url, session, 1, 10);
      const sup = await seen.until((xs) => xs.find((x) => x.type === 'superseded'), { what: 'the superseded event' });
      assert.equal(sup.lastEventId, `${session}.superseded`);
      assert.equal(sup.json?.reason, 'superseded', sup.data);
      const err = await seen.until((xs) => xs.find((x) => x.type === 'error' && x.code === 204), { what: 'the 204 that stops the EventSource' });
      assert.ok(err);
      assert.equal(f.requests[1]?.headers['Last-Event-ID'], `${session}.superseded`);
      assert.equal(es.readyState, EventSource.CLOSED);
      // The long-poll now owns the session.
      await call(herald.url, 'speak', { session, group: g, data: 'to the long-poll' });
      const r = await pending;
      assert.equal(r.status, 200, r.text);
      assert.ok(r.body.events.some(is.message(g, 'to the long-poll')), r.text);
    } finally {
      es.close();
    }
  });

  test('EventSource on an enter URL carries on in a new session after its session ended', async () => {
    const g = uniq('g');
    const f = eventSourceFetch();
    const es = new EventSource(`${herald.url}/v1/sse?user=phoenix&groups=${g}`, { fetch: f });
    const seen = watchEventSource(es, ['session', 'error']);
    try {
      const first = await seen.until((xs) => xs.find((x) => x.type === 'session'), { what: 'the first session event' });
      await call(herald.url, 'exit', { session: first.json.session });
      const gone = await seen.until((xs) => xs.find((x) => x.type === 'error' && x.json), { what: 'the unknown_session error event' });
      assert.equal(gone.json.error.code, 'unknown_session');
      assert.equal(gone.lastEventId, `${first.json.session}.gone`);
      const second = await seen.until((xs) => xs.filter((x) => x.type === 'session')[1], { what: 'a second session event' });
      assert.notEqual(second.json.session, first.json.session);
      assert.equal(f.requests[1]?.headers['Last-Event-ID'], `${first.json.session}.gone`);
      assert.equal(es.readyState, EventSource.OPEN);
    } finally {
      es.close();
    }
  });

  test('EventSource on a session= URL stops (204) after its session ended', async () => {
    const session = await enter(herald.url, 'mortal');
    const f = eventSourceFetch();
    const es = new EventSource(`${herald.url}/v1/sse?session=${session}`, { fetch: f });
    const seen = watchEventSource(es, ['open', 'error']);
    try {
      await seen.until((xs) => xs.find((x) => x.type === 'open'), { what: 'open' });
      await call(herald.url, 'exit', { session });
      await seen.until((xs) => xs.find((x) => x.type === 'error' && x.code === 204), { what: 'the 204 that stops the EventSource' });
      assert.equal(es.readyState, EventSource.CLOSED);
    } finally {
      es.close();
    }
  });
});

// ---------------------------------------------------------------------------

describe('SSE resume and supersession (raw client)', () => {
  const herald = useHerald();

  test('a client that drops the connection mid-stream and resumes with Last-Event-ID gets every missed event exactly once, in order', async () => {
    const g = uniq('g');
    const session = await enter(herald.url, 'dropper', [g]);
    const speaker = await enter(herald.url, 'speaker');
    const speak = (i) => call(herald.url, 'speak', { session: speaker, group: g, data: i });
    const first = await openSse(herald, { session });
    for (let i = 1; i <= 10; i++) await speak(i);
    await first.untilEvent((e) => e.json?.data === 5, { what: 'message 5' });
    first.close(); // drop wherever the reader happens to be
    const part1 = first.events.filter((e) => e.id !== null);
    const lastId = part1.at(-1).id;
    for (let i = 11; i <= 20; i++) await speak(i);

    const second = await openSse(herald, { session }, { headers: { 'Last-Event-ID': lastId } });
    try {
      await second.untilEvent((e) => e.json?.data === 20, { what: 'message 20' });
      const part2 = second.events.filter((e) => e.id !== null);
      assertEidChain([...part1, ...part2], session, 0);
      assert.deepEqual(msgs([...part1, ...part2]).map((e) => e.json.data), Array.from({ length: 20 }, (_, i) => i + 1));
    } finally {
      second.close();
    }
  });

  test('a stream that starts with a backlog larger than --max-stream-buffer (default 256 KiB) delivers all of it to a reader that reads', async () => {
    // 400 queued messages of ~1 KB (queue-max default 1000): ~450 KB to replay at once.
    const g = uniq('g');
    const session = await enter(herald.url, 'backlogged', [g]);
    const pad = 'x'.repeat(1000);
    for (let i = 1; i <= 400; i++) {
      const r = await publishJson(herald.url, { group: g, data: { i, pad } });
      assert.equal(r.status, 200, r.text);
    }
    await queued(herald.url, session, (e) => e.type === 'message' && e.data.i === 400);
    const s = await openSse(herald, { session });
    try {
      await s.until(() => s.events.some((e) => e.json?.data?.i === 400), {
        boundMs: 20_000,
        what: 'all 400 queued messages (the reader reads as fast as it can)',
      });
      assert.deepEqual(msgs(s.events).map((e) => e.json.data.i), Array.from({ length: 400 }, (_, i) => i + 1));
      assert.equal(s.endedHow, null);
    } finally {
      s.close();
    }
  });

  test('a long-poll of the same session ends the open stream with event superseded; the long-poll gets the events', async () => {
    const g = uniq('g');
    const session = await enter(herald.url, 'taken-over', [g]);
    const s = await openSse(herald, { session });
    await s.untilEvent((e) => e.event === 'join', { what: 'the own join' });
    const pending = listen(herald.url, session, 1, 10);
    assert.equal(await s.endedWithin(10_000, 'the superseded stream to end'), 'end');
    const last = s.events.at(-1);
    assert.equal(last.event, 'superseded', s.describe());
    assert.equal(last.id, `${session}.superseded`);
    assert.equal(last.json?.type, 'end');
    assert.equal(last.json?.reason, 'superseded');
    await call(herald.url, 'speak', { session, group: g, data: 'for the long-poll' });
    const r = await pending;
    assert.equal(r.status, 200, r.text);
    assert.ok(r.body.events.some(is.message(g, 'for the long-poll')), r.text);
    assert.ok(!s.events.some((e) => e.event === 'message'), 'the old stream got nothing after it was superseded');
  });

  test('a newer SSE stream of the same session ends the older one with superseded; the newer one gets the events', async () => {
    const g = uniq('g');
    const session = await enter(herald.url, 'twice-streamed', [g]);
    const older = await openSse(herald, { session });
    await older.untilEvent((e) => e.event === 'join', { what: 'the own join' });
    const newer = await openSse(herald, { session, cursor: 1 });
    try {
      assert.equal(await older.endedWithin(10_000, 'the older stream to end'), 'end');
      assert.equal(older.events.at(-1).event, 'superseded', older.describe());
      assert.equal(older.events.at(-1).id, `${session}.superseded`);
      await call(herald.url, 'speak', { session, group: g, data: 'for the newer stream' });
      const m = await newer.untilEvent((e) => e.event === 'message', { what: 'the message on the newer stream' });
      assert.equal(m.json.data, 'for the newer stream');
      assert.equal(m.id, `${session}.2`);
      assert.equal(newer.endedHow, null, 'the newer stream stays open');
    } finally {
      newer.close();
    }
  });
});

// ---------------------------------------------------------------------------

/**
 * Opens a stream for `session` on a raw socket and stops reading it at once, then
 * publishes ~1 KB messages to `group` (4 at a time, each on a fresh connection, each
 * bounded) until the server has cut the stream off — its "slow consumer" log line names
 * the session; that line only says when to stop, the cut-off itself is checked
 * black-box by the caller — or `cap` messages went out. Then publishes `after` more,
 * one by one. Returns {slow, published}: `published` = the group's last seq.
 */
async function stallAndFlood(herald, group, session, { cap = 30_000, after = 0, boundMs = 60_000 } = {}) {
  const slow = await openRawSse(herald, `/v1/sse?session=${session}`);
  assert.equal(slow.status, 200);
  await slow.untilEvent((e) => e.event === 'join', { what: 'the own join on the slow stream' });
  slow.socket.pause(); // from now on nothing is read: the kernel buffers fill, then the server's
  // The log names a session by its node, '_' and four random characters only (ids are
  // credentials), so the cut-off line is matched by that prefix.
  const logged = `"session":"${session.slice(0, session.indexOf('_') + 5)}..."`;
  const cutOff = () => herald.lines.some((l) => l.includes(logged) && l.includes('"msg":"slow consumer cut off"'));
  const pad = 'x'.repeat(1000);
  let published = 0;
  const deadline = Date.now() + boundMs;
  const publishOne = async () => {
    const i = ++published;
    let r;
    try {
      r = await publishJson(herald, { group, data: { i, pad } });
    } catch (err) {
      err.message = `POST /v1/publish #${i} was not answered while a reader of the group was stalled: ${err.message}`;
      throw err;
    }
    assert.equal(r.status, 200, r.text);
  };
  const worker = async () => {
    while (!cutOff() && published < cap) {
      assert.ok(Date.now() < deadline, `the stalled stream was not cut off after ${published} messages`);
      await publishOne();
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  for (let k = 0; k < after; k++) await publishOne();
  return { slow, published };
}

/**
 * Resumes with Last-Event-ID `lastId` until `done(events)` holds for the numbered events
 * received, reconnecting (from the last id received) like an EventSource would when a
 * connection ends; fails after `maxConnections`, naming how each one ended.
 */
async function resumeUntil(herald, lastId, done, { maxConnections = 3 } = {}) {
  const got = [];
  const ends = [];
  let id = lastId;
  for (let i = 1; i <= maxConnections; i++) {
    const s = await openSse(herald, {}, { headers: { 'Last-Event-ID': id } });
    const numbered = () => s.events.filter((e) => e.id !== null && /\.\d+$/.test(e.id));
    try {
      await s.until(() => done([...got, ...numbered()]), { orEnd: true, boundMs: 30_000, what: 'the resumed stream to catch up' });
    } finally {
      s.close();
    }
    got.push(...numbered());
    if (done(got)) return { events: got, connections: i };
    ends.push(`connection ${i} (Last-Event-ID ${id}) ended "${s.endedHow}" after ${numbered().length} events`);
    if (numbered().length) id = numbered().at(-1).id;
  }
  assert.fail(
    `a reader that reads did not catch up by resuming with Last-Event-ID within ${maxConnections} connections ` +
      `(${got.length} events received): ${ends.join('; ')}`,
  );
}

describe('slow SSE reader (small --max-stream-buffer)', () => {
  test('a reader that stops reading is cut off; meanwhile every publish is answered and another reader of the group gets every message', { timeout: 120_000 }, () =>
    // 64 KiB, not 16: the fast reader shares two loaded cores with four publishers, and
    // its acknowledgements cross two actor hops; the stalled reader is cut off all the same.
    withHerald(['--max-stream-buffer', '65536', '--queue-max', '100000'], async (herald) => {
      const g = uniq('g');
      const slowSession = await enter(herald.url, 'slow', [g]);
      const fast = await openSse(herald, { user: 'fast', groups: g });
      await fast.untilEvent((e) => e.event === 'join' && e.json.user === 'fast', { what: 'fast joined' });

      const { slow, published } = await stallAndFlood(herald, g, slowSession);

      // The fast reader is unaffected: every message, in seq order, no overflow.
      const fastMsgs = () => fast.events.filter((e) => e.event === 'message');
      await fast.until(() => fastMsgs().length >= published, { boundMs: 30_000, what: `${published} messages on the fast stream` });
      const seqs = fastMsgs().map((e) => e.json.seq);
      assert.deepEqual(seqs, seqs.map((_, i) => i + 1), 'the fast reader got seq 1..n in order');
      assert.ok(!fast.events.some((e) => e.event === 'overflow'));
      assert.equal(fast.endedHow, null, 'the fast stream stays open');
      fast.close();

      // Reading again, the slow reader finds its stream cut: no terminating chunk, and
      // no control event (it is not told to stop; it just resumes).
      slow.socket.resume();
      assert.equal(await slow.endedWithin(30_000, 'the slow stream to close'), 'aborted', 'the server cut the slow stream off');
      assert.ok(!slow.events.some((e) => ['superseded', 'error', 'reconnect'].includes(e.event)), slow.describe());
      assert.ok(msgs(slow.events).length < published, 'the cut came before the end of the flood');
    }));

  // --io-threads 1 here: these two are about the resume, not about the publish hang
  // that the test above can hit with several I/O threads.
  test('a cut-off reader resumes by Last-Event-ID and gets every message it missed, exactly once, in order', { timeout: 120_000 }, () =>
    withHerald(['--max-stream-buffer', '16384', '--queue-max', '100000', '--io-threads', '1'], async (herald) => {
      const g = uniq('g');
      const slowSession = await enter(herald.url, 'slow', [g]);
      const { slow, published } = await stallAndFlood(herald, g, slowSession, { after: 100 });
      slow.socket.resume();
      assert.equal(await slow.endedWithin(30_000, 'the slow stream to close'), 'aborted', 'the server cut the slow stream off');
      const part1 = slow.events.filter((e) => e.id !== null);
      const { events: part2 } = await resumeUntil(herald, part1.at(-1).id, (evs) => evs.some((e) => e.json?.seq === published));
      const all = [...part1, ...part2];
      assertEidChain(all, slowSession, 0);
      const slowSeqs = msgs(all).map((e) => e.json.seq);
      assert.deepEqual(slowSeqs, slowSeqs.map((_, i) => i + 1), 'every message exactly once, in order, across the cut');
      assert.equal(slowSeqs.length, published);
    }));

  test('a cut-off reader whose queue overflowed meanwhile is told so by an overflow event when it resumes', { timeout: 120_000 }, () =>
    withHerald(['--max-stream-buffer', '16384', '--queue-max', '64', '--io-threads', '1'], async (herald) => {
      const g = uniq('g');
      const slowSession = await enter(herald.url, 'slow', [g]);
      // 200 more after the cut: far more than the queue holds.
      const { slow, published } = await stallAndFlood(herald, g, slowSession, { after: 200 });
      slow.socket.resume();
      assert.equal(await slow.endedWithin(30_000, 'the slow stream to close'), 'aborted');
      const part1 = slow.events.filter((e) => e.id !== null);
      const { events: part2 } = await resumeUntil(herald, part1.at(-1).id, (evs) => evs.some((e) => e.json?.seq === published));
      assert.equal(part2[0].event, 'overflow', `the resumed stream must start by announcing the loss: ${part2[0].data}`);
      assert.ok(part2[0].json.dropped >= 1, part2[0].data);
      assertEidChain([...part1, ...part2], slowSession, 0);
      // Wherever the message seqs jump, an overflow event sits in between.
      let prevSeq = 0;
      let announced = false;
      for (const e of [...part1, ...part2]) {
        if (e.event === 'overflow') announced = true;
        if (e.event !== 'message') continue;
        assert.ok(e.json.seq > prevSeq, `seq ${e.json.seq} after ${prevSeq}: duplicate or out of order`);
        if (e.json.seq !== prevSeq + 1) assert.ok(announced, `seq jumped ${prevSeq} → ${e.json.seq} with no overflow event`);
        prevSeq = e.json.seq;
        announced = false;
      }
    }));
});

// ---------------------------------------------------------------------------

describe('lease of a session with an open SSE stream (--lease 1)', () => {
  test('an open stream keeps its session alive past the lease; once it closes, the session expires', () =>
    withHerald(['--lease', '1', '--heartbeat', '1'], async (herald) => {
      const url = herald.url;
      const g = uniq('g');
      const watcher = await enter(url, 'watcher', [g], { lease: 60 });
      const inbox = new Inbox(url, watcher);
      const s = await openSse(herald, { user: 'holder', groups: g });
      const sessionEv = await s.untilEvent((e) => e.event === 'session', { what: 'the session event' });
      assert.equal(sessionEv.json.lease, 1);
      // Three heartbeats at 1 s: the stream has been open for well over the 1 s lease.
      await s.until(() => s.comments.filter((c) => c.startsWith(' heartbeat')).length >= 3, { what: '3 heartbeats' });
      await call(url, 'speak', { session: watcher, group: g, data: 'still there?' });
      await s.untilEvent((e) => e.event === 'message' && e.json.data === 'still there?', { what: 'the message on the held session' });
      assert.equal(s.endedHow, null, 'the stream is still open');
      await inbox.until(is.message(g, 'still there?'));
      assert.ok(!inbox.events.some(is.leave(g, 'holder')), `no leave while the stream was open: ${JSON.stringify(inbox.events)}`);

      s.close();
      await inbox.until(is.leave(g, 'holder', 'expired'), { boundMs: 15_000, what: 'the expiry leave of holder' });
    }));
});

// ---------------------------------------------------------------------------

describe('SSE while the node drains (SIGTERM)', () => {
  test('an open stream is told to reconnect (event reconnect), then it ends and the node exits 0', () =>
    withHerald(['--drain-timeout', '5'], async (herald) => {
      const g = uniq('g');
      const session = await enter(herald.url, 'drained', [g]);
      const s = await openSse(herald, { session });
      await s.untilEvent((e) => e.event === 'join', { what: 'the own join' });
      herald.terminate();
      assert.equal(await s.endedWithin(10_000, 'the stream to end while draining'), 'end');
      const last = s.events.at(-1);
      assert.equal(last.event, 'reconnect', s.describe());
      assert.equal(last.json?.type, 'reconnect');
      assert.equal(last.json?.reason, 'draining');
      assert.equal(last.id, null, 'no id: the browser resumes from the last real event');
      assert.deepEqual(await bounded(herald.exited, 15_000, 'herald to exit'), { code: 0, signal: null });
    }));
});
