// bench/cluster/run: Herald as a three-node cluster on loopback, beside one node, measured by
// herald-loadgen (separate subscriber and publisher processes, coordinated by --final-file).
//
//   1. latency     — one WS subscriber, one publisher at 1,000 msg/s: one node; the cluster with
//                    subscriber and publisher on the same node; subscriber on n2, publisher on
//                    n1, the group's home on n1, n2 or n3 (rendezvous hashing, as
//                    actors/rendezvous.hpp: the group name is chosen so that its home is the
//                    node wanted).
//   2. fanout      — one group, N WS subscribers spread over the three nodes (one load generator
//                    process per node), the publisher on n1 (the home) at a set rate; the same
//                    N on one node. Server CPU = Σ utime+stime of the heralds (/proc/PID/stat)
//                    from "all subscribers ready" to the last delivery, ÷ deliveries.
//   3. connections — three nodes, up to 19,000 idle WS connections each (load generator
//                    processes of ≤ 9,500, under the 20,000 fd limit), then a light chat mix
//                    (bench/run's chat-mix per-session rates) over all three; connections held
//                    (herald_connections_open) and RSS per node.
//
// Heralds run as bench/run starts them (one I/O and one actor thread, presence off), all three
// nodes pinned to CPU 0 and the load generators to CPU 1 (--no-pin: no pinning). Every process
// started here is stopped by its PID; a watchdog bounds the whole run.
// Writes bench/results/<date>-cluster.md and .json (--smoke: <date>-cluster-smoke.*).

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mergeHistograms, mergeLastFiles, percentile } from '../report.mjs';
import { cpuSeconds, httpGet, rssKb, sleep } from '../servers.mjs';
import { homeOf } from './rendezvous.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BENCH = path.dirname(HERE);
const REPO = path.dirname(BENCH);
const NAMES = ['n1', 'n2', 'n3'];
const FD_SAFE_PER_PROC = 9_500; // idle connections per load generator process (fd limit 20,000)

/** Figures as the report shows them: ns → ms, counts with separators. */
const fmt = {
  ms: (v) => (Number.isFinite(v) ? (v / 1e6).toFixed(3) : '–'),
  n: (v) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '–'),
  f: (v, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '–'),
};

const USAGE = `usage: bench/cluster/run [--smoke] [--phases latency,fanout,connections] [--herald BIN]
                         [--loadgen BIN] [--out DIR] [--no-pin] [--fanout-subscribers N]
                         [--fanout-rate R] [--idle-per-node N] [--chat-per-node N]
                         [--herald-flags "--flag value …"]

Three Herald nodes on loopback beside one node: cross-node delivery latency, fan-out over three
nodes, connections held per node. Writes bench/results/<date>-cluster.md and .json
(--smoke: tiny counts, seconds, <date>-cluster-smoke.*). Defaults: 10,000 fan-out subscribers at
20 msg/s, 19,000 idle connections and 300 chat sessions per node.`;

