// bench/run: every scenario of bench/scenarios.mjs against Herald and against nginx+nchan,
// side by side. Servers run pinned to CPU 0 (a fresh one per scenario), the load generators
// to CPU 1. Server CPU comes from /proc/<pid>/stat (utime+stime; for nginx its one worker),
// RSS from /proc/<pid>/status. Writes bench/results/<date>[-smoke].md and its plots.
// Usage: BENCHMARKS.md, or `bench/run --help`.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NOT_YET, scenarios } from './scenarios.mjs';
import { mergeHistograms, mergeLastFiles, percentile, writePlots } from './report.mjs';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.dirname(BENCH);
const CLK_TCK = 100; // Linux USER_HZ

const USAGE = `usage: bench/run [--smoke] [--only herald|nchan] [--scenarios a,b] [--herald BIN]
                 [--loadgen BIN] [--out DIR] [--herald-port N] [--nchan-port N] [--append]
                 [--herald-flags "--flag value …"]

Runs every benchmark scenario against build/herald and nginx+nchan (bench/nchan.conf) and
writes bench/results/<date>.md (--smoke: <date>-smoke.md, tiny counts, seconds), and the raw
results to <date>.json after every scenario. --append first loads that JSON, so that runs of
a few scenarios each add up to one report (a scenario run again replaces its earlier figures).`;

