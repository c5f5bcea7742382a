// bench/run: every scenario of bench/scenarios.mjs against Herald, nginx+nchan and Centrifugo,
// side by side. Servers run pinned to CPU 0 (a fresh one per scenario, bench/servers.mjs), the
// load generators to CPU 1. Server CPU comes from /proc/<pid>/stat (utime+stime; for nginx its
// one worker), RSS from /proc/<pid>/status. Writes bench/results/<date>[-smoke].md and plots.
// Usage: BENCHMARKS.md, or `bench/run --help`.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { scenarios } from './scenarios.mjs';
import { mergeHistograms, mergeLastFiles, percentile } from './report.mjs';
import { fmt, loadRaw, saveRaw, writeReport } from './results.mjs';
import {
  CENTRIFUGO_DEFAULT, centrifugoVersion, cpuSeconds, missing, rssKb, SERVERS, startServer, supports,
} from './servers.mjs';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.dirname(BENCH);

const USAGE = `usage: bench/run [--smoke] [--only herald,nchan,centrifugo] [--scenarios a,b] [--herald BIN]
                 [--loadgen BIN] [--centrifugo BIN] [--out DIR] [--herald-port N] [--nchan-port N]
                 [--centrifugo-port N] [--append] [--herald-flags "--flag value …"]

Runs every benchmark scenario against build/herald, nginx+nchan (bench/nchan.conf) and
Centrifugo (bench/centrifugo.json; the binary of bench/install-centrifugo, left out with a
warning when it is missing unless --only names it) and
writes bench/results/<date>.md (--smoke: <date>-smoke.md, tiny counts, seconds), and the raw
results to <date>.json after every scenario. --append first loads that JSON, so that runs of
a few scenarios each add up to one report (a scenario run again replaces its earlier figures).`;