function parseArgs(argv) {
  const o = {
    smoke: false, phases: ['latency', 'fanout', 'connections'], pin: true,
    herald: process.env.HERALD_BIN || path.join(REPO, 'build', 'herald'),
    loadgen: process.env.HERALD_LOADGEN || path.join(REPO, 'build', 'herald-loadgen'),
    out: path.join(BENCH, 'results'), heraldFlags: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`missing value for ${a}`);
      return argv[++i];
    };
    if (a === '--smoke') o.smoke = true;
    else if (a === '--phases') o.phases = next().split(',');
    else if (a === '--herald') o.herald = path.resolve(next());
    else if (a === '--loadgen') o.loadgen = path.resolve(next());
    else if (a === '--out') o.out = path.resolve(next());
    else if (a === '--no-pin') o.pin = false;
    else if (a === '--fanout-subscribers') o.fanoutSubscribers = Number(next());
    else if (a === '--fanout-rate') o.fanoutRates = next().split(',').map(Number);
    else if (a === '--idle-per-node') o.idlePerNode = Number(next());
    else if (a === '--chat-per-node') o.chatPerNode = Number(next());
    else if (a === '--herald-flags') o.heraldFlags = next().split(/\s+/).filter(Boolean);
    else if (a === '-h' || a === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown flag ${a}\n${USAGE}`);
  }
  for (const p of o.phases) if (!['latency', 'fanout', 'connections'].includes(p)) throw new Error(`unknown phase ${p}`);
  // Sizes: full scale, or tiny for --smoke. Explicit flags win over both.
  const full = {
    latRate: 1000, latDuration: 10, latWarmup: 1,
    fanoutSubscribers: 10_000, fanoutRates: [20, 2], fanoutDuration: 10, fanoutWarmup: 2,
    idlePerNode: 19_000, idleHold: 75, chatPerNode: 300, chatDuration: 10, chatWarmup: 2,
    drain: 10, setupTimeout: 120, watchdogS: 30 * 60,
  };
  const smoke = {
    latRate: 200, latDuration: 2, latWarmup: 0,
    fanoutSubscribers: 30, fanoutRates: [20, 2], fanoutDuration: 2, fanoutWarmup: 0,
    idlePerNode: 200, idleHold: 12, chatPerNode: 20, chatDuration: 3, chatWarmup: 0,
    drain: 3, setupTimeout: 30, watchdogS: 5 * 60,
  };
  o.size = { ...(o.smoke ? smoke : full) };
  for (const k of ['fanoutSubscribers', 'fanoutRates', 'idlePerNode', 'chatPerNode']) if (o[k] !== undefined) o.size[k] = o[k];
  // Idle connections per load generator process: ≤ 9,500 (two per node at 19,000); the smoke
  // run uses two processes per node too, so that the multi-process path runs.
  o.size.idlePerProc = o.smoke ? Math.min(FD_SAFE_PER_PROC, Math.ceil(o.size.idlePerNode / 2)) : FD_SAFE_PER_PROC;
  // Idle load generators hold from their own "ready" on: long enough for the slowest of them to
  // be ready and for the light load to run on top (a smoke run asked for many holds longer).
  if (o.smoke) {
    o.size.idleHold += Math.ceil((o.size.idlePerNode * 3) / 1000);
    o.size.setupTimeout += Math.ceil((o.size.idlePerNode * 3 * 2) / 1000);
  }
  return o;
}

// --- processes: every child is tracked and stopped by its PID -------------------------------

const children = new Set();
let stopping = null; // the signal that stopped the run, if one did
let tmpDir = null; // removed at exit

function track(proc) {
  if (stopping) {
    proc.kill('SIGKILL');
    throw new Error(`stopped by ${stopping}`);
  }
  children.add(proc);
  proc.on('exit', () => children.delete(proc));
  return proc;
}

// Only PIDs of children not reaped yet are signalled (a reaped PID could belong to anyone).
function signalAll(sig) {
  for (const p of children) {
    try {
      process.kill(p.pid, sig);
    } catch {
      /* gone */
    }
  }
}

process.on('exit', () => {
  signalAll('SIGKILL');
  if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
});
// A signal stops every child (SIGTERM, SIGKILL after 3 s) and the run: nothing new starts.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = sig;
    console.error(`bench/cluster/run: ${sig}: stopping everything it started`);
    signalAll('SIGTERM');
    const deadline = Date.now() + 3000;
    const poll = setInterval(() => {
      if (children.size === 0 || Date.now() > deadline) {
        clearInterval(poll);
        process.exit(130); // the exit handler SIGKILLs whatever is left
      }
    }, 50);
  });
}

const exited = (proc) => proc.exitCode !== null || proc.signalCode !== null;

async function stopProc(proc, graceMs = 5000) {
  if (exited(proc)) return;
  const gone = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  const t = setTimeout(() => {
    if (!exited(proc)) proc.kill('SIGKILL');
  }, graceMs);
  await gone;
  clearTimeout(t);
}

const pinned = (o, cpu, argv) => (o.pin ? ['taskset', ['-c', String(cpu), ...argv]] : [argv[0], argv.slice(1)]);

// --- binaries: copied once, so that a rebuild during the run changes nothing ----------------

async function stableCopy(src, dst) {
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      const a = fs.statSync(src);
      await sleep(1000);
      const b = fs.statSync(src);
      if (a.size === b.size && a.mtimeMs === b.mtimeMs && a.size > 0) {
        fs.copyFileSync(src, dst);
        fs.chmodSync(dst, 0o755);
        const r = spawnSync(dst, ['--help'], { encoding: 'utf8', timeout: 10_000 });
        if (r.status === 0) return;
      }
    } catch {
      /* missing for a moment: rebuilt */
    }
    if (Date.now() > deadline) throw new Error(`${src} not there (or not runnable) for 120 s`);
    await sleep(2000);
  }
}

// --- ports ------------------------------------------------------------------------------------

function portFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

// Blocks of 20 ports below the ephemeral range (32768+), so that no client connection of the
// load generators can take one; each cluster start takes a fresh block.
let nextBase = 21000 + 20 * Math.floor(Math.random() * 450);

async function freeBlock() {
  for (let tries = 0; tries < 100; tries++) {
    const base = nextBase;
    nextBase = nextBase + 20 >= 32000 ? 21000 : nextBase + 20;
    const ports = [1, 2, 3, 11, 12, 13].map((d) => base + d);
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) return base;
  }
  throw new Error('no free block of ports');
}


/** A channel prefix whose group <prefix>-0 has its home on `home`. */
function prefixWithHome(tag, home) {
  for (let i = 0; ; i++) {
    const prefix = `${tag}${i}`;
    if (homeOf(NAMES, `${prefix}-0`) === home) return prefix;
  }
}

// --- Herald nodes -------------------------------------------------------------------------------

function metricsOf(text) {
  const m = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    m[line.slice(0, i)] = Number(line.slice(i + 1));
  }
  return m;
}

async function scrape(node) {
  const r = await httpGet(node.port, '/metrics', 5000);
  return r.status === 200 ? metricsOf(r.body) : {};
}

function logTail(file, n = 15) {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
}

/**
 * Starts `count` nodes (1: a plain one-node server; 3: a cluster, each node seeded with the
 * others) and waits until each answers /readyz 200 and sees `count` nodes.
 */
async function startNodes(ctx, count, extra = []) {
  const { o } = ctx;
  const base = await freeBlock();
  const nodes = [];
  const seeds = NAMES.slice(0, count).map((_, i) => `127.0.0.1:${base + 11 + i}`);
  for (let i = 0; i < count; i++) {
    const name = NAMES[i];
    const port = base + 1 + i;
    const log = path.join(ctx.tmp, `${name}-${base}.log`);
    const fd = fs.openSync(log, 'w');
    const argv = [ctx.herald, '--listen', `127.0.0.1:${port}`, '--node', name,
      '--notify-presence', 'off', '--log-level', 'warn', '--drain-timeout', '1',
      '--max-requests-per-connection', '100000000', '--io-threads', '1', '--actor-threads', '1',
      ...(count > 1 ? ['--cluster-listen', seeds[i], '--peers', seeds.filter((_, j) => j !== i).join(',')] : []),
      ...extra, ...o.heraldFlags];
    const [cmd, args] = pinned(o, 0, argv);
    const proc = track(spawn(cmd, args, { stdio: ['ignore', fd, fd] }));
    fs.closeSync(fd);
    nodes.push({ name, port, url: `http://127.0.0.1:${port}`, proc, pid: proc.pid, log });
  }
  const deadline = Date.now() + 30_000;
  for (const n of nodes) {
    for (;;) {
      if (exited(n.proc)) throw new Error(`herald ${n.name} exited (${n.proc.exitCode ?? n.proc.signalCode}); ${n.log}:\n${logTail(n.log)}`);
      if ((await httpGet(n.port, '/readyz')).status === 200) {
        const m = await scrape(n);
        if (m.herald_cluster_nodes === count) break;
      }
      if (Date.now() > deadline) {
        await stopNodes(nodes);
        throw new Error(`${count} node(s) not ready within 30 s; ${n.name}'s log:\n${logTail(n.log)}`);
      }
      await sleep(100);
    }
  }
  const info = Object.keys(await scrape(nodes[0])).find((k) => k.startsWith('herald_build_info'));
  ctx.buildInfo ??= info?.match(/commit="([^"]*)"/)?.[1];
  return nodes;
}

