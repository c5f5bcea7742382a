// GET /v1/stream: forever-frame streaming for iframe/htmlfile clients — wire format,
// script-safe JSON escaping, heartbeats, callback validation, control calls
// (error, end/superseded, reconnect at --stream-max-age) and resume by cursor.

import assert from 'node:assert/strict';
import {
  assertKeys, assertTime, call, describe, enter, is, listen, openForeverFrame, publishJson, request, test, uniq,
  unknownSessionLike, useHerald, withHerald,
} from './lib/herald.mjs';

const messageCalls = (frame) => frame.calls.filter((c) => c.json?.type === 'message');

/** Asserts the eids of the event calls (those with an eid) run from `from` + 1 by exactly 1. */
function assertEids(calls, from) {
  const eids = calls.filter((c) => typeof c.json?.eid === 'number').map((c) => c.json.eid);
  assert.deepEqual(eids, eids.map((_, i) => from + 1 + i), `eids after ${from}: ${JSON.stringify(eids)}`);
  return eids.at(-1) ?? from;
}

describe('forever-frame', () => {
  const herald = useHerald(['--heartbeat', '1']);

  test('a forever-frame is 200 chunked text/html, no-cache, with at least 1 KiB before the first script', async () => {
    const g = uniq('g');
    const session = await enter(herald.url, 'framed', [g]);
    const f = await openForeverFrame(herald, { session, callback: 'onEvent' });
    try {
      assert.equal(f.status, 200, f.describe());
      assert.equal(f.headers['content-type'], 'text/html; charset=utf-8');
      assert.equal(f.headers['transfer-encoding'], 'chunked');
      assert.equal(f.headers['cache-control'], 'no-cache');
      assert.equal(f.headers['content-length'], undefined);
      await f.untilCall((j) => j.type === 'join', { what: 'the own join' });
      assert.ok(f.preambleBytes >= 1024, `only ${f.preambleBytes} bytes before the first <script>`);
      assert.ok(!/<script/i.test(f.preamble), 'the padding holds no script');
    } finally {
      f.close();
    }
  });

  test('each event is one <script>parent.<callback>(<event JSON>);</script> and nothing else is sent', async () => {
    const g = uniq('g');
    const session = await enter(herald.url, 'scripted', [g]);
    const speaker = await enter(herald.url, 'speaker');
    const f = await openForeverFrame(herald, { session, callback: 'app.herald.onEvent' });
    try {
      for (const d of [{ a: [1, 2] }, 'two', 3]) await call(herald.url, 'speak', { session: speaker, group: g, data: d });
      await f.untilCall((j) => j.type === 'message' && j.data === 3, { what: 'the third message' });
      assert.deepEqual(f.junk, [], 'only scripts (and whitespace) after the padding');
      for (const c of f.calls) assert.equal(c.callback, 'app.herald.onEvent');
      assertEids(f.calls, 0);
      const m = messageCalls(f);
      assert.deepEqual(m.map((c) => c.json.data), [{ a: [1, 2] }, 'two', 3]);
      for (const c of m) assertKeys(c.json, ['type', 'eid', 'group', 'seq', 'epoch', 'from', 'data', 'time'], 'message event');
      assert.equal(m[0].json.from, 'speaker');
    } finally {
      f.close();
    }
  });

  test('event JSON is escaped so that no raw <, >, &, U+2028 or U+2029 reaches the page, and it parses back to the original', async () => {
    const g = uniq('g');
    const session = await enter(herald.url, 'escaper', [g]);
    const data = {
      html: '</script><script>alert(1)</script><!--',
      amp: 'fish & chips && more',
      gt: '1 > 0',
      ls: 'line\u2028separator',
      ps: 'paragraph\u2029separator',
      '<key>': '&amp;',
    };
    const f = await openForeverFrame(herald, { session, callback: 'cb' });
    try {
      await call(herald.url, 'speak', { session, group: g, data });
      const c = await f.untilCall((j) => j.type === 'message', { what: 'the message' });
      for (const ch of ['<', '>', '&', '\u2028', '\u2029'])
        assert.ok(!c.args.includes(ch), `raw ${JSON.stringify(ch)} in the script: ${c.args}`);
      for (const esc of ['\\u003c', '\\u003e', '\\u0026', '\\u2028', '\\u2029'])
        assert.ok(c.args.includes(esc), `expected ${esc} in ${c.args}`);
      assert.deepEqual(c.json.data, data, 'the escaped JSON is the same JSON value');
      // The page as a whole has exactly as many </script> as scripts: none inside a call.
      const closers = f.text.split('</script>').length - 1;
      assert.equal(closers, f.calls.length + f.junk.length);
    } finally {
      f.close();
    }
  });

  test('the data of a server-side publish with markup in it is escaped the same way', async () => {
    const g = uniq('g');
    const session = await enter(herald.url, 'published-to', [g]);
    const f = await openForeverFrame(herald, { session, callback: 'cb' });
    try {
      const r = await publishJson(herald.url, { group: g, data: '<img src=x onerror=alert(1)>', from: '<b>bot</b>' });
      assert.equal(r.status, 200, r.text);
      const c = await f.untilCall((j) => j.type === 'message', { what: 'the published message' });
      assert.ok(!/[<>&]/.test(c.args), c.args);
      assert.equal(c.json.data, '<img src=x onerror=alert(1)>');
      assert.equal(c.json.from, '<b>bot</b>');
    } finally {
      f.close();
    }
  });

  test('a heartbeat arrives as parent.<callback>({"type":"heartbeat","time":…}) (--heartbeat 1)', async () => {
    const session = await enter(herald.url, 'beating');
    const f = await openForeverFrame(herald, { session, callback: 'hb' });
    try {
      const c = await f.untilCall((j) => j.type === 'heartbeat', { what: 'a heartbeat call' });
      assert.equal(c.callback, 'hb');
      assertKeys(c.json, ['type', 'time'], 'heartbeat');
      assertTime(c.json.time, 'heartbeat time');
    } finally {
      f.close();
    }
  });

  test('callback must match ^[A-Za-z_$][A-Za-z0-9_$.]{0,63}$: otherwise (or missing) 400 bad_request', async () => {
    const session = await enter(herald.url, 'callbacks');
    const bad = ['1abc', 'a-b', 'a'.repeat(65), '', 'a b', 'a(b)', 'alert(1)//', 'ä'];
    for (const cb of bad) {
      const r = await request(herald.url, { path: `/v1/stream?session=${session}&callback=${encodeURIComponent(cb)}` });
      assert.equal(r.status, 400, `callback ${JSON.stringify(cb)} → HTTP ${r.status} ${r.text}`);
      assert.equal(r.body?.error?.code, 'bad_request', r.text);
    }
    const missing = await request(herald.url, { path: `/v1/stream?session=${session}` });
    assert.equal(missing.status, 400, missing.text);
    assert.equal(missing.body?.error?.code, 'bad_request');

    for (const cb of ['a'.repeat(64), '$', '_', 'A1$_.x', 'window.top.cb']) {
      const f = await openForeverFrame(herald, { session, callback: cb });
      try {
        assert.equal(f.status, 200, `callback ${cb}: ${f.describe()}`);
        const c = await f.until(() => f.calls[0], { what: `a first call to ${cb} (heartbeat)` });
        assert.equal(c.callback, cb);
      } finally {
        f.close();
      }
    }
  });

  test('a missing or malformed session, or a malformed cursor, is 400 bad_request', async () => {
    const session = await enter(herald.url, 'params');
    for (const q of ['callback=cb', 'callback=cb&session=bad!id', `callback=cb&session=${'a'.repeat(65)}`, `callback=cb&session=${session}&cursor=x`, `callback=cb&session=${session}&cursor=-3`]) {
      const r = await request(herald.url, { path: `/v1/stream?${q}` });
      assert.equal(r.status, 400, `${q} → HTTP ${r.status} ${r.text}`);
      assert.equal(r.body?.error?.code, 'bad_request', r.text);
    }
  });

  test('cursor= sends only the events after it', async () => {
    const g = uniq('g');
    const session = await enter(herald.url, 'cursored', [g]);
    for (let i = 1; i <= 3; i++) await call(herald.url, 'speak', { session, group: g, data: i });
    // wait until all are queued (cursor 0 acknowledges nothing)
    for (;;) {
      const r = await listen(herald.url, session, 0, 1);
      if (r.body.events.some(is.message(g, 3))) break;
    }
    const f = await openForeverFrame(herald, { session, callback: 'cb', cursor: 2 });
    try {
      await f.untilCall((j) => j.type === 'message' && j.data === 3, { what: 'message 3' });
      assertEids(f.calls, 2);
      assert.deepEqual(messageCalls(f).map((c) => c.json.data), [2, 3]);
    } finally {
      f.close();
    }
  });

  test('an unknown session is told by an error call with unknown_session, then the response ends', async () => {
    const real = await enter(herald.url, 'real');
    const f = await openForeverFrame(herald, { session: unknownSessionLike(real), callback: 'cb' });
    assert.equal(f.status, 200);
    assert.equal(await f.endedWithin(), 'end');
    const errors = f.calls.filter((c) => c.json?.type === 'error');
    assert.equal(errors.length, 1, f.describe());
    // Shape: {"type":"error","error":{"code","message"}} — the error shape with a type.
    assert.equal(errors[0].json.error?.code, 'unknown_session', errors[0].args);
    assert.equal(typeof errors[0].json.error?.message, 'string');
  });

  test('when the session exits, the frame gets an unknown_session error call and ends', async () => {
    const g = uniq('g');
    const session = await enter(herald.url, 'leaving', [g]);
    const f = await openForeverFrame(herald, { session, callback: 'cb' });
    await f.untilCall((j) => j.type === 'join', { what: 'the own join' });
    await call(herald.url, 'exit', { session });
    assert.equal(await f.endedWithin(), 'end');
    const last = f.calls.at(-1).json;
    assert.equal(last.type, 'error', f.describe());
    assert.equal(last.error?.code, 'unknown_session');
  });

  test('a long-poll of the same session ends the frame with {"type":"end","reason":"superseded"}; the long-poll gets the events', async () => {
    const g = uniq('g');
    const session = await enter(herald.url, 'overtaken', [g]);
    const f = await openForeverFrame(herald, { session, callback: 'cb' });
    await f.untilCall((j) => j.type === 'join', { what: 'the own join' });
    const pending = listen(herald.url, session, 1, 10);
    assert.equal(await f.endedWithin(10_000, 'the superseded frame to end'), 'end');
    const last = f.calls.at(-1).json;
    assert.equal(last.type, 'end', f.describe());
    assert.equal(last.reason, 'superseded');
    await call(herald.url, 'speak', { session, group: g, data: 'for the long-poll' });
    const r = await pending;
    assert.ok(r.body.events.some(is.message(g, 'for the long-poll')), r.text);
  });

  test('a frame that starts with a backlog larger than --max-stream-buffer (default 256 KiB) delivers all of it to a reader that reads', async () => {
    const g = uniq('g');
    const session = await enter(herald.url, 'backlogged', [g]);
    const pad = 'x'.repeat(1000);
    for (let i = 1; i <= 400; i++) {
      const r = await publishJson(herald.url, { group: g, data: { i, pad } });
      assert.equal(r.status, 200, r.text);
    }
    for (;;) {
      const r = await listen(herald.url, session, 0, 1);
      if (r.body.events.some((e) => e.type === 'message' && e.data.i === 400)) break;
    }
    const f = await openForeverFrame(herald, { session, callback: 'cb' });
    try {
      await f.until(() => messageCalls(f).some((c) => c.json.data.i === 400), { boundMs: 20_000, what: 'all 400 queued messages' });
      assert.deepEqual(messageCalls(f).map((c) => c.json.data.i), Array.from({ length: 400 }, (_, i) => i + 1));
    } finally {
      f.close();
    }
  });
});