function parseArgs(argv) {
  const o = {
    smoke: false, only: null, scenarios: null, heraldPort: 18181, nchanPort: 18080, centrifugoPort: 18280,
    centrifugo: process.env.CENTRIFUGO_BIN || CENTRIFUGO_DEFAULT,
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
    else if (a === '--only') o.only = next().split(',');
    else if (a === '--scenarios') o.scenarios = next().split(',');
    else if (a === '--herald') o.herald = path.resolve(next());
    else if (a === '--loadgen') o.loadgen = path.resolve(next());
    else if (a === '--out') o.out = path.resolve(next());
    else if (a === '--herald-port') o.heraldPort = Number(next());
    else if (a === '--nchan-port') o.nchanPort = Number(next());
    else if (a === '--centrifugo-port') o.centrifugoPort = Number(next());
    else if (a === '--centrifugo') o.centrifugo = path.resolve(next());
    else if (a === '--append') o.append = true;
    else if (a === '--herald-flags') o.heraldFlags = next().split(/\s+/).filter(Boolean);
    else if (a === '-h' || a === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown flag ${a}\n${USAGE}`);
  }
  return o;
}

// --- one scenario against one server --------------------------------------------------------

function loadgenProcess(o, args) {
  const proc = spawn('taskset', ['-c', '1', o.loadgen, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let onReady;
  const ready = new Promise((r) => (onReady = r));
  proc.stdout.on('data', (d) => (stdout += d));
  proc.stderr.on('data', (d) => {
    stderr += d;
    if (stderr.includes('"event":"ready"')) onReady();
  });
  const done = new Promise((resolve, reject) => {
    proc.on('error', reject);
    proc.on('close', (code) => {
      onReady();
      const line = stdout.trim().split('\n').pop();
      try {
        resolve({ code, result: JSON.parse(line), stderr });
      } catch {
        reject(new Error(`herald-loadgen ${args.join(' ')} exited ${code} without a result\n${stderr}`));
      }
    });
  });
  return { ready, done };
}

async function runScenario(o, s, server, runId) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-run-'));
  const finalFile = path.join(dir, 'final');
  const channels = s.channels ?? 1;
  const common = ['--url', `http://127.0.0.1:${server.port}`, '--dialect', server.name,
    '--channels', String(channels), '--channel-prefix', `b${runId}-${s.name}`,
    '--duration', String(s.duration), '--warmup', String(s.warmup ?? 0), '--drain', String(s.drain ?? 10)];
  // Chat mix: rooms room-<k>, users u-<i> (a fresh server per scenario, so no clash), every
  // process told the total so that all of them number rooms and users alike.
  if (s.chat)
    common.push('--chat', String(s.chat.roomSize), '--chat-sessions', String(s.subscribers),
      '--user-rate', String(s.chat.userRate), '--churn-rate', String(s.chat.churnRate),
      '--channel-prefix', 'room', '--user-prefix', 'u');
  if (server.apiKey) common.push('--api-key', server.apiKey);
  if (server.settle) await server.settle();
  const rssBefore = rssKb(server.pid);
  const subs = [];
  const perProc = Math.ceil(s.subscribers / s.procs);
  for (let p = 0, first = 0; first < s.subscribers; p++, first += perProc) {
    const n = Math.min(perProc, s.subscribers - first);
    subs.push(loadgenProcess(o, [...common, '--role', 'sub', '--transport', s.transport, '--subscribers', String(n),
      '--first-index', String(first), '--proc', String(p), '--final-file', finalFile,
      ...(s.chat ? [] : ['--last-out', path.join(dir, `last-${p}`)]), ...(s.idle ? ['--idle'] : [])]));
  }
  await Promise.all(subs.map((x) => x.ready));
  const rssReady = rssKb(server.pid);
  const cpuStart = cpuSeconds(server.pid);
  const t0 = Date.now();
  let pub = null;
  if (!s.idle) {
    pub = loadgenProcess(o, [...common, '--role', 'pub', '--rate', String(s.rate), '--final-file', finalFile,
      '--pub-connections', String(s.pubConnections ?? 1), '--pipeline', String(s.pipeline ?? 1), ...(s.spread ? ['--spread'] : []),
      '--expect-subscribers', String(s.subscribers)]);
  }
  const subResults = (await Promise.all(subs.map((x) => x.done))).map((x) => x.result);
  const pubResult = pub ? (await pub.done).result : null;
  const cpu = cpuSeconds(server.pid) - cpuStart;
  const rssEnd = rssKb(server.pid);
  const wall = (Date.now() - t0) / 1000;

  const sum = (k) => subResults.reduce((a, r) => a + (r[k] ?? 0), 0);
  const latency = mergeHistograms(subResults.map((r) => r.latency_ns));
  const roundTrip = mergeHistograms([pubResult?.publish_round_trip_ns]);
  const readyByChannel = new Array(channels).fill(0);
  for (let i = 0; i < sum('ready'); i++) readyByChannel[i % channels]++;
  // The chat mix has no last-subscriber figure (a room message's receivers are its 10 members).
  const last = s.idle || s.chat ? mergeHistograms([]) : mergeLastFiles(subResults.map((_, p) => path.join(dir, `last-${p}`)), readyByChannel);
  const chat = subResults.map((r) => r.chat).filter(Boolean);
  const reconnectNs = mergeHistograms(chat.map((c) => c.reconnect_ns));
  const setupS = Math.max(...subResults.map((r) => r.setup_s));
  const errors = [...subResults, pubResult].filter((r) => r && r.error).map((r) => r.error);
  fs.rmSync(dir, { recursive: true, force: true });
  const delivered = sum('unique');
  const measured = latency.count;
  return {
    subscribers: s.subscribers, ready: sum('ready'), failed: sum('failed'), disconnected: sum('disconnected'),
    published: pubResult?.published ?? 0, publish_errors: pubResult?.publish_errors ?? 0,
    publish_rate: pubResult?.publish_rate ?? NaN, max_backlog: pubResult?.max_backlog ?? NaN,
    expected: sum('expected'), delivered, missing: sum('missing'), duplicates: sum('duplicates'),
    loss: sum('missing') + sum('duplicates') + sum('malformed'),
    deliveries_per_s: subResults.reduce((a, r) => a + r.deliveries_per_s, 0),
    p50: percentile(latency, 0.5), p99: percentile(latency, 0.99), p999: percentile(latency, 0.999),
    max: latency.count ? latency.max : NaN,
    pub_p50: percentile(roundTrip, 0.5), pub_p99: percentile(roundTrip, 0.99), roundTrip,
    last_p99: percentile(last, 0.99), latency, last,
    cpu_s: cpu, cpu_us: measured > 0 ? (cpu * 1e6) / delivered : NaN,
    deliveries_per_core: cpu > 0 ? delivered / cpu : NaN,
    ...(s.chat ? {
      reconnects: chat.reduce((a, c) => a + c.reconnects, 0),
      server_closes: chat.reduce((a, c) => a + c.server_closes, 0),
      lost_sessions: chat.reduce((a, c) => a + c.lost_sessions, 0),
      reconnect_p50: percentile(reconnectNs, 0.5), reconnect_p99: percentile(reconnectNs, 0.99),
      room_messages: pubResult?.chat?.room_messages ?? 0, user_messages: pubResult?.chat?.user_messages ?? 0,
    } : {}),
    rss_mb: rssEnd / 1024, rss_per_conn_kb: (rssReady - rssBefore) / Math.max(1, sum('ready')),
    setup_rate: setupS > 0 ? sum('ready') / setupS : NaN,
    loadgen_cpu_s: [...subResults, pubResult].reduce((a, r) => a + (r?.loadgen_cpu_s ?? 0), 0),
    wall_s: wall, errors,
  };
}

/** A server's result when its run threw: counts as failed, shows '–' in the table. */
function failedResult(s, err) {
  return {
    subscribers: s.subscribers, loss: NaN, errors: [err.message.split('\n')[0]],
    latency: mergeHistograms([]), last: mergeHistograms([]), roundTrip: mergeHistograms([]),
  };
}

// --- main -----------------------------------------------------------------------------------

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(o.loadgen)) throw new Error(`herald-loadgen not found at ${o.loadgen} (make build, or --loadgen)`);
  // Every server unless --only; Centrifugo is left out with a warning when it is not installed
  // (bench/install-centrifugo), unless --only names it.
  const servers = (o.only ?? SERVERS).filter((name) => {
    if (!SERVERS.includes(name)) throw new Error(`unknown server ${name} (${SERVERS.join(', ')})`);
    const why = missing(name, o);
    if (why && (o.only || name !== 'centrifugo')) throw new Error(why);
    if (why) console.warn(`bench/run: ${why}: measuring without it`);
    return !why;
  });
  let list = scenarios({ smoke: o.smoke });
  if (o.scenarios) list = list.filter((s) => o.scenarios.includes(s.name));
  const date = new Date().toISOString().slice(0, 10);
  const runId = Date.now().toString(36);
  const started = {
    load: os.loadavg().map((x) => x.toFixed(2)).join(' '),
    commit: await new Promise((r) => {
      const p = spawn('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD']);
      let out = '';
      p.stdout.on('data', (d) => (out += d));
      p.on('close', () => r(out.trim() || 'unknown'));
      p.on('error', () => r('unknown'));
    }),
    centrifugo: servers.includes('centrifugo') ? centrifugoVersion(o.centrifugo) : null,
  };
  const base = `${date}${o.smoke ? '-smoke' : ''}`;
  const rawFile = path.join(o.out, `${base}.json`);
  const earlier = o.append ? loadRaw(rawFile) : { meta: null, results: [] };
  // --append with no scenario to run (e.g. --scenarios none) only rewrites the report.
  if (earlier.meta) started.load = list.length ? `${earlier.meta.load}; this part ${started.load}` : earlier.meta.load;
  if (earlier.meta && list.length && !earlier.meta.commit.split(' and ').includes(started.commit)) started.commit = `${earlier.meta.commit} and ${started.commit}`;
  else if (earlier.meta) started.commit = earlier.meta.commit;
  const order = scenarios({ smoke: o.smoke }).map((s) => s.name);
  let results = earlier.results.filter(({ s }) => !list.some((x) => x.name === s.name));
  // A server run now replaces that server's earlier figures; the other server's stay.
  const earlierBy = (name) => earlier.results.find(({ s }) => s.name === name)?.by ?? {};
  const record = (entry) => {
    entry = { s: entry.s, by: { ...earlierBy(entry.s.name), ...entry.by } };
    results = [...results.filter(({ s }) => s.name !== entry.s.name), entry]
      .sort((a, b) => order.indexOf(a.s.name) - order.indexOf(b.s.name));
    saveRaw(rawFile, results, { load: started.load, commit: started.commit, centrifugo: started.centrifugo });
  };
  let failed = false;
  for (const [i, s] of list.entries()) {
    const by = {};
    for (const name of servers) {
      if (!supports(name, s)) {
        by[name] = { na: true, errors: [] };
        continue;
      }
      let server;
      const load1 = os.loadavg()[0];
      try {
        server = await startServer(name, o);
      } catch (err) {
        by[name] = failedResult(s, err);
        failed = true;
        console.log(`[${i + 1}/${list.length}] ${s.name} ${name}: server did not start: ${err.message}`);
        continue;
      }
      try {
        const r = await runScenario(o, s, server, runId).catch((err) => failedResult(s, err));
        r.load1 = load1;
        by[name] = r;
        if (r.loss > 0 || r.errors.length) failed = true;
        console.log(`[${i + 1}/${list.length}] ${s.name} ${name}: ${s.idle ? `${r.ready} ready, ${fmt('setup_rate', r.setup_rate)} conn/s, ${fmt('rss_per_conn_kb', r.rss_per_conn_kb)} KiB/conn`
          : `${fmt('deliveries_per_s', r.deliveries_per_s)} deliveries/s, lost+dup ${r.loss}, p99 ${fmt('p99', r.p99)} ms, ${fmt('cpu_us', r.cpu_us)} µs CPU/delivery`}${Number.isFinite(r.pub_p50) ? `, publish round trip p50 ${fmt('pub_p50', r.pub_p50)} ms` : ''}${s.chat ? `, ${fmt('deliveries_per_core', r.deliveries_per_core)} deliveries/CPU-s, ${r.reconnects} reconnects (p99 ${fmt('reconnect_p99', r.reconnect_p99)} ms)` : ''} (${(r.wall_s ?? NaN).toFixed(1)} s, load ${load1.toFixed(2)})${r.errors.length ? ` ERRORS: ${r.errors.join('; ')}` : ''}`);
      } finally {
        await server.stop();
      }
    }
    record({ s, by });
  }
  const file = writeReport(o, results, date, started);
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
  // Smoke runs prove the harness: a loss or an error there is a failure.
  if (o.smoke && failed) process.exitCode = 1;
}

main().catch((err) => {
  console.error(`bench/run: ${err.message}`);
  process.exit(2);
});