async function stopNodes(nodes) {
  await Promise.all(nodes.map((n) => stopProc(n.proc)));
}

const cpuOf = (nodes) => nodes.reduce((a, n) => a + cpuSeconds(n.pid), 0);
const groupsOf = async (nodes) => Promise.all(nodes.map(async (n) => (await scrape(n)).herald_groups ?? NaN));

// --- load generators ----------------------------------------------------------------------------

function loadgen(ctx, args) {
  const [cmd, argv] = pinned(ctx.o, 1, [ctx.loadgen, ...args]);
  const proc = track(spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] }));
  let stdout = '';
  let stderr = '';
  let onReady;
  let readyLine = null;
  const ready = new Promise((r) => (onReady = r));
  proc.stdout.on('data', (d) => (stdout += d));
  proc.stderr.on('data', (d) => {
    stderr += d;
    const m = /\{"event":"ready"[^\n]*\}/.exec(stderr);
    if (m && !readyLine) {
      readyLine = JSON.parse(m[0]);
      onReady(readyLine);
    }
  });
  const done = new Promise((resolve, reject) => {
    proc.on('error', reject);
    proc.on('close', (code) => {
      onReady(null);
      const line = stdout.trim().split('\n').pop();
      try {
        resolve(JSON.parse(line));
      } catch {
        reject(new Error(`herald-loadgen ${args.join(' ')} exited ${code} without a result\n${stderr.slice(-2000)}`));
      }
    });
  });
  done.catch(() => {});
  return { proc, ready, done };
}

const sum = (list, k) => list.reduce((a, r) => a + (r?.[k] ?? 0), 0);

/** Figures of subscriber results (and the publisher's), merged as bench/run merges them. */
function summarize(subs, pub, extra = {}) {
  const latency = mergeHistograms(subs.map((r) => r.latency_ns));
  const roundTrip = mergeHistograms([pub?.publish_round_trip_ns]);
  const errors = [...subs, pub].filter((r) => r && r.error).map((r) => `proc ${r.proc} (${r.role}): ${r.error}`);
  return {
    subscribers: sum(subs, 'subscribers'), ready: sum(subs, 'ready'), failed: sum(subs, 'failed'),
    disconnected: sum(subs, 'disconnected'),
    published: pub?.published ?? 0, publish_errors: pub?.publish_errors ?? 0,
    publish_rate: pub?.publish_rate ?? NaN, max_backlog: pub?.max_backlog ?? NaN,
    expected: sum(subs, 'expected'), delivered: sum(subs, 'unique'), missing: sum(subs, 'missing'),
    duplicates: sum(subs, 'duplicates'), loss: sum(subs, 'missing') + sum(subs, 'duplicates') + sum(subs, 'malformed'),
    deliveries_per_s: sum(subs, 'deliveries_per_s'), measured: latency.count,
    p50: percentile(latency, 0.5), p99: percentile(latency, 0.99), p999: percentile(latency, 0.999),
    max: latency.count ? latency.max : NaN,
    pub_p50: percentile(roundTrip, 0.5), pub_p99: percentile(roundTrip, 0.99),
    loadgen_cpu_s: sum([...subs, pub], 'loadgen_cpu_s'),
    latency_hist: { count: latency.count, max: latency.max, buckets: [...latency.buckets] },
    errors, ...extra,
  };
}

// --- phase 1: cross-node delivery latency ---------------------------------------------------------

async function latencyCase(ctx, { label, subNode, pubNode, all, prefix, home, hops }) {
  const { size } = ctx.o;
  const dir = fs.mkdtempSync(path.join(ctx.tmp, 'lat-'));
  const finalFile = path.join(dir, 'final');
  const common = ['--transport', 'ws', '--channels', '1', '--channel-prefix', prefix,
    '--duration', String(size.latDuration), '--warmup', String(size.latWarmup),
    '--drain', String(size.drain), '--drain-max', '30', '--setup-timeout', String(size.setupTimeout),
    '--final-file', finalFile];
  const groupsBefore = await groupsOf(all);
  const sub = loadgen(ctx, ['--url', subNode.url, '--role', 'sub', '--subscribers', '1', ...common]);
  await sub.ready;
  const groupsDelta = (await groupsOf(all)).map((g, i) => g - groupsBefore[i]);
  const cpu0 = cpuOf(all);
  const pub = loadgen(ctx, ['--url', pubNode.url, '--role', 'pub', '--rate', String(size.latRate),
    '--pub-connections', '1', '--pipeline', '16', ...common]);
  const [subR, pubR] = await Promise.all([sub.done, pub.done]);
  const cpu = cpuOf(all) - cpu0;
  // The home holds the group: its herald_groups grew when the subscriber joined.
  const homeIndex = all.findIndex((n) => n.name === home);
  const homeCheck = homeIndex < 0 ? 'n/a' : groupsDelta[homeIndex] > 0 ? 'ok' : 'not seen';
  return summarize([subR], pubR, {
    label, sub_node: subNode.name, pub_node: pubNode.name, home: home ?? '–', hops, group: `${prefix}-0`,
    groups_delta: groupsDelta, home_check: homeCheck, cpu_s: cpu, rate: size.latRate,
  });
}