describe('forever-frame --stream-max-age 1', () => {
  const herald = useHerald(['--stream-max-age', '1']);

  test('at --stream-max-age the frame gets a reconnect call and the response ends; resuming with the cursor loses nothing', async () => {
    const g = uniq('g');
    const session = await enter(herald.url, 'aging', [g]);
    const speaker = await enter(herald.url, 'speaker');
    const f1 = await openForeverFrame(herald, { session, callback: 'cb' });
    for (let i = 1; i <= 3; i++) await call(herald.url, 'speak', { session: speaker, group: g, data: i });
    assert.equal(await f1.endedWithin(10_000, 'the frame to end at its max age'), 'end');
    const reconnect = f1.calls.at(-1).json;
    assert.equal(reconnect?.type, 'reconnect', f1.describe());
    assert.equal(reconnect.reason, 'max_age');
    assertTime(reconnect.time, 'reconnect time');
    const last = assertEids(f1.calls, 0);

    for (let i = 4; i <= 6; i++) await call(herald.url, 'speak', { session: speaker, group: g, data: i });
    const f2 = await openForeverFrame(herald, { session, callback: 'cb', cursor: last });
    try {
      await f2.untilCall((j) => j.type === 'message' && j.data === 6, { what: 'message 6 on the next frame' });
      assertEids(f2.calls, last);
      const all = [...messageCalls(f1), ...messageCalls(f2)].map((c) => c.json.data);
      assert.deepEqual(all, [1, 2, 3, 4, 5, 6], 'every message exactly once, in order, across the recycle');
    } finally {
      f2.close();
    }
  });
});

describe('forever-frame while the node drains (SIGTERM)', () => {
  test('an open frame gets {"type":"reconnect","reason":"draining"}, then the response ends', () =>
    withHerald(['--drain-timeout', '5'], async (herald) => {
      const g = uniq('g');
      const session = await enter(herald.url, 'drained', [g]);
      const f = await openForeverFrame(herald, { session, callback: 'cb' });
      await f.untilCall((j) => j.type === 'join', { what: 'the own join' });
      herald.terminate();
      assert.equal(await f.endedWithin(10_000, 'the frame to end while draining'), 'end');
      const last = f.calls.at(-1).json;
      assert.equal(last?.type, 'reconnect', f.describe());
      assert.equal(last.reason, 'draining');
    }));
});
