// Smoke test of the benchmark load generator (bench/loadgen, BENCHMARKS.md): herald-loadgen
// subscribes 5 clients per transport to a started herald (and 5 more published to one request
// in flight over 4 connections), publishes 100-byte timestamped
// messages for about 2 s, and must report every one of them delivered exactly once (and so
// must a small chat mix, with sessions reconnecting and resuming by eid). It fails
// when either the load generator or the server loses, duplicates or mangles a message, so it
// keeps the harness honest without measuring anything (tests never assert durations).
//
// herald-loadgen is built beside herald (HERALD_LOADGEN overrides it).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { bounded, describe, HERALD_BIN, test, uniq, useHerald } from './lib/herald.mjs';

const LOADGEN = process.env.HERALD_LOADGEN || path.join(path.dirname(HERALD_BIN), 'herald-loadgen');
const RUN_BOUND_MS = 40_000;

/** Runs herald-loadgen to completion; resolves to its one JSON result line (parsed). */
async function loadgen(args) {
  const proc = spawn(LOADGEN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d) => (stdout += d));
  proc.stderr.on('data', (d) => (stderr += d));
  const done = new Promise((resolve, reject) => {
    proc.on('error', (err) => reject(new Error(`cannot start ${LOADGEN}: ${err.message} (build it or set HERALD_LOADGEN)`)));
    proc.on('close', (code, signal) => resolve({ code, signal }));
  });
  const { code, signal } = await bounded(done, RUN_BOUND_MS, `herald-loadgen ${args.join(' ')}`, () => proc.kill('SIGKILL'));
  const what = `herald-loadgen ${args.join(' ')}\nstdout: ${stdout}\nstderr: ${stderr}`;
  assert.equal(code, 0, `exit code=${code} signal=${signal}\n${what}`);
  const lines = stdout.trim().split('\n');
  assert.equal(lines.length, 1, `one JSON line expected\n${what}`);
  return { result: JSON.parse(lines[0]), what };
}

describe('herald-loadgen against herald', { concurrency: 3 }, () => {
  const herald = useHerald(['--notify-presence', 'off']);

  for (const transport of ['ws', 'sse', 'longpoll']) {
    test(`5 ${transport} subscribers receive every message of 2 s at 200 msg/s exactly once`, async () => {
      const { result: r, what } = await loadgen([
        '--url', herald.url, '--dialect', 'herald', '--transport', transport,
        '--subscribers', '5', '--channels', '1', '--channel-prefix', uniq('bench'),
        '--rate', '200', '--duration', '2', '--drain', '10',
      ]);
      assert.equal(r.error, null, what);
      assert.equal(r.ready, 5, what);
      assert.ok(r.published > 0, `nothing was published\n${what}`);
      assert.equal(r.publish_errors, 0, what);
      assert.equal(r.expected, 5 * r.published, what);
      assert.ok(r.delivered > 0, `nothing was delivered\n${what}`);
      assert.equal(r.missing, 0, what);
      assert.equal(r.duplicates, 0, what);
      assert.equal(r.malformed, 0, what);
      assert.equal(r.unique, r.expected, what);
      assert.equal(r.drained, true, what);
      assert.equal(r.latency_ns.count, r.expected, what);
      assert.ok(r.deliveries_per_s > 0, what);
    });
  }

  // The one-in-flight publisher of issue 17: one channel spread over 4 connections with one
  // request in flight each, so subscribers may see seqs out of order; every message must still
  // count exactly once, and every publish has its round trip timed.
  test('5 ws subscribers receive every message published one in flight over 4 connections exactly once', async () => {
    const { result: r, what } = await loadgen([
      '--url', herald.url, '--dialect', 'herald', '--transport', 'ws',
      '--subscribers', '5', '--channels', '1', '--channel-prefix', uniq('bench'),
      '--rate', '200', '--duration', '2', '--drain', '10',
      '--pub-connections', '4', '--pipeline', '1', '--spread',
    ]);
    assert.equal(r.error, null, what);
    assert.ok(r.published > 0, `nothing was published\n${what}`);
    assert.equal(r.publish_errors, 0, what);
    assert.equal(r.publish_round_trip_ns.count, r.published, what);
    assert.equal(r.expected, 5 * r.published, what);
    assert.equal(r.missing, 0, what);
    assert.equal(r.duplicates, 0, what);
    assert.equal(r.gaps, 0, what);
    assert.equal(r.unique, r.expected, what);
    assert.equal(r.drained, true, what);
  });

  // Scenario 6 in small: 40 sessions, each in its own user channel and in one of 4 rooms of 10,
  // rooms and users published to at 20 msg/s each, 10 sessions/s dropping their WebSocket and
  // resuming with `attach` and their last eid. Every message must still arrive exactly once.
  test('chat mix: 40 sessions in rooms of 10 with churn receive every room and direct message exactly once', async () => {
    const { result: r, what } = await loadgen([
      '--url', herald.url, '--dialect', 'herald', '--transport', 'ws', '--subscribers', '40',
      '--chat', '10', '--rate', '20', '--user-rate', '20', '--churn-rate', '10',
      '--channel-prefix', uniq('room'), '--user-prefix', uniq('u'), '--duration', '2', '--drain', '10',
    ]);
    assert.equal(r.error, null, what);
    assert.equal(r.ready, 40, what);
    assert.equal(r.publish_errors, 0, what);
    assert.ok(r.chat.room_messages > 0 && r.chat.user_messages > 0, `nothing was published\n${what}`);
    assert.equal(r.published, r.chat.room_messages + r.chat.user_messages, what);
    assert.equal(r.expected, 10 * r.chat.room_messages + r.chat.user_messages, what);
    assert.ok(r.chat.reconnects > 0, `no session was churned\n${what}`);
    assert.equal(r.chat.lost_sessions, 0, what);
    assert.equal(r.missing, 0, what);
    assert.equal(r.duplicates, 0, what);
    assert.equal(r.malformed, 0, what);
    assert.equal(r.unique, r.expected, what);
    assert.equal(r.drained, true, what);
  });
});