function parseArgs(argv) {
  const o = {
    smoke: false, only: null, scenarios: null, heraldPort: 18181, nchanPort: 18080,
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
    else if (a === '--only') o.only = next();
    else if (a === '--scenarios') o.scenarios = next().split(',');
    else if (a === '--herald') o.herald = path.resolve(next());
    else if (a === '--loadgen') o.loadgen = path.resolve(next());
    else if (a === '--out') o.out = path.resolve(next());
    else if (a === '--herald-port') o.heraldPort = Number(next());
    else if (a === '--nchan-port') o.nchanPort = Number(next());
    else if (a === '--append') o.append = true;
    else if (a === '--herald-flags') o.heraldFlags = next().split(/\s+/).filter(Boolean);
    else if (a === '-h' || a === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown flag ${a}\n${USAGE}`);
  }
  return o;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function httpGet(port, p, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ status: 0, body: '' }));
  });
}

async function until(what, fn, boundMs) {
  const end = Date.now() + boundMs;
  while (Date.now() < end) {
    if (await fn()) return;
    await sleep(50);
  }
  throw new Error(`timed out after ${boundMs} ms waiting for ${what}`);
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** utime+stime of a process in seconds, or NaN when it is gone. */
function cpuSeconds(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // fields 14 and 15 of stat(5)
  } catch {
    return NaN;
  }
}

/** VmRSS of a process in KiB, or NaN. */
function rssKb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

// --- servers --------------------------------------------------------------------------------

async function startHerald(o) {
  const logFile = path.join(os.tmpdir(), `bench-herald-${process.pid}.log`);
  const log = fs.openSync(logFile, 'w');
  // Presence notices would add N² join events to a fan-out of N; nchan has none.
  // --max-requests-per-connection as nchan.conf's keepalive_requests: with the default 100,000
  // Herald closes the one publisher connection of a one-channel run after 100,000 publishes,
  // and the requests pipelined behind the last answered one are lost to the count.
  // One I/O and one actor thread: the server has one core, as nginx has one worker; more
  // threads on that core only add context switches (measured: 107 -> 82 µs CPU per publish).
  // --herald-flags come last, so they win.
  const proc = spawn('taskset', ['-c', '0', o.herald, '--listen', `127.0.0.1:${o.heraldPort}`,
    '--notify-presence', 'off', '--log-level', 'warn', '--drain-timeout', '1',
    '--max-requests-per-connection', '100000000', '--io-threads', '1', '--actor-threads', '1',
    ...o.heraldFlags],
  { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  await until('herald /readyz', async () => {
    if (proc.exitCode !== null) throw new Error(`herald exited ${proc.exitCode} (port ${o.heraldPort} in use?); log: ${logFile}`);
    return (await httpGet(o.heraldPort, '/readyz')).status === 200;
  }, 15_000);
  return {
    name: 'herald', port: o.heraldPort, pid: proc.pid,
    stop: async () => {
      proc.kill('SIGTERM');
      await until('herald to exit', () => !alive(proc.pid) || proc.exitCode !== null, 10_000).catch(() => proc.kill('SIGKILL'));
    },
  };
}

async function startNchan(o) {
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-nchan-'));
  fs.mkdirSync(path.join(prefix, 'tmp'));
  const conf = fs.readFileSync(path.join(BENCH, 'nchan.conf'), 'utf8')
    .replace('listen 127.0.0.1:18080', `listen 127.0.0.1:${o.nchanPort}`);
  fs.writeFileSync(path.join(prefix, 'nchan.conf'), conf);
  await new Promise((resolve, reject) => {
    const p = spawn('taskset', ['-c', '0', 'nginx', '-p', `${prefix}/`, '-e', `${prefix}/error.log`, '-c', `${prefix}/nchan.conf`], { stdio: 'inherit' });
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`nginx exited ${code}; see ${prefix}/error.log`))));
  });
  const master = Number(fs.readFileSync(path.join(prefix, 'nginx.pid'), 'utf8').trim());
  await until('nchan /nchan_status', async () => (await httpGet(o.nchanPort, '/nchan_status')).status === 200, 15_000);
  const children = fs.readFileSync(`/proc/${master}/task/${master}/children`, 'utf8').trim().split(/\s+/).map(Number);
  if (children.length !== 1) throw new Error(`nginx master ${master} has ${children.length} children, expected 1 worker`);
  return {
    name: 'nchan', port: o.nchanPort, pid: children[0], master,
    stop: async () => {
      process.kill(master, 'SIGTERM');
      await until('nginx to exit', () => !alive(master), 10_000).catch(() => process.kill(master, 'SIGKILL'));
      fs.rmSync(prefix, { recursive: true, force: true });
    },
  };
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
  const common = ['--url', `http://127.0.0.1:${server.port}`, '--dialect', server.name === 'herald' ? 'herald' : 'nchan',
    '--channels', String(channels), '--channel-prefix', `b${runId}-${s.name}`,
    '--duration', String(s.duration), '--warmup', String(s.warmup ?? 0), '--drain', String(s.drain ?? 10)];
  // Chat mix: rooms room-<k>, users u-<i> (a fresh server per scenario, so no clash), every
  // process told the total so that all of them number rooms and users alike.
  if (s.chat)
    common.push('--chat', String(s.chat.roomSize), '--chat-sessions', String(s.subscribers),
      '--user-rate', String(s.chat.userRate), '--churn-rate', String(s.chat.churnRate),
      '--channel-prefix', 'room', '--user-prefix', 'u');
  if (server.name === 'nchan') {
    // Subscribers of a stopped earlier run may still be counted for a moment.
    await until('nchan to count 0 subscribers', async () => /subscribers: 0\b/.test((await httpGet(server.port, '/nchan_status')).body), 10_000);
  }
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
      '--pub-connections', String(s.pubConnections ?? 1), '--pipeline', String(s.pipeline ?? 1),
      '--expect-subscribers', String(s.subscribers)]);
  }
  const subResults = (await Promise.all(subs.map((x) => x.done))).map((x) => x.result);
  const pubResult = pub ? (await pub.done).result : null;
  const cpu = cpuSeconds(server.pid) - cpuStart;
  const rssEnd = rssKb(server.pid);
  const wall = (Date.now() - t0) / 1000;

  const sum = (k) => subResults.reduce((a, r) => a + (r[k] ?? 0), 0);
  const latency = mergeHistograms(subResults.map((r) => r.latency_ns));
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

// --- report ---------------------------------------------------------------------------------