async function phaseLatency(ctx) {
  const out = [];
  const tag = `lat${ctx.runId}`;
  log(ctx, `latency: one node, ${ctx.o.size.latRate} msg/s for ${ctx.o.size.latDuration} s`);
  let nodes = await startNodes(ctx, 1);
  try {
    out.push(await latencyCase(ctx, { label: 'one node', subNode: nodes[0], pubNode: nodes[0], all: nodes, prefix: `${tag}s`, home: 'n1', hops: 0 }));
    report(ctx, out.at(-1));
  } finally {
    await stopNodes(nodes);
  }
  log(ctx, 'latency: three-node cluster');
  nodes = await startNodes(ctx, 3);
  const [n1, n2] = nodes;
  const cases = [
    { label: 'cluster, same node', subNode: n1, pubNode: n1, home: 'n1', hops: 0 },
    { label: 'cluster, cross-node (home = publisher\'s node)', subNode: n2, pubNode: n1, home: 'n1', hops: 1 },
    { label: 'cluster, cross-node (home = subscriber\'s node)', subNode: n2, pubNode: n1, home: 'n2', hops: 1 },
    { label: 'cluster, cross-node (home = third node)', subNode: n2, pubNode: n1, home: 'n3', hops: 2 },
  ];
  try {
    for (const [i, c] of cases.entries()) {
      const prefix = prefixWithHome(`${tag}c${i}x`, c.home);
      out.push(await latencyCase(ctx, { ...c, all: nodes, prefix }));
      report(ctx, out.at(-1));
    }
  } finally {
    await stopNodes(nodes);
  }
  return out;
}

// --- phase 2: fan-out ---------------------------------------------------------------------------

async function fanoutCase(ctx, { label, nodes, subNodes, pubNode, prefix, home, rate }) {
  const { size } = ctx.o;
  const dir = fs.mkdtempSync(path.join(ctx.tmp, 'fan-'));
  const finalFile = path.join(dir, 'final');
  const common = ['--transport', 'ws', '--channels', '1', '--channel-prefix', prefix,
    '--duration', String(size.fanoutDuration), '--warmup', String(size.fanoutWarmup),
    '--drain', String(size.drain), '--drain-max', '120', '--setup-timeout', String(size.setupTimeout),
    '--final-file', finalFile];
  const n = size.fanoutSubscribers;
  const per = Math.ceil(n / subNodes.length);
  const subs = [];
  const perNode = {};
  const rssBefore = nodes.map((x) => rssKb(x.pid));
  for (let p = 0, first = 0; first < n; p++, first += per) {
    const count = Math.min(per, n - first);
    const node = subNodes[p];
    perNode[node.name] = (perNode[node.name] ?? 0) + count;
    subs.push(loadgen(ctx, ['--url', node.url, '--role', 'sub', '--subscribers', String(count),
      '--first-index', String(first), '--proc', String(p), '--last-out', path.join(dir, `last-${p}`), ...common]));
  }
  const readies = await Promise.all(subs.map((s) => s.ready));
  const setupS = Math.max(...readies.map((r) => r?.setup_s ?? NaN));
  const rssReady = nodes.map((x) => rssKb(x.pid));
  const cpu0 = cpuOf(nodes);
  const perNodeCpu0 = nodes.map((x) => cpuSeconds(x.pid));
  const pub = loadgen(ctx, ['--url', pubNode.url, '--role', 'pub', '--rate', String(rate),
    '--pub-connections', '1', '--pipeline', '1', ...common]);
  const subR = await Promise.all(subs.map((s) => s.done));
  const pubR = await pub.done;
  const cpu = cpuOf(nodes) - cpu0;
  const perNodeCpu = nodes.map((x, i) => cpuSeconds(x.pid) - perNodeCpu0[i]);
  const rssEnd = nodes.map((x) => rssKb(x.pid));
  const readyByChannel = [sum(subR, 'ready')];
  const last = mergeLastFiles(subR.map((_, p) => path.join(dir, `last-${p}`)), readyByChannel);
  const r = summarize(subR, pubR, {
    label, nodes: nodes.length, per_node: perNode, pub_node: pubNode.name, home, group: `${prefix}-0`,
    rate, setup_s: setupS, cpu_s: cpu, cpu_per_node_s: perNodeCpu,
    rss_before_mb: rssBefore.map((x) => x / 1024), rss_ready_mb: rssReady.map((x) => x / 1024),
    rss_end_mb: rssEnd.map((x) => x / 1024), last_p99: percentile(last, 0.99),
  });
  r.cpu_us = r.delivered > 0 ? (cpu * 1e6) / r.delivered : NaN;
  return r;
}

