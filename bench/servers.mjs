// The servers bench/run measures, each started fresh per scenario pinned to CPU 0 and stopped
// by its PID: Herald, nginx+nchan (bench/nchan.conf) and Centrifugo v6 (memory engine, one
// node; bench/centrifugo.json). Also the /proc readings the report is made of.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const CLK_TCK = 100; // Linux USER_HZ

/** Every server bench/run knows, in report column order. */
export const SERVERS = ['herald', 'nchan', 'centrifugo'];
export const SERVER_TITLES = { herald: 'Herald', nchan: 'nchan', centrifugo: 'Centrifugo' };

/** Where bench/install-centrifugo puts the binary (outside the repository). */
export const CENTRIFUGO_DEFAULT = path.join(os.homedir(), '.cache', 'herald-bench', 'bin', 'centrifugo');
/** The HTTP API key of bench/centrifugo.json, which the publisher sends as X-API-Key. */
export const CENTRIFUGO_API_KEY = 'bench-api-key';

/**
 * Whether a server can run a scenario: Centrifugo is measured over its WebSocket JSON protocol
 * only (its SSE is unidirectional and needs a connect token per URL, it has no long-poll), and
 * not in the chat mix (which resumes by Herald eids or nchan message ids).
 */
export function supports(server, s) {
  if (server !== 'centrifugo') return true;
  return s.transport === 'ws' && !s.chat;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function httpGet(port, p, timeoutMs = 1000) {
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

export async function until(what, fn, boundMs) {
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
export function cpuSeconds(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // fields 14 and 15 of stat(5)
  } catch {
    return NaN;
  }
}

/** VmRSS of a process in KiB, or NaN. */
export function rssKb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** A child process started here, stopped by its PID: SIGTERM, then SIGKILL after 10 s. */
function stopper(proc) {
  return async () => {
    proc.kill('SIGTERM');
    await until(`pid ${proc.pid} to exit`, () => !alive(proc.pid) || proc.exitCode !== null, 10_000)
      .catch(() => proc.kill('SIGKILL'));
  };
}

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
  return { name: 'herald', port: o.heraldPort, pid: proc.pid, stop: stopper(proc) };
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
    // Subscribers of a stopped earlier run may still be counted for a moment.
    settle: () => until('nchan to count 0 subscribers', async () => /subscribers: 0\b/.test((await httpGet(o.nchanPort, '/nchan_status')).body), 10_000),
    stop: async () => {
      process.kill(master, 'SIGTERM');
      await until('nginx to exit', () => !alive(master), 10_000).catch(() => process.kill(master, 'SIGKILL'));
      fs.rmSync(prefix, { recursive: true, force: true });
    },
  };
}

// Centrifugo under taskset -c 0: Go sizes GOMAXPROCS from the affinity mask, so it schedules
// its goroutines on one thread at a time, as nginx has one worker (its runtime still has a few
// helper threads, all on CPU 0). The memory engine of one node; bench/centrifugo.json.
async function startCentrifugo(o) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-centrifugo-'));
  const conf = JSON.parse(fs.readFileSync(path.join(BENCH, 'centrifugo.json'), 'utf8'));
  conf.http_server.port = o.centrifugoPort;
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(conf, null, 2));
  const logFile = path.join(dir, 'centrifugo.log');
  const log = fs.openSync(logFile, 'w');
  const proc = spawn('taskset', ['-c', '0', o.centrifugo, '--config', path.join(dir, 'config.json')],
    { stdio: ['ignore', log, log], cwd: dir });
  fs.closeSync(log);
  await until('centrifugo /health', async () => {
    if (proc.exitCode !== null) throw new Error(`centrifugo exited ${proc.exitCode}; log: ${logFile}`);
    return (await httpGet(o.centrifugoPort, '/health')).status === 200;
  }, 15_000);
  const stop = stopper(proc);
  return {
    name: 'centrifugo', port: o.centrifugoPort, pid: proc.pid, apiKey: CENTRIFUGO_API_KEY,
    stop: async () => {
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function startServer(name, o) {
  if (name === 'herald') return startHerald(o);
  if (name === 'nchan') return startNchan(o);
  return startCentrifugo(o);
}

/** Why a server cannot run on this machine, or null. */
export function missing(name, o) {
  if (name === 'herald' && !fs.existsSync(o.herald)) return `herald not found at ${o.herald} (make build, or --herald)`;
  if (name === 'nchan' && !fs.existsSync('/usr/lib/nginx/modules/ngx_nchan_module.so'))
    return 'nginx+nchan missing: make deps DEPS_FLAGS=--bench';
  if (name === 'centrifugo' && !fs.existsSync(o.centrifugo)) return `centrifugo not found at ${o.centrifugo} (bench/install-centrifugo, or --centrifugo)`;
  return null;
}

/**
 * The version of the Centrifugo binary, for the report: bench/install-centrifugo's stamp beside
 * it (`go install` builds report v0.0.0), else what the binary says.
 */
export function centrifugoVersion(bin) {
  try {
    return fs.readFileSync(`${bin}.version`, 'utf8').trim();
  } catch {
    const r = spawnSync(bin, ['version'], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : 'unknown';
  }
}
