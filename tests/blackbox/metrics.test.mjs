// GET /metrics: the exposition is well-formed, and its figures move exactly with
// what the test does (sessions, groups, connections by transport, deliveries,
// drops, expiries, pending long-polls). Each suite has its own server, so every
// count starts from zero; metrics are polled until they match, never slept for.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import WebSocket from 'ws';
import {
  bounded, call, describe, enter, listen, openSse, request, test, uniq, useHerald,
} from './lib/herald.mjs';
import { scrape, untilMetric, valueOf } from './lib/metrics.mjs';

const REQUIRED = [
  'herald_connections_open', 'herald_connections_accepted_total', 'herald_connections_closed_total',
  'herald_write_buffer_bytes', 'herald_sessions', 'herald_groups', 'herald_group_members',
  'herald_longpolls_pending', 'herald_session_queue_depth_events', 'herald_session_queue_depth_max_events',
  'herald_mailbox_depth_messages', 'herald_mailbox_depth_max_messages', 'herald_messages_published_total',
  'herald_events_delivered_total', 'herald_events_dropped_total', 'herald_leases_expired_total',
  'herald_slow_consumers_total', 'herald_delivery_latency_seconds', 'herald_http_requests_total',
  'herald_http_request_duration_seconds', 'herald_build_info', 'herald_ready',
  'herald_process_cpu_seconds_total', 'herald_process_resident_memory_bytes', 'herald_process_open_fds',
];

const eq = (n) => (v) => v === n;

async function speak(url, session, group, data) {
  return call(url, 'speak', { session, group, data });
}

/** Opens a herald.v1 WebSocket and resolves once it is open; frames land in `frames`. */
function openWebSocket(server) {
  const ws = new WebSocket(`ws://${server.host}:${server.port}/v1/ws`, ['herald.v1']);
  ws.frames = [];
  ws.on('message', (data) => ws.frames.push(JSON.parse(String(data))));
  return bounded(new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  }), 10_000, 'a WebSocket to open', () => ws.terminate());
}

function untilFrame(ws, pred, what) {
  return bounded(new Promise((resolve) => {
    const check = () => {
      const f = ws.frames.find(pred);
      if (f) {
        ws.off('message', check);
        resolve(f);
      }
    };
    ws.on('message', check);
    check();
  }), 10_000, what);
}