async function phaseFanout(ctx) {
  const { size } = ctx.o;
  const out = [];
  const tag = `fan${ctx.runId}`;
  for (const [i, rate] of size.fanoutRates.entries()) {
    log(ctx, `fan-out: ${size.fanoutSubscribers} WS subscribers over three nodes, ${rate} msg/s for ${size.fanoutDuration} s`);
    let nodes = await startNodes(ctx, 3);
    try {
      out.push(await fanoutCase(ctx, { label: `cluster, 3 nodes, ${rate} msg/s`, nodes, subNodes: nodes, pubNode: nodes[0], prefix: prefixWithHome(`${tag}c${i}x`, 'n1'), home: 'n1', rate }));
      report(ctx, out.at(-1));
    } finally {
      await stopNodes(nodes);
    }
    log(ctx, `fan-out: the same ${size.fanoutSubscribers} on one node, ${rate} msg/s`);
    nodes = await startNodes(ctx, 1);
    try {
      out.push(await fanoutCase(ctx, { label: `one node, ${rate} msg/s`, nodes, subNodes: [nodes[0], nodes[0], nodes[0]], pubNode: nodes[0], prefix: `${tag}s${i}`, home: 'n1', rate }));
      report(ctx, out.at(-1));
    } finally {
      await stopNodes(nodes);
    }
  }
  return out;
}

// --- phase 3: connections held ------------------------------------------------------------------

async function nodeState(nodes) {
  return Promise.all(nodes.map(async (n) => {
    const m = await scrape(n);
    return {
      node: n.name, rss_mb: rssKb(n.pid) / 1024, ws_open: m['herald_connections_open{transport="ws"}'] ?? NaN,
      sessions: m.herald_sessions ?? NaN, groups: m.herald_groups ?? NaN, open_fds: m.herald_process_open_fds ?? NaN,
      cluster_nodes: m.herald_cluster_nodes ?? NaN,
    };
  }));
}

async function phaseConnections(ctx) {
  const { o } = ctx;
  const { size } = o;
  const tag = `con${ctx.runId}`;
  log(ctx, `connections: up to ${size.idlePerNode} idle WS connections per node (${Math.ceil(size.idlePerNode / size.idlePerProc)} load generator processes per node), then a light chat mix of ${size.chatPerNode} sessions per node`);
  // Room for the chat sessions and the publisher beside the idle connections (fd limit 20,000).
  const nodes = await startNodes(ctx, 3, ['--max-connections', String(Math.min(19_800, size.idlePerNode + size.chatPerNode + 100))]);
  try {
    const before = await nodeState(nodes);
    const idle = [];
    let first = 0;
    let p = 0;
    const t0 = Date.now();
    for (const node of nodes) {
      for (let left = size.idlePerNode; left > 0; left -= size.idlePerProc) {
        const count = Math.min(size.idlePerProc, left);
        idle.push({ node: node.name, lg: loadgen(ctx, ['--url', node.url, '--role', 'sub', '--transport', 'ws', '--idle',
          '--subscribers', String(count), '--first-index', String(first), '--proc', String(p++),
          '--channels', '1000', '--channel-prefix', `${tag}i`, '--user-prefix', `${tag}idle`,
          '--duration', String(size.idleHold), '--setup-timeout', String(size.setupTimeout)]) });
        first += count;
      }
    }
    const readies = await Promise.all(idle.map((x) => x.lg.ready));
    const setupS = (Date.now() - t0) / 1000;
    const readyPerNode = Object.fromEntries(nodes.map((n) => [n.name, 0]));
    const failedPerNode = Object.fromEntries(nodes.map((n) => [n.name, 0]));
    idle.forEach((x, i) => {
      readyPerNode[x.node] += readies[i]?.ready ?? 0;
      failedPerNode[x.node] += readies[i]?.failed ?? 0;
    });
    await sleep(1000);
    const held = await nodeState(nodes);
    log(ctx, `connections: ${Object.values(readyPerNode).join(' + ')} idle ready in ${setupS.toFixed(1)} s; ws open per node ${held.map((h) => h.ws_open).join(', ')}; RSS ${held.map((h) => h.rss_mb.toFixed(0)).join(', ')} MiB`);

    // The light load: bench/run's chat mix at its per-session rates (rooms of 10 speaking
    // 1 msg/s each, a direct message per user every 10 s, 1 % of the sessions reconnecting
    // per second), one subscriber process per node, the publisher on n1.
    let chat = null;
    if (size.chatPerNode > 0) {
      const sessions = size.chatPerNode * nodes.length;
      const dir = fs.mkdtempSync(path.join(ctx.tmp, 'chat-'));
      const finalFile = path.join(dir, 'final');
      const rate = sessions / 10;
      // 1 % of the sessions per second; at least a few in a smoke run, so that some do reconnect.
      const churn = Math.max(sessions / 100, o.smoke ? 6 : 1);
      const common = ['--transport', 'ws', '--chat', '10', '--chat-sessions', String(sessions),
        '--user-rate', String(rate), '--churn-rate', String(churn),
        '--channel-prefix', `${tag}room`, '--user-prefix', `${tag}u`, '--channels', '1',
        '--duration', String(size.chatDuration), '--warmup', String(size.chatWarmup),
        '--drain', String(size.drain), '--drain-max', '60', '--setup-timeout', String(size.setupTimeout), '--final-file', finalFile];
      const subs = nodes.map((node, i) => loadgen(ctx, ['--url', node.url, '--role', 'sub',
        '--subscribers', String(size.chatPerNode), '--first-index', String(i * size.chatPerNode), '--proc', String(100 + i), ...common]));
      await Promise.all(subs.map((s) => s.ready));
      const cpu0 = cpuOf(nodes);
      const pub = loadgen(ctx, ['--url', nodes[0].url, '--role', 'pub', '--rate', String(rate),
        '--pub-connections', '4', '--pipeline', '16', '--proc', '199', ...common]);
      const subR = await Promise.all(subs.map((s) => s.done));
      const pubR = await pub.done;
      const cpu = cpuOf(nodes) - cpu0;
      const c = subR.map((r) => r.chat).filter(Boolean);
      const reconnect = mergeHistograms(c.map((x) => x.reconnect_ns));
      chat = summarize(subR, pubR, {
        sessions, room_rate: rate, user_rate: rate, churn_rate: churn, cpu_s: cpu,
        reconnects: sum(c, 'reconnects'), lost_sessions: sum(c, 'lost_sessions'), server_closes: sum(c, 'server_closes'),
        reconnect_p50: percentile(reconnect, 0.5), reconnect_p99: percentile(reconnect, 0.99),
      });
      chat.cpu_us = chat.delivered > 0 ? (cpu * 1e6) / chat.delivered : NaN;
    }
    const after = await nodeState(nodes);
    const idleR = await Promise.all(idle.map((x) => x.lg.done.catch((err) => ({ error: err.message.split('\n')[0] }))));
    const r = {
      requested_per_node: size.idlePerNode, procs_per_node: Math.ceil(size.idlePerNode / size.idlePerProc),
      ready_per_node: readyPerNode, failed_per_node: failedPerNode, setup_s: setupS,
      disconnected: sum(idleR, 'disconnected'), before, held, after, chat,
      errors: [...idleR.filter((x) => x.error).map((x) => `idle proc ${x.proc ?? '?'}: ${x.error}`), ...(chat?.errors ?? [])],
    };
    const conns = Object.values(readyPerNode).reduce((a, b) => a + b, 0);
    log(ctx, `connections: ${conns} held${chat ? `; light load ${fmt.n(chat.deliveries_per_s)} deliveries/s, lost+dup ${chat.loss}, p50/p99 ${fmt.ms(chat.p50)}/${fmt.ms(chat.p99)} ms, ${chat.reconnects} reconnects` : ''}; RSS after ${after.map((h) => h.rss_mb.toFixed(0)).join(', ')} MiB${r.errors.length ? `; ERRORS: ${r.errors.join('; ')}` : ''}`);
    return r;
  } finally {
    await stopNodes(nodes);
  }
}