const METRICS = {
  deliveries_per_s: { label: 'deliveries/s', fmt: (v) => v.toFixed(0) },
  publish_rate: { label: 'publishes/s achieved', fmt: (v) => v.toFixed(0) },
  loss: { label: 'lost+dup', fmt: (v) => String(v) },
  p50: { label: 'latency p50 (ms)', fmt: (v) => (v / 1e6).toFixed(3) },
  p99: { label: 'latency p99 (ms)', fmt: (v) => (v / 1e6).toFixed(3) },
  p999: { label: 'latency p999 (ms)', fmt: (v) => (v / 1e6).toFixed(3) },
  last_p99: { label: 'last subscriber p99 (ms)', fmt: (v) => (v / 1e6).toFixed(3) },
  cpu_us: { label: 'server CPU µs/delivery', fmt: (v) => v.toFixed(2) },
  deliveries_per_core: { label: 'deliveries per server CPU second (/s per core)', fmt: (v) => v.toFixed(0) },
  reconnects: { label: 'reconnects (resumed)', fmt: (v) => String(v) },
  reconnect_p50: { label: 'reconnect time p50 (ms)', fmt: (v) => (v / 1e6).toFixed(3) },
  reconnect_p99: { label: 'reconnect time p99 (ms)', fmt: (v) => (v / 1e6).toFixed(3) },
  rss_mb: { label: 'server RSS (MiB)', fmt: (v) => v.toFixed(1) },
  rss_per_conn_kb: { label: 'RSS per connection (KiB)', fmt: (v) => v.toFixed(2) },
  setup_rate: { label: 'connections set up/s', fmt: (v) => v.toFixed(0) },
  ready: { label: 'subscribers ready', fmt: (v) => String(v) },
};

const fmt = (m, v) => (v === undefined || Number.isNaN(v) ? '–' : METRICS[m].fmt(v));

function ratio(h, n) {
  if (h === undefined || n === undefined || Number.isNaN(h) || Number.isNaN(n) || n === 0) return '–';
  return `${(h / n).toFixed(2)}`;
}

function writeReport(o, results, date, started) {
  const suffix = o.smoke ? '-smoke' : '';
  const base = `${date}${suffix}`;
  fs.mkdirSync(o.out, { recursive: true });
  let plots = [];
  try {
    plots = writePlots(path.join(o.out, base), results);
  } catch (err) {
    console.warn(`bench/run: no plots: ${err.message.split('\n')[0]}`);
  }
  const lines = [];
  lines.push(`# Benchmark ${o.smoke ? 'SMOKE run' : 'run'} of ${date}`, '');
  if (o.smoke)
    lines.push('**Smoke run**: tiny counts for seconds (1 or 20 subscribers, ≤ 200 msg/s, 2 s; chat-mix 40) on a machine busy',
      'with other work. It proves the harness runs end to end; its figures measure nothing.', '');
  lines.push(`Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, ${os.release()}; load average at start ${started.load}.`,
    `Herald ${o.herald} (commit ${started.commit}); nginx+nchan per bench/nchan.conf. Servers on CPU 0, load on CPU 1.`,
    'Ratio = Herald / nchan. Latency is publish-to-delivery (CLOCK_MONOTONIC, one host).', '');
  lines.push('| scenario | subs | metric | Herald | nchan | ratio | goal |', '| --- | ---: | --- | ---: | ---: | ---: | --- |');
  for (const { s, by } of results) {
    s.metrics.forEach((m, i) => {
      const h = by.herald?.[m];
      const n = by.nchan?.[m];
      lines.push(`| ${i === 0 ? s.name : ''} | ${i === 0 ? s.subscribers : ''} | ${METRICS[m].label} | ${fmt(m, h)} | ${fmt(m, n)} | ${ratio(h, n)} | ${i === 0 ? s.goal : ''} |`);
    });
  }
  lines.push('');
  if (NOT_YET.length) lines.push('Not implemented yet: ' + NOT_YET.join('; ') + '.', '');
  const problems = results.flatMap(({ s, by }) => Object.entries(by).flatMap(([srv, r]) => r.errors.map((e) => `- ${s.name} / ${srv}: ${e}`)));
  if (problems.length) lines.push('## Errors (server start, load generator)', '', ...problems, '');
  if (plots.length) lines.push('## Plots', '', ...plots.map((p) => `![${p.title}](${base}/${p.file})`), '');
  const file = path.join(o.out, `${base}.md`);
  fs.writeFileSync(file, lines.join('\n'));
  return file;
}