describe('/metrics exposition', () => {
  const herald = useHerald();

  test('is Prometheus text 0.0.4; every family is herald_*, typed, with help', async () => {
    await request(herald, { path: '/healthz' }); // so that a request has been counted
    const s = await scrape(herald);
    assert.match(s.headers['content-type'], /^text\/plain; version=0\.0\.4/);
    for (const name of REQUIRED) assert.ok(s.families.has(name), `missing family ${name}`);
    for (const [name, f] of s.families) {
      assert.match(name, /^herald_[a-z0-9_]+$/, `family name ${name}`);
      assert.ok(f.help && f.help.length > 10, `${name} has help text`);
      assert.ok(['counter', 'gauge', 'histogram'].includes(f.type), `${name} type ${f.type}`);
      if (f.type === 'counter') assert.match(name, /_total$/, `counter ${name} ends in _total`);
    }
    const info = s.samples.find((x) => x.name === 'herald_build_info');
    assert.equal(info.value, 1);
    assert.ok(info.labels.version && info.labels.commit && info.labels.node, JSON.stringify(info.labels));
    assert.equal(valueOf(s, 'herald_ready'), 1);
    assert.ok(valueOf(s, 'herald_process_resident_memory_bytes') > 1e6);
    assert.ok(valueOf(s, 'herald_process_open_fds') >= 3);
  });

  test('promtool check metrics accepts a scrape', async () => {
    const s = await scrape(herald);
    const r = spawnSync('promtool', ['check', 'metrics'], { input: s.text, encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.error, undefined, `promtool could not run (install: tools/install-deps.sh --metrics): ${r.error}`);
    assert.equal(r.status, 0, `promtool check metrics:\n${r.stdout}${r.stderr}`);
  });

  test('HEAD /metrics sends headers only; POST is 405', async () => {
    const head = await request(herald, { method: 'HEAD', path: '/metrics' });
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
    const post = await request(herald, { method: 'POST', path: '/metrics', body: '' });
    assert.equal(post.status, 405);
    assert.equal(post.body.error.code, 'bad_request');
  });

  test('a keep-alive client that leaves after its answer is counted closed at once', async () => {
    const closed0 = valueOf(await scrape(herald), 'herald_connections_closed_total', { transport: 'longpoll', reason: 'client' });
    // RPC answers come from a request actor, and the connection watches its peer
    // meanwhile: that watch must not hide the client's later close.
    for (let i = 0; i < 3; i++) {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      for (let j = 0; j < 2; j++) {
        const r = await request(herald, {
          method: 'POST', path: '/v1/rpc', headers: { 'Content-Type': 'application/json' }, body: '{"method":"ping"}', agent,
        });
        assert.equal(r.status, 200, r.text);
      }
      agent.destroy();
    }
    // Well before --keepalive-timeout (60 s): only the scrapes' connections remain.
    await untilMetric(herald, 'herald_connections_closed_total', { transport: 'longpoll', reason: 'client' },
      (v) => v >= closed0 + 3);
  });

  test('requests are counted by path class and status', async () => {
    const before = valueOf(await scrape(herald), 'herald_http_requests_total', { path: 'other', status: '404' }) ?? 0;
    await request(herald, { path: '/no-such-path' });
    await request(herald, { path: '/v1/nope' });
    await untilMetric(herald, 'herald_http_requests_total', { path: 'other', status: '404' }, eq(before + 2));
  });
});

describe('/metrics counts sessions, groups and traffic', () => {
  const herald = useHerald();

  test('sessions, groups and members match what was created and ended', async () => {
    const group = uniq('g');
    const sessions = [];
    for (const user of ['a', 'b', 'c']) sessions.push(await enter(herald.url, user, [group]));
    await enter(herald.url, 'loner', []);
    let s = await scrape(herald);
    assert.equal(valueOf(s, 'herald_sessions'), 4);
    assert.equal(valueOf(s, 'herald_groups'), 1);
    assert.equal(valueOf(s, 'herald_group_members'), 3);
    await call(herald.url, 'exit', { session: sessions[0] });
    s = await untilMetric(herald, 'herald_sessions', {}, eq(3));
    await untilMetric(herald, 'herald_group_members', {}, eq(2));
    await call(herald.url, 'leave', { session: sessions[1], group });
    await untilMetric(herald, 'herald_group_members', {}, eq(1));
  });

  test('published and delivered by long-poll, with latency for each message', async () => {
    const group = uniq('g');
    const session = await enter(herald.url, 'poller', [group]);
    const s0 = await scrape(herald);
    const published0 = valueOf(s0, 'herald_messages_published_total', { kind: 'group' });
    const delivered0 = valueOf(s0, 'herald_events_delivered_total', { transport: 'longpoll' });
    const latency0 = valueOf(s0, 'herald_delivery_latency_seconds_count', { transport: 'longpoll' });
    for (let i = 0; i < 5; i++) await speak(herald.url, session, group, i);
    await call(herald.url, 'send', { session, to: 'poller', data: 'direct' });
    const r = await listen(herald.url, session, 0, 0);
    assert.equal(r.status, 200, r.text);
    const events = r.body.events;
    const s1 = await scrape(herald);
    assert.equal(valueOf(s1, 'herald_messages_published_total', { kind: 'group' }), published0 + 5);
    assert.equal(valueOf(s1, 'herald_messages_published_total', { kind: 'direct' }) >= 1, true);
    assert.equal(valueOf(s1, 'herald_events_delivered_total', { transport: 'longpoll' }), delivered0 + events.length);
    const timed = events.filter((e) => e.type === 'message' || e.type === 'direct').length;
    assert.equal(timed, 6);
    assert.equal(valueOf(s1, 'herald_delivery_latency_seconds_count', { transport: 'longpoll' }), latency0 + timed);
    assert.ok(valueOf(s1, 'herald_session_queue_depth_max_events') >= events.length,
      'the session still holds its unacknowledged events');
  });

  test('a waiting long-poll is pending until answered', async () => {
    const group = uniq('g');
    const session = await enter(herald.url, 'waiter', [group]);
    const first = await listen(herald.url, session, 0, 0); // consume the join
    const waiting = listen(herald.url, session, first.body.cursor, 30);
    await untilMetric(herald, 'herald_longpolls_pending', {}, eq(1));
    await speak(herald.url, session, group, 'wake');
    const r = await waiting;
    assert.equal(r.body.events.length, 1);
    await untilMetric(herald, 'herald_longpolls_pending', {}, eq(0));
  });

  test('an SSE stream counts as open, delivers, and counts its close', async () => {
    const group = uniq('g');
    const session = await enter(herald.url, 'streamer', [group]);
    const s0 = await scrape(herald);
    const delivered0 = valueOf(s0, 'herald_events_delivered_total', { transport: 'sse' });
    const closed0 = valueOf(s0, 'herald_connections_closed_total', { transport: 'sse', reason: 'client' });
    const sse = await openSse(herald, { session, cursor: 0 });
    await untilMetric(herald, 'herald_connections_open', { transport: 'sse' }, eq(1));
    for (let i = 0; i < 3; i++) await speak(herald.url, session, group, i);
    await sse.until(() => sse.numbered().length >= 4, { what: 'the join and 3 messages' });
    const received = sse.numbered().length;
    await untilMetric(herald, 'herald_events_delivered_total', { transport: 'sse' }, eq(delivered0 + received));
    const s1 = await scrape(herald);
    assert.ok(valueOf(s1, 'herald_delivery_latency_seconds_count', { transport: 'sse' }) >= 3);
    sse.close();
    await untilMetric(herald, 'herald_connections_open', { transport: 'sse' }, eq(0));
    await untilMetric(herald, 'herald_connections_closed_total', { transport: 'sse', reason: 'client' }, eq(closed0 + 1));
  });

  test('a WebSocket counts as open, delivers, and counts its close', async () => {
    const group = uniq('g');
    const session = await enter(herald.url, 'socket', [group]);
    const delivered0 = valueOf(await scrape(herald), 'herald_events_delivered_total', { transport: 'ws' });
    const ws = await openWebSocket(herald);
    try {
      await untilMetric(herald, 'herald_connections_open', { transport: 'ws' }, eq(1));
      ws.send(JSON.stringify({ id: 1, method: 'attach', params: { session, cursor: 0 } }));
      await untilFrame(ws, (f) => f.id === 1, 'the attach reply');
      await speak(herald.url, session, group, 'over ws');
      await untilFrame(ws, (f) => f.type === 'message', 'the message');
      const events = ws.frames.filter((f) => typeof f.eid === 'number').length;
      await untilMetric(herald, 'herald_events_delivered_total', { transport: 'ws' }, eq(delivered0 + events));
    } finally {
      ws.close();
    }
    await untilMetric(herald, 'herald_connections_open', { transport: 'ws' }, eq(0));
  });
});

describe('/metrics counts overflow and expiry', () => {
  const herald = useHerald(['--queue-max', '3']);

  test('events dropped equal the overflow events\' dropped counts; queue depth max is the cap', async () => {
    const group = uniq('g');
    const session = await enter(herald.url, 'flooded', [group]);
    for (let i = 0; i < 10; i++) await speak(herald.url, session, group, i);
    const s = await scrape(herald);
    assert.equal(valueOf(s, 'herald_session_queue_depth_max_events'), 3);
    const r = await listen(herald.url, session, 0, 0);
    const announced = r.body.events.filter((e) => e.type === 'overflow').reduce((n, e) => n + e.dropped, 0);
    assert.ok(announced > 0, JSON.stringify(r.body));
    assert.equal(valueOf(s, 'herald_events_dropped_total'), announced);
  });

  test('a lease that passes is counted as expired', async () => {
    await enter(herald.url, 'brief', [], { lease: 1 });
    await untilMetric(herald, 'herald_leases_expired_total', {}, eq(1), { boundMs: 15_000 });
    await untilMetric(herald, 'herald_sessions', {}, eq(1)); // the flooded one remains
  });
});