// --- report -----------------------------------------------------------------------------------


function log(ctx, line) {
  const t = ((Date.now() - ctx.t0) / 1000).toFixed(0).padStart(4);
  console.log(`[${t} s] ${line}`);
}

function report(ctx, r) {
  log(ctx, `  ${r.label}: ${fmt.n(r.deliveries_per_s)} deliveries/s, lost+dup ${r.loss}, p50/p99/max ${fmt.ms(r.p50)}/${fmt.ms(r.p99)}/${fmt.ms(r.max)} ms${Number.isFinite(r.cpu_us) ? `, ${fmt.f(r.cpu_us, 2)} µs server CPU/delivery` : ''}${r.home_check && r.home_check !== 'ok' ? `, home check: ${r.home_check}` : ''}${r.errors.length ? `; ERRORS: ${r.errors.join('; ')}` : ''}`);
}

function writeReport(ctx, results) {
  const { o } = ctx;
  const lines = [];
  const s = o.size;
  lines.push(`# Cluster benchmark ${o.smoke ? 'SMOKE run' : 'run'} of ${ctx.date}`, '');
  if (o.smoke) lines.push('**Smoke run**: tiny counts for seconds. It proves the harness runs end to end; its figures measure nothing.', '');
  lines.push(`Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, ${os.release()}; 1/5/15-min load average ${ctx.loadStart} at the start, ${ctx.loadEnd} at the end (above ~0.5 means other work shared the cores).`,
    `Herald: ${o.herald} (built ${ctx.heraldMtime}), copied at the start; worktree HEAD ${ctx.commit}${ctx.dirty ? ` with ${ctx.dirty} modified tracked file(s) (others' work in progress)` : ''}; the binary's herald_build_info says commit ${ctx.buildInfo ?? '?'} (recorded when the build was configured). Flags as bench/run: \`--io-threads 1 --actor-threads 1 --notify-presence off --max-requests-per-connection 100000000\`${o.heraldFlags.length ? ` plus \`${o.heraldFlags.join(' ')}\`` : ''}; cluster nodes n1, n2, n3 on 127.0.0.1 with \`--cluster-listen\` and \`--peers\` (the other two).`,
    o.pin ? 'Pinning: every herald (the one node, or all three nodes) on CPU 0, every load generator on CPU 1, as bench/run: the cluster gets the same one core as the one node, so its figures are the cost of clustering, not a scale-out.'
      : 'Pinning: none (--no-pin): the heralds and load generators share both cores as the kernel schedules them.',
    'Latency is publish-to-delivery (send stamp in the payload, CLOCK_MONOTONIC, one host). Group homes are chosen by rendezvous hashing (actors/rendezvous.hpp); the script picks group names whose home is the node named.',
    `Command: \`bench/cluster/run${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}\`; duration ${((ctx.t1 - ctx.t0) / 1000).toFixed(0)} s.`, '');

  if (results.latency) {
    lines.push('## 1. Delivery latency: one subscriber, publisher in another process', '',
      `One WebSocket subscriber, one publisher connection (up to 16 requests in flight) at ${s.latRate} msg/s for ${s.latDuration} s after ${s.latWarmup} s of warm-up (left out of the latency figures, counted for loss). Target (reported, not asserted): cross-node p50 < 1 ms.`, '',
      '| case | subscriber on | publisher on | group home | herald_groups grew on | cluster hops | publishes/s achieved | lost+dup | p50 (ms) | p99 (ms) | p999 (ms) | max (ms) | publish round trip p50 / p99 (ms) | p50 < 1 ms |',
      '| --- | --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
    for (const r of results.latency)
      lines.push(`| ${r.label} | ${r.sub_node} | ${r.pub_node} | ${r.home}${r.home_check === 'ok' || r.home_check === 'n/a' ? '' : ` (${r.home_check})`} | ${r.groups_delta.map((d, i) => (d > 0 ? NAMES[i] : null)).filter(Boolean).join(', ')} | ${r.hops} | ${fmt.n(r.publish_rate)} | ${fmt.n(r.loss)} | ${fmt.ms(r.p50)} | ${fmt.ms(r.p99)} | ${fmt.ms(r.p999)} | ${fmt.ms(r.max)} | ${fmt.ms(r.pub_p50)} / ${fmt.ms(r.pub_p99)} | ${Number.isFinite(r.p50) ? (r.p50 < 1e6 ? 'yes' : '**no**') : '–'} |`);
    lines.push('', '"herald_groups grew on": the nodes whose group count rose when the subscriber joined (the home, and the relay on the subscriber\'s node): the home the script computed is the one the cluster chose. Hops: cluster connections a message crosses between the publisher\'s node and the subscriber\'s (a publish sent to a node that is not the home is forwarded to the home; the home sends each message once to each node with members).', '');
  }
  if (results.fanout) {
    lines.push('## 2. Fan-out: one group, subscribers on three nodes', '',
      `${s.fanoutSubscribers.toLocaleString('en-US')} WebSocket subscribers of one group, one load generator process per node (the one-node case: the same three processes, all on the one node), publisher on n1 (the group's home) at ${s.fanoutRates.join(' and at ')} msg/s offered, one request in flight, for ${s.fanoutDuration} s after ${s.fanoutWarmup} s of warm-up. Server CPU = Σ utime+stime of the heralds from "all subscribers ready" to the last delivery, ÷ deliveries.`, '',
      '| case | subscribers per node | publishes/s achieved (offered) | deliveries/s | lost+dup | p50 (ms) | p99 (ms) | max (ms) | last subscriber p99 (ms) | server CPU s (per node) | server CPU µs/delivery | RSS at the end per node (MiB) | load generator CPU s |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const r of results.fanout)
      lines.push(`| ${r.label} | ${Object.entries(r.per_node).map(([k, v]) => `${k}: ${fmt.n(v)}`).join(', ')} | ${fmt.f(r.publish_rate)} (${r.rate}) | ${fmt.n(r.deliveries_per_s)} | ${fmt.n(r.loss)} | ${fmt.ms(r.p50)} | ${fmt.ms(r.p99)} | ${fmt.ms(r.max)} | ${fmt.ms(r.last_p99)} | ${fmt.f(r.cpu_s, 2)} (${r.cpu_per_node_s.map((x) => fmt.f(x, 2)).join(' + ')}) | ${fmt.f(r.cpu_us, 2)} | ${r.rss_end_mb.map((x) => fmt.f(x, 0)).join(', ')} | ${fmt.f(r.loadgen_cpu_s, 1)} |`);
    lines.push('');
    for (let i = 0; i + 1 < results.fanout.length; i += 2) {
      const [c, one] = [results.fanout[i], results.fanout[i + 1]];
      lines.push(`- ${c.rate} msg/s offered (${fmt.n(c.rate * s.fanoutSubscribers)} deliveries/s): cluster / one node: deliveries/s ${fmt.f(c.deliveries_per_s / one.deliveries_per_s, 2)}, server CPU per delivery ${fmt.f(c.cpu_us / one.cpu_us, 2)}, p99 ${fmt.f(c.p99 / one.p99, 2)}${c.publish_rate < 0.95 * c.rate || one.publish_rate < 0.95 * one.rate ? '; the publisher was held back (one request in flight, answered late): the servers did not keep up with the offered rate' : ''}.`);
    }
    lines.push('');
  }
  if (results.connections) {
    const r = results.connections;
    lines.push('## 3. Connections held', '',
      `Three nodes, ${r.requested_per_node.toLocaleString('en-US')} idle WebSocket connections asked of each (${r.procs_per_node} load generator processes per node, each under the 20,000 fd limit; sessions spread over 1,000 groups), \`--max-connections\` raised to leave room for the light load; set up in ${fmt.f(r.setup_s)} s in all. Then the light load, below, on top.`, '',
      '| node | idle connections ready (load generator) | WS open (herald_connections_open) | sessions | RSS before (MiB) | RSS held (MiB) | RSS per connection (KiB) | open fds | WS open / RSS after the light load (MiB) |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    r.held.forEach((h, i) => {
      const b = r.before[i];
      const a = r.after[i];
      const ready = r.ready_per_node[h.node];
      lines.push(`| ${h.node} | ${fmt.n(ready)}${r.failed_per_node[h.node] ? ` (${r.failed_per_node[h.node]} failed)` : ''} | ${fmt.n(h.ws_open)} | ${fmt.n(h.sessions)} | ${fmt.f(b.rss_mb)} | ${fmt.f(h.rss_mb)} | ${fmt.f(((h.rss_mb - b.rss_mb) * 1024) / Math.max(1, ready), 2)} | ${fmt.n(h.open_fds)} | ${fmt.n(a.ws_open)} / ${fmt.f(a.rss_mb)} |`);
    });
    lines.push('', `Idle connections the server closed meanwhile (load generators' \`disconnected\`): ${r.disconnected}.`, '');
    if (r.chat) {
      const c = r.chat;
      lines.push(`Light load (bench/run's chat-mix at its per-session rates, on top of the idle connections): ${fmt.n(c.sessions)} sessions (${fmt.n(c.sessions / 3)} per node, rooms of 10), ${fmt.n(c.room_rate)} room msg/s + ${fmt.n(c.user_rate)} direct msg/s, ${fmt.n(c.churn_rate)} reconnects/s, publisher on n1 (4 connections, 16 in flight), ${s.chatDuration} s after ${s.chatWarmup} s of warm-up.`, '',
        '| sessions ready | deliveries/s | lost+dup | p50 (ms) | p99 (ms) | p999 (ms) | max (ms) | reconnects (lost sessions) | reconnect p50 / p99 (ms) | server CPU µs/delivery (3 nodes) |',
        '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
        `| ${fmt.n(c.ready)} | ${fmt.n(c.deliveries_per_s)} | ${fmt.n(c.loss)} | ${fmt.ms(c.p50)} | ${fmt.ms(c.p99)} | ${fmt.ms(c.p999)} | ${fmt.ms(c.max)} | ${c.reconnects} (${c.lost_sessions}) | ${fmt.ms(c.reconnect_p50)} / ${fmt.ms(c.reconnect_p99)} | ${fmt.f(c.cpu_us, 2)} |`, '');
    }
  }
  const problems = [
    ...(results.latency ?? []).flatMap((r) => r.errors.map((e) => `- latency / ${r.label}: ${e}`)),
    ...(results.fanout ?? []).flatMap((r) => r.errors.map((e) => `- fan-out / ${r.label}: ${e}`)),
    ...(results.connections?.errors ?? []).map((e) => `- connections: ${e}`),
    ...ctx.failures.map((e) => `- ${e}`),
  ];
  if (problems.length) lines.push('## Errors', '', ...problems, '');
  const base = `${ctx.date}-cluster${o.smoke ? '-smoke' : ''}`;
  fs.mkdirSync(o.out, { recursive: true });
  const md = path.join(o.out, `${base}.md`);
  fs.writeFileSync(md, lines.join('\n'));
  fs.writeFileSync(path.join(o.out, `${base}.json`), JSON.stringify({
    meta: { date: ctx.date, smoke: o.smoke, commit: ctx.commit, modified_tracked_files: ctx.dirty, herald_built: ctx.heraldMtime, build_info_commit: ctx.buildInfo, pin: o.pin,
      load_start: ctx.loadStart, load_end: ctx.loadEnd, argv: process.argv.slice(2), size: o.size, herald_flags: o.heraldFlags },
    results,
  }) + '\n');
  return md;
}

// --- main -------------------------------------------------------------------------------------

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const ctx = {
    o, t0: Date.now(), runId: Date.now().toString(36).slice(-5), date: new Date().toISOString().slice(0, 10), failures: [],
    loadStart: os.loadavg().map((x) => x.toFixed(2)).join(' '),
    commit: spawnSync('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout?.trim() || 'unknown',
    tmp: fs.mkdtempSync(path.join(os.tmpdir(), 'bench-cluster-')),
  };
  tmpDir = ctx.tmp;
  ctx.dirty = spawnSync('git', ['-C', REPO, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).stdout?.trim().split('\n').filter(Boolean).length ?? 0;
  const watchdog = setTimeout(() => {
    console.error(`bench/cluster/run: still running after ${o.size.watchdogS} s: stopping everything it started`);
    signalAll('SIGKILL');
    process.exit(3);
  }, o.size.watchdogS * 1000);
  watchdog.unref();
  ctx.herald = path.join(ctx.tmp, 'herald');
  ctx.loadgen = path.join(ctx.tmp, 'herald-loadgen');
  await stableCopy(o.herald, ctx.herald);
  ctx.heraldMtime = fs.statSync(o.herald).mtime.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
  await stableCopy(o.loadgen, ctx.loadgen);
  log(ctx, `bench/cluster/run${o.smoke ? ' --smoke' : ''}: phases ${o.phases.join(', ')}; load average ${ctx.loadStart}`);
  const results = {};
  const phases = { latency: phaseLatency, fanout: phaseFanout, connections: phaseConnections };
  let failed = false;
  for (const [i, name] of o.phases.entries()) {
    log(ctx, `phase ${i + 1}/${o.phases.length}: ${name}`);
    try {
      results[name] = await phases[name](ctx);
      const rs = Array.isArray(results[name]) ? results[name] : [results[name]];
      if (rs.some((r) => r.errors.length || r.loss > 0 || r.chat?.loss > 0)) failed = true;
    } catch (err) {
      failed = true;
      ctx.failures.push(`${name}: ${err.message}`);
      log(ctx, `phase ${name} FAILED: ${err.message}`);
    }
  }
  ctx.t1 = Date.now();
  ctx.loadEnd = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  const md = writeReport(ctx, results);
  log(ctx, `wrote ${path.relative(process.cwd(), md)} and .json; load average ${ctx.loadEnd}`);
  fs.rmSync(ctx.tmp, { recursive: true, force: true });
  if (o.smoke && failed) process.exitCode = 1;
}

main().catch((err) => {
  signalAll("SIGTERM");
  console.error(`bench/cluster/run: ${err.stack ?? err.message}`);
  process.exitCode = 2;
});
