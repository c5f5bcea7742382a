// A real Prometheus server (Debian's `prometheus`, on a loopback port with a generated
// config and a throw-away TSDB) scrapes a running herald; the test acts, then asks
// Prometheus's HTTP API until the series say what the test did.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import {
  after, before, bounded, describe, enter, publishJson, test, uniq, useHerald,
} from './lib/herald.mjs';

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function startPrometheus(target) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-prometheus-'));
  const config = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(config, [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    'scrape_configs:',
    '  - job_name: herald',
    '    metrics_path: /metrics',
    '    static_configs:',
    `      - targets: ['${target}']`,
    '',
  ].join('\n'));
  const port = await freePort();
  const proc = spawn('prometheus', [
    `--config.file=${config}`,
    `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr.on('data', (d) => (log += d));
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const spawnError = new Promise((_, reject) => proc.on('error', (err) =>
    reject(new Error(`cannot start prometheus (tools/install-deps.sh --metrics): ${err.message}`))));
  const url = `http://127.0.0.1:${port}`;
  const prometheus = {
    url,
    log: () => log,
    stop: async () => {
      proc.kill('SIGTERM');
      await bounded(exited, 20_000, 'prometheus to exit', () => proc.kill('SIGKILL'));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  const ready = (async () => {
    for (;;) {
      try {
        if ((await fetch(`${url}/-/ready`)).status === 200) return;
      } catch { /* not listening yet */ }
      await delay(100);
    }
  })();
  try {
    await bounded(Promise.race([ready, spawnError]), 30_000, 'prometheus to become ready');
  } catch (err) {
    await prometheus.stop().catch(() => {});
    err.message += `\n${log}`;
    throw err;
  }
  return prometheus;
}

/** Queries Prometheus until `query` yields one sample satisfying `pred`; returns its value. */
async function untilQuery(prometheus, query, pred, what) {
  let last;
  const poll = (async () => {
    for (;;) {
      const r = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(query)}`);
      last = await r.json();
      const sample = last.data?.result?.[0];
      if (last.status === 'success' && sample && pred(Number(sample.value[1]))) return Number(sample.value[1]);
      await delay(200); // the next scrape lands about once a second
    }
  })();
  return bounded(poll, 30_000, `${what} (query ${query}; last answer ${JSON.stringify(last)})`);
}

describe('a real Prometheus scrapes herald', () => {
  let prometheus;
  // Registered before useHerald's: after hooks run in that order, Prometheus first.
  after(async () => prometheus?.stop());
  const herald = useHerald();
  before(async () => {
    prometheus = await startPrometheus(`${herald.host}:${herald.port}`);
  });

  test('the target is up and the series match the sessions and publishes made', async () => {
    await untilQuery(prometheus, 'up{job="herald"}', (v) => v === 1, 'the herald target to be up');
    const group = uniq('room');
    const sessions = 7;
    for (let i = 0; i < sessions; i++) await enter(herald.url, `user${i}`, [group]);
    const messages = 4;
    for (let i = 0; i < messages; i++) {
      const r = await publishJson(herald, { group, data: { i } });
      assert.equal(r.status, 200, r.text);
    }
    await untilQuery(prometheus, 'herald_sessions{job="herald"}', (v) => v === sessions, `herald_sessions = ${sessions}`);
    await untilQuery(prometheus, 'herald_group_members{job="herald"}', (v) => v === sessions, `herald_group_members = ${sessions}`);
    await untilQuery(prometheus, 'herald_groups{job="herald"}', (v) => v === 1, 'herald_groups = 1');
    await untilQuery(prometheus, 'herald_messages_published_total{job="herald",kind="group"}', (v) => v === messages,
      `herald_messages_published_total = ${messages}`);
    // Every member's queue holds its join events and the messages: a snapshot histogram.
    await untilQuery(prometheus, 'herald_session_queue_depth_events_count{job="herald"}', (v) => v === sessions,
      'a queue depth sampled for every session');
    await untilQuery(prometheus, 'herald_session_queue_depth_max_events{job="herald"}', (v) => v >= messages,
      'the deepest queue to hold at least the messages');
    await untilQuery(prometheus, 'herald_ready{job="herald"}', (v) => v === 1, 'herald_ready = 1');
  });
});