// --- raw results, so that runs of a few scenarios each add up to one report -----------------

const histToJson = (h) => ({ count: h.count, max: h.max, buckets: [...h.buckets] });
const histFromJson = (h) => ({ count: h.count, max: h.max, buckets: new Map(h.buckets) });

function saveRaw(file, results, meta) {
  const rows = results.map(({ s, by }) => ({
    s,
    by: Object.fromEntries(Object.entries(by).map(([k, r]) => [k, { ...r, latency: histToJson(r.latency), last: histToJson(r.last) }])),
  }));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ meta, results: rows }) + '\n');
}

function loadRaw(file) {
  if (!fs.existsSync(file)) return { meta: null, results: [] };
  const raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  return {
    meta: raw.meta,
    results: raw.results.map(({ s, by }) => ({
      s,
      by: Object.fromEntries(Object.entries(by).map(([k, r]) => [k, { ...r, latency: histFromJson(r.latency), last: histFromJson(r.last) }])),
    })),
  };
}

/** A server's result when its run threw: counts as failed, shows '–' in the table. */
function failedResult(s, err) {
  return { subscribers: s.subscribers, loss: NaN, errors: [err.message.split('\n')[0]], latency: mergeHistograms([]), last: mergeHistograms([]) };
}

// --- main -----------------------------------------------------------------------------------

async function main() {
  const o = parseArgs(process.argv.slice(2));
  for (const [what, file] of [['herald', o.herald], ['herald-loadgen', o.loadgen]])
    if (!fs.existsSync(file)) throw new Error(`${what} not found at ${file} (make build, or --herald/--loadgen)`);
  const servers = (o.only ? [o.only] : ['herald', 'nchan']);
  if (servers.includes('nchan') && !fs.existsSync('/usr/lib/nginx/modules/ngx_nchan_module.so'))
    throw new Error('nginx+nchan missing: make deps DEPS_FLAGS=--bench');
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
    saveRaw(rawFile, results, { load: started.load, commit: started.commit });
  };
  let failed = false;
  for (const [i, s] of list.entries()) {
    const by = {};
    for (const name of servers) {
      let server;
      try {
        server = await (name === 'herald' ? startHerald(o) : startNchan(o));
      } catch (err) {
        by[name] = failedResult(s, err);
        failed = true;
        console.log(`[${i + 1}/${list.length}] ${s.name} ${name}: server did not start: ${err.message}`);
        continue;
      }
      try {
        const r = await runScenario(o, s, server, runId).catch((err) => failedResult(s, err));
        by[name] = r;
        if (r.loss > 0 || r.errors.length) failed = true;
        console.log(`[${i + 1}/${list.length}] ${s.name} ${name}: ${s.idle ? `${r.ready} ready, ${fmt('setup_rate', r.setup_rate)} conn/s, ${fmt('rss_per_conn_kb', r.rss_per_conn_kb)} KiB/conn`
          : `${fmt('deliveries_per_s', r.deliveries_per_s)} deliveries/s, lost+dup ${r.loss}, p99 ${fmt('p99', r.p99)} ms, ${fmt('cpu_us', r.cpu_us)} µs CPU/delivery`}${s.chat ? `, ${fmt('deliveries_per_core', r.deliveries_per_core)} deliveries/CPU-s, ${r.reconnects} reconnects (p99 ${fmt('reconnect_p99', r.reconnect_p99)} ms)` : ''} (${(r.wall_s ?? NaN).toFixed(1)} s)${r.errors.length ? ` ERRORS: ${r.errors.join('; ')}` : ''}`);
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
