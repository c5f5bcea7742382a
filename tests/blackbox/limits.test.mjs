// The limits of protocol-v1 "Transport security and limits": --rate-limit (commands
// per second per connection, bursts of 2N; beyond: rate_limited, 429 with Retry-After
// over HTTP, not performed) and --max-sessions-per-user.

import assert from 'node:assert/strict';
import http from 'node:http';
import WebSocket from 'ws';
import {
  assertError, bounded, call, callError, describe, enter, request, rpc, test, uniq, useHerald,
} from './lib/herald.mjs';

const pings = (n) => Array.from({ length: n }, (_, i) => ({ id: i, method: 'ping', params: {} }));

// How many replies of a batch are results before the first rate_limited one, and
// asserts that every reply after that is rate_limited too or a result (refill).
function splitReplies(replies) {
  const firstLimited = replies.findIndex((r) => r.error?.code === 'rate_limited');
  for (const r of replies) assert.ok(r.result || r.error?.code === 'rate_limited', JSON.stringify(r));
  return { performed: firstLimited < 0 ? replies.length : firstLimited, limited: replies.filter((r) => r.error).length };
}

describe('--rate-limit 5 (bursts of 10)', () => {
  const herald = useHerald(['--rate-limit', '5']);

  test('a batch beyond the burst: the first 10 run, later ones are rate_limited, Retry-After set', async () => {
    const r = await rpc(herald.url, pings(40));
    assert.equal(r.status, 200);
    const { performed, limited } = splitReplies(r.body);
    assert.ok(performed >= 10, `only ${performed} of the burst ran`);
    assert.ok(limited >= 20, `only ${limited} limited: ${JSON.stringify(r.body)}`);
    assert.equal(r.headers['retry-after'], '1');
    const message = r.body.find((x) => x.error).error.message;
    assert.match(message, /rate-limit/);
  });

  test('over one keep-alive connection: a single command past the budget is 429 with Retry-After', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const post = (frame) => request(herald, {
        method: 'POST', path: '/v1/rpc', agent, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(frame),
      });
      const first = await post(pings(30));
      assert.ok(first.body.some((x) => x.error?.code === 'rate_limited'));
      const r = await post({ id: 'one', method: 'ping', params: {} });
      assert.equal(r.reusedSocket, true, 'the second request must share the connection');
      assertError(r, 429, 'rate_limited', 'single ping past the budget');
      assert.equal(r.headers['retry-after'], '1');
      assert.equal(r.body.id, 'one');
    } finally {
      agent.destroy();
    }
  });

  test('a new connection has its own budget', async () => {
    await rpc(herald.url, pings(30));
    assert.deepEqual(Object.keys(await call(herald.url, 'ping', {})), ['time']);
  });

  test('a rate_limited speak is not performed', async () => {
    const group = uniq('g');
    const session = await enter(herald.url, uniq('u'), [group]);
    const speaks = Array.from({ length: 30 }, (_, i) => ({ id: i, method: 'speak', params: { session, group, data: i } }));
    const r = await rpc(herald.url, speaks);
    const performed = r.body.filter((x) => x.result).length;
    assert.ok(performed >= 10 && performed < 30, `performed ${performed}`);
    // A fresh connection: its own budget.
    const history = await call(herald.url, 'history', { session, group, limit: 100 });
    assert.equal(history.messages.length, performed);
    assert.deepEqual(history.messages.map((m) => m.data), r.body.filter((x) => x.result).map((x) => x.id));
  });

  test('over WebSocket: commands beyond the budget are answered rate_limited in place', async () => {
    const ws = new WebSocket(`ws://${herald.host}:${herald.port}/v1/ws`, ['herald.v1']);
    try {
      const replies = [];
      const all = new Promise((resolve) => {
        ws.on('message', (data) => {
          const frame = JSON.parse(data.toString());
          if (Array.isArray(frame)) replies.push(...frame);
          else if ('id' in frame) replies.push(frame);
          if (replies.length >= 40) resolve();
        });
      });
      await bounded(new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); }), 10_000, 'ws open');
      ws.send(JSON.stringify(pings(25)));
      for (let i = 25; i < 40; i++) ws.send(JSON.stringify({ id: i, method: 'ping', params: {} }));
      await bounded(all, 10_000, '40 replies');
      replies.sort((a, b) => a.id - b.id);
      const { performed, limited } = splitReplies(replies);
      assert.ok(performed >= 10, `performed ${performed}`);
      assert.ok(limited >= 20, `limited ${limited}`);
    } finally {
      ws.terminate();
    }
  });

  test('POST /v1/publish is not counted (a backend publishes at its own pace)', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const group = uniq('g');
      for (let i = 0; i < 25; i++) {
        const r = await request(herald, {
          method: 'POST', path: '/v1/publish', agent, headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ group, data: i }),
        });
        assert.equal(r.status, 200, r.text);
      }
    } finally {
      agent.destroy();
    }
  });
});

describe('--rate-limit 0 turns the limit off', () => {
  const herald = useHerald(['--rate-limit', '0']);
  test('a batch of 90 pings all run', async () => {
    const r = await rpc(herald.url, pings(90));
    assert.equal(r.body.filter((x) => x.result).length, 90);
  });
});

describe('--max-sessions-per-user 3', () => {
  const herald = useHerald(['--max-sessions-per-user', '3']);

  test('the fourth enter of one user is rate_limited (429, Retry-After); others and exits free a place', async () => {
    const user = uniq('many');
    const sessions = [];
    for (let i = 0; i < 3; i++) sessions.push(await enter(herald.url, user));
    const r = await callError(herald.url, 'enter', { user }, 429, 'rate_limited');
    assert.match(r.body.error.message, /max-sessions-per-user/);
    assert.equal(r.headers['retry-after'], '1');
    await enter(herald.url, uniq('other'));
    await call(herald.url, 'exit', { session: sessions[0] });
    await enter(herald.url, user);
  });
});

describe('the defaults: 16 sessions per user', () => {
  const herald = useHerald();
  test('16 enters of one user succeed, the 17th is rate_limited', async () => {
    const user = uniq('sixteen');
    for (let i = 0; i < 16; i++) await enter(herald.url, user);
    await callError(herald.url, 'enter', { user }, 429, 'rate_limited');
  });
});

describe('/readyz turns false when the node cannot take new sessions (--max-sessions 2)', () => {
  const herald = useHerald(['--max-sessions', '2']);

  test('full: readyz 503 unavailable, enter refused, /healthz still 200; an exit makes it ready again', async () => {
    assert.equal((await request(herald, { path: '/readyz' })).status, 200);
    const first = await enter(herald.url, uniq('a'));
    await enter(herald.url, uniq('b'));
    const full = await request(herald, { path: '/readyz' });
    assertError(full, 503, 'unavailable', 'readyz of a full node');
    assert.match(full.body.error.message, /max-sessions/);
    assert.equal((await request(herald, { path: '/healthz' })).status, 200);
    await callError(herald.url, 'enter', { user: uniq('c') }, 503, 'unavailable');
    await call(herald.url, 'exit', { session: first });
    // The directory publishes its count after the session ended: wait for it, bounded.
    const deadline = Date.now() + 10_000;
    let status;
    while ((status = (await request(herald, { path: '/readyz' })).status) !== 200 && Date.now() < deadline)
      await call(herald.url, 'ping', {});
    assert.equal(status, 200);
  });
});
