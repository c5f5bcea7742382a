// Black-box harness: starts the real `build/herald` binary and talks to it over
// HTTP, exactly as a client would. No sleeps: every wait is on a condition (a log
// line, a response, a process exit) and every wait is bounded so that a missing
// condition fails the test instead of hanging it. Tests never assert durations.
//
// Run (Node 20, no npm dependencies), from the repository root:
//   node --test --test-concurrency=2 tests/blackbox/
// HERALD_BIN overrides the binary (default <repo>/build/herald). Other HERALD_*
// variables of the calling shell are not passed to the server.
//
// Requests go out on fresh connections (node:http, no agent) unless a test asks
// for keep-alive: no idle pooled connection outlives a test, so a server stopped
// with SIGTERM has nothing left to wait for.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { test as nodeTest } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const HERALD_BIN = process.env.HERALD_BIN || path.join(REPO, 'build', 'herald');

/** Default bound for one HTTP exchange that should be answered at once. */
export const ANSWER_BOUND_MS = 10_000;

// ---------------------------------------------------------------------------
// Bounded waiting

/**
 * Resolves like `promise`, or rejects with "timed out after … waiting for <what>"
 * when it has not settled within `ms`. `onTimeout` runs first (e.g. to destroy a
 * socket). The bound only limits waiting; tests never assert on durations.
 */
export function bounded(promise, ms, what, onTimeout) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => {
      try {
        onTimeout?.();
      } finally {
        reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      }
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

let uniqCounter = 0;
/** Returns a name unique within this test process, usable as group or user name. */
export function uniq(prefix = 'x') {
  uniqCounter += 1;
  return `${prefix}-${process.pid}-${uniqCounter}-${crypto.randomBytes(3).toString('hex')}`;
}

// ---------------------------------------------------------------------------
// Processes

const liveServers = new Set();

function cleanEnv(extra) {
  // Tests are hermetic: HERALD_* settings of the caller's shell must not leak in.
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('HERALD_')) env[k] = v;
  return { ...env, ...extra };
}

function writeConfig(configJson) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-bb-'));
  const file = path.join(dir, 'config.json');
  fs.writeFileSync(file, typeof configJson === 'string' ? configJson : JSON.stringify(configJson, null, 2));
  return { dir, file };
}

/**
 * Spawns herald with `--listen 127.0.0.1:0 --log-level debug` plus `args` (and
 * `--config <tmpfile>` when `configJson` is given) and resolves once a JSON log line
 * with msg "listening" names the bound address. Rejects (with every log line) when
 * the process exits first or nothing is heard within `startBoundMs`.
 *
 * Returns {url, host, port, proc, stop(), terminate(), exited, logs()}:
 * - `terminate()` sends SIGTERM once; `exited` resolves to {code, signal}.
 * - `stop()` terminates and awaits exit (SIGKILL after a bound); it throws when the
 *   server had died on its own before, so a crash never goes unnoticed.
 */
export async function startHerald(args = [], { env = {}, configJson, startBoundMs = 15_000 } = {}) {
  const config = configJson !== undefined ? writeConfig(configJson) : null;
  const fullArgs = ['--listen', '127.0.0.1:0', '--log-level', 'debug'];
  if (config) fullArgs.push('--config', config.file);
  fullArgs.push(...args);

  const lines = [];
  const proc = spawn(HERALD_BIN, fullArgs, { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  const server = {
    args: fullArgs,
    proc,
    lines,
    logs: () => lines.join('\n'),
    signaled: false,
    exitInfo: null,
  };

  let onListening;
  const listening = new Promise((resolve, reject) => {
    onListening = { resolve, reject };
  });

  server.exited = new Promise((resolve) => {
    proc.on('exit', (code, signal) => {
      server.exitInfo = { code, signal };
      lines.push(`[harness] herald exited code=${code} signal=${signal}`);
      liveServers.delete(server);
      onListening.reject(
        new Error(`herald exited (code=${code} signal=${signal}) before listening; args: ${fullArgs.join(' ')}\n${server.logs()}`),
      );
      resolve({ code, signal });
    });
  });
  proc.on('error', (err) => {
    lines.push(`[harness] spawn error: ${err.message}`);
    onListening.reject(new Error(`cannot start ${HERALD_BIN}: ${err.message} (build it or set HERALD_BIN)`));
  });

  const consume = (stream, tag) => {
    const rl = createInterface({ input: stream });
    rl.on('line', (line) => {
      lines.push(tag + line);
      let entry;
      try {
        entry = JSON.parse(line);
      } catch {
        return;
      }
      if (entry && entry.msg === 'listening' && typeof entry.addr === 'string') onListening.resolve(entry.addr);
    });
  };
  consume(proc.stderr, '');
  consume(proc.stdout, '[stdout] ');

  server.terminate = () => {
    if (!server.signaled && server.exitInfo === null) {
      server.signaled = true;
      proc.kill('SIGTERM');
    }
  };
  server.stop = async () => {
    liveServers.delete(server);
    if (config) fs.rmSync(config.dir, { recursive: true, force: true });
    if (server.exitInfo !== null && !server.signaled) {
      throw new Error(
        `herald died during the test (code=${server.exitInfo.code} signal=${server.exitInfo.signal})\n${tail(server)}`,
      );
    }
    server.terminate();
    try {
      return await bounded(server.exited, 20_000, 'herald to exit after SIGTERM');
    } catch (err) {
      proc.kill('SIGKILL');
      throw err;
    }
  };

  let addr;
  try {
    addr = await bounded(listening, startBoundMs, `a "listening" log line from ${HERALD_BIN}`);
  } catch (err) {
    if (server.exitInfo === null) proc.kill('SIGKILL');
    if (config) fs.rmSync(config.dir, { recursive: true, force: true });
    err.message += `\n--- herald output ---\n${server.logs()}`;
    throw err;
  }
  const colon = addr.lastIndexOf(':');
  server.host = addr.slice(0, colon).replace(/^\[|\]$/g, '');
  server.port = Number(addr.slice(colon + 1));
  server.url = `http://${server.host}:${server.port}`;
  liveServers.add(server);
  return server;
}

/**
 * Runs herald to completion (e.g. `--help` or a bad flag) and resolves to
 * {code, signal, stdout, stderr}. A process still running after `boundMs` is killed
 * and the promise rejects: such a command was expected to exit by itself.
 */
export async function runHerald(args, { env = {}, boundMs = 10_000 } = {}) {
  const proc = spawn(HERALD_BIN, args, { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d) => (stdout += d));
  proc.stderr.on('data', (d) => (stderr += d));
  const done = new Promise((resolve, reject) => {
    proc.on('error', reject);
    proc.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  try {
    return await bounded(done, boundMs, `herald ${args.join(' ')} to exit`);
  } catch (err) {
    proc.kill('SIGKILL');
    err.message += `\nstdout: ${stdout}\nstderr: ${stderr}`;
    throw err;
  }
}

function tail(server, n = 80) {
  const shown = server.lines.slice(-n);
  return `--- last ${shown.length} herald log lines (${server.url ?? 'not listening'}) ---\n${shown.join('\n')}`;
}

/**
 * node:test's `test`, with a default timeout and, when the test fails, the tail of
 * the log of every herald still running in this test file appended to the error.
 */
export function test(name, optionsOrFn, maybeFn) {
  const fn = typeof optionsOrFn === 'function' ? optionsOrFn : maybeFn;
  const options = typeof optionsOrFn === 'function' ? {} : optionsOrFn;
  return nodeTest(name, { timeout: 60_000, ...options }, async (t) => {
    try {
      await fn(t);
    } catch (err) {
      const servers = [...liveServers];
      if (servers.length && err && typeof err === 'object') {
        const extra = servers.map((s) => tail(s)).join('\n');
        try {
          err.message = `${err.message}\n${extra}`;
        } catch {
          /* read-only message: keep the original error */
        }
      }
      throw err;
    }
  });
}
export { describe, before, after } from 'node:test';

// ---------------------------------------------------------------------------
// HTTP

/**
 * One HTTP exchange on a fresh connection (no keep-alive, unless `agent` is given).
 * `target` is the server base URL ("http://127.0.0.1:1234") or a server object.
 * Resolves to {status, headers, text, body} where `body` is the parsed JSON (or
 * undefined when the text is not JSON). Bounded by `boundMs`.
 */
export function request(target, { method = 'GET', path: reqPath = '/', headers = {}, body, boundMs = ANSWER_BOUND_MS, agent = false } = {}) {
  const base = new URL(typeof target === 'string' ? target : target.url);
  let req;
  const exchange = new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body);
    const hdrs = { ...headers };
    if (payload !== undefined && !Object.keys(hdrs).some((h) => h.toLowerCase() === 'content-length'))
      hdrs['Content-Length'] = payload.length;
    req = http.request(
      { host: base.hostname, port: base.port, method, path: reqPath, headers: hdrs, agent },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode, headers: res.headers, text, body: parsed, reusedSocket: req.reusedSocket, localPort: res.socket?.localPort });
        });
      },
    );
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
  return bounded(exchange, boundMs, `${method} ${reqPath}`, () => req?.destroy());
}

function describeResponse(r) {
  return `HTTP ${r.status} ${r.text.length > 2000 ? r.text.slice(0, 2000) + '…' : r.text}`;
}

/** POSTs a command frame (object), a batch (array) or raw text to /v1/rpc. */
export async function rpc(url, frameOrArray, { headers = {}, boundMs } = {}) {
  const text = typeof frameOrArray === 'string' ? frameOrArray : JSON.stringify(frameOrArray);
  const r = await request(url, {
    method: 'POST',
    path: '/v1/rpc',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: text,
    boundMs,
  });
  assert.notEqual(r.body, undefined, `POST /v1/rpc answered something that is not JSON: ${describeResponse(r)}`);
  return { status: r.status, headers: r.headers, body: r.body, text: r.text };
}

/** Calls `method` and returns its `result`, asserting HTTP 200 and a result frame. */
export async function call(url, method, params = {}, { boundMs } = {}) {
  const r = await rpc(url, { id: 1, method, params }, { boundMs });
  assert.equal(r.status, 200, `${method} ${JSON.stringify(params)} failed: ${describeResponse(r)}`);
  assert.ok(r.body && typeof r.body === 'object' && 'result' in r.body, `${method}: no result in ${r.text}`);
  assert.equal(r.body.id, 1, `${method}: id not echoed in ${r.text}`);
  return r.body.result;
}

/**
 * Asserts `r` (from rpc/request) is an error reply with that HTTP status and code:
 * body {error:{code,message}} (plus `id` for rpc frames), message a non-empty string.
 */
export function assertError(r, status, code, what = '') {
  const shown = `${what} → HTTP ${r.status} ${r.text ?? JSON.stringify(r.body)}`;
  assert.equal(r.status, status, `expected HTTP ${status} ${code}: ${shown}`);
  assert.ok(r.body && typeof r.body === 'object' && r.body.error, `expected an error body: ${shown}`);
  assert.equal(r.body.error.code, code, `expected error code ${code}: ${shown}`);
  assert.equal(typeof r.body.error.message, 'string', `error.message must be a string: ${shown}`);
  assert.ok(r.body.error.message.length > 0, `error.message must not be empty: ${shown}`);
  assert.equal('result' in r.body, false, `an error reply carries no result: ${shown}`);
}

/** Calls `method` expecting an error; asserts status and code, returns the reply. */
export async function callError(url, method, params, status, code) {
  const r = await rpc(url, { id: 'e', method, params });
  assertError(r, status, code, `${method} ${JSON.stringify(params)}`);
  assert.equal(r.body.id, 'e', `id not echoed in error reply ${r.text}`);
  return r;
}

/** Enters and returns the whole `enter` result. */
export async function enterResult(url, user, groups, extra = {}) {
  const params = { user, ...extra };
  if (groups !== undefined) params.groups = groups;
  const result = await call(url, 'enter', params);
  assert.equal(typeof result.session, 'string', `enter returned no session: ${JSON.stringify(result)}`);
  return result;
}

/** Enters and returns the session id. */
export async function enter(url, user, groups, extra = {}) {
  return (await enterResult(url, user, groups, extra)).session;
}

/**
 * GET /v1/listen. Returns {status, headers, text, body}; `body` is the parsed JSON
 * (undefined for a JSONP answer: use `text`). Bounded by timeout + 10 s.
 */
export function listen(url, session, cursor = 0, timeout = 0, { callback, headers, boundMs, extra = {} } = {}) {
  const q = new URLSearchParams({ session, cursor: String(cursor), timeout: String(timeout), ...extra });
  if (callback !== undefined) q.set('callback', callback);
  return request(url, {
    path: `/v1/listen?${q}`,
    headers,
    boundMs: boundMs ?? (Number(timeout) || 0) * 1000 + ANSWER_BOUND_MS,
  });
}

/**
 * A session's view of its event stream over GET /v1/listen. It keeps every event
 * received, advances (and so acknowledges) the cursor, and checks the contract's
 * eid rule on the way: each event's eid is the previous one + 1, except that an
 * `overflow` event may jump ahead.
 */
export class Inbox {
  constructor(url, session, { cursor = 0 } = {}) {
    this.url = url;
    this.session = session;
    this.cursor = cursor;
    this.events = [];
  }

  /** One listen with that server-side timeout (s); returns the new events. */
  async poll(timeout = 1) {
    const r = await listen(this.url, this.session, this.cursor, timeout);
    assert.equal(r.status, 200, `listen failed: ${describeResponse(r)}`);
    assert.ok(Array.isArray(r.body?.events), `listen: no events array in ${r.text}`);
    let prev = this.cursor;
    for (const e of r.body.events) {
      assert.equal(typeof e.eid, 'number', `event without eid: ${JSON.stringify(e)}`);
      if (e.type === 'overflow') assert.ok(e.eid > prev, `overflow eid ${e.eid} not after ${prev}`);
      else assert.equal(e.eid, prev + 1, `eid jumped from ${prev} to ${e.eid} without overflow: ${r.text}`);
      prev = e.eid;
    }
    const expectedCursor = r.body.events.length ? r.body.events.at(-1).eid : this.cursor;
    assert.equal(r.body.cursor, expectedCursor, `listen cursor must be the last eid delivered: ${r.text}`);
    this.events.push(...r.body.events);
    this.cursor = r.body.cursor;
    return r.body.events;
  }

  /**
   * Polls (long-poll `timeout` s each) until an event received so far satisfies
   * `pred`; returns it. Fails after `boundMs`, showing what did arrive.
   */
  async until(pred, { boundMs = 10_000, timeout = 1, what = 'a matching event' } = {}) {
    const deadline = Date.now() + boundMs;
    for (;;) {
      const found = this.events.find(pred);
      if (found) return found;
      if (Date.now() > deadline)
        assert.fail(`no ${what} within ${boundMs} ms; session ${this.session} received: ${JSON.stringify(this.events)}`);
      await this.poll(timeout);
    }
  }

  /** Events received before the first one satisfying `pred` (which must exist). */
  before(pred) {
    const i = this.events.findIndex(pred);
    assert.ok(i >= 0, 'marker event not received');
    return this.events.slice(0, i);
  }
}

/** Predicate helpers for Inbox.until; `data` is compared as JSON values (key order free). */
export const is = {
  message: (group, data) => (e) => e.type === 'message' && e.group === group && (data === undefined || isDeepStrictEqual(e.data, data)),
  join: (group, user) => (e) => e.type === 'join' && e.group === group && e.user === user,
  leave: (group, user, reason) => (e) => e.type === 'leave' && e.group === group && e.user === user && (reason === undefined || e.reason === reason),
  direct: (from, data) => (e) => e.type === 'direct' && e.from === from && (data === undefined || isDeepStrictEqual(e.data, data)),
};

/** Asserts that `obj` has exactly these keys (order free). */
export function assertKeys(obj, keys, what = 'object') {
  assert.deepEqual(Object.keys(obj).sort(), [...keys].sort(), `${what} keys: ${JSON.stringify(obj)}`);
}

/** Asserts that `t` is a plausible server timestamp: ms since the Unix epoch. */
export function assertTime(t, what = 'time') {
  assert.equal(typeof t, 'number', `${what} must be a number, got ${JSON.stringify(t)}`);
  assert.ok(Number.isInteger(t), `${what} must be whole milliseconds, got ${t}`);
  // Milliseconds, not seconds: within a day of this machine's clock.
  assert.ok(Math.abs(t - Date.now()) < 86_400_000, `${what} ${t} is not ms since the Unix epoch`);
}

/**
 * A well-formed session id that no session has: same node prefix and length as a
 * real one, different random part.
 */
export function unknownSessionLike(realSession) {
  const cut = realSession.lastIndexOf('_');
  const prefix = cut >= 0 ? realSession.slice(0, cut + 1) : '';
  const randLen = realSession.length - prefix.length;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let rand = '';
  const bytes = crypto.randomBytes(randLen);
  for (let i = 0; i < randLen; i++) rand += alphabet[bytes[i] % alphabet.length];
  return prefix + rand;
}

// ---------------------------------------------------------------------------
// Raw sockets

/**
 * Parses HTTP/1.1 responses out of `buf` (a Buffer). Returns {responses, rest}:
 * complete responses ({status, headers, body}) and the unparsed remainder.
 * `final` treats the end of the buffer as the end of a close-delimited body.
 */
export function parseResponses(buf, final = false) {
  const responses = [];
  let rest = buf;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const head = rest.subarray(0, end).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(head[0]);
    if (!m) throw new Error(`not an HTTP response: ${JSON.stringify(head[0])}`);
    const headers = {};
    for (const line of head.slice(1)) {
      const c = line.indexOf(':');
      if (c > 0) headers[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim();
    }
    const bodyStart = end + 4;
    let body;
    let consumed;
    if (headers['transfer-encoding']?.toLowerCase().includes('chunked')) {
      const parts = [];
      let p = bodyStart;
      let complete = false;
      for (;;) {
        const lineEnd = rest.indexOf('\r\n', p);
        if (lineEnd < 0) break;
        const size = parseInt(rest.subarray(p, lineEnd).toString('latin1'), 16);
        if (Number.isNaN(size)) throw new Error('bad chunk size');
        if (size === 0) {
          const trailerEnd = rest.indexOf('\r\n\r\n', lineEnd);
          if (trailerEnd < 0 && rest.length < lineEnd + 4) break;
          consumed = trailerEnd >= 0 ? trailerEnd + 4 : lineEnd + 4;
          complete = true;
          break;
        }
        if (rest.length < lineEnd + 2 + size + 2) break;
        parts.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
        p = lineEnd + 2 + size + 2;
      }
      if (!complete) break;
      body = Buffer.concat(parts);
    } else if (headers['content-length'] !== undefined) {
      const len = Number(headers['content-length']);
      if (rest.length < bodyStart + len) break;
      body = rest.subarray(bodyStart, bodyStart + len);
      consumed = bodyStart + len;
    } else if (Number(m[1]) === 204 || Number(m[1]) === 304) {
      body = Buffer.alloc(0);
      consumed = bodyStart;
    } else {
      if (!final) break;
      body = rest.subarray(bodyStart);
      consumed = rest.length;
    }
    const text = body.toString('utf8');
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    responses.push({ status: Number(m[1]), headers, text, body: parsed });
    rest = rest.subarray(consumed);
  }
  return { responses, rest };
}

/**
 * Opens a raw TCP connection, writes `bytes` (string or Buffer) at once, and
 * collects responses until `responses` complete ones arrived or the server closed
 * the connection. Resolves to {responses, closed, error}. With `end: true` the
 * client half-closes after writing. Bounded by `boundMs`.
 */
export function rawExchange(server, bytes, { responses: want = 1, end = false, boundMs = ANSWER_BOUND_MS } = {}) {
  let socket;
  const done = new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    let got = [];
    let finished = false;
    const finish = (closed, error) => {
      if (finished) return;
      finished = true;
      if (closed) {
        try {
          got = got.concat(parseResponses(buf, true).responses);
          buf = Buffer.alloc(0);
        } catch {
          /* garbage after the last response */
        }
      }
      socket.destroy();
      resolve({ responses: got, closed, error: error?.code ?? error?.message });
    };
    socket = net.connect({ host: server.host, port: server.port }, () => {
      socket.write(bytes);
      if (end) socket.end();
    });
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const parsed = parseResponses(buf);
      got = got.concat(parsed.responses);
      buf = parsed.rest;
      if (got.length >= want) finish(false);
    });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', (err) => finish(true, err));
  });
  return bounded(done, boundMs, 'a raw-socket exchange', () => socket?.destroy());
}

/** Asserts the server answers /healthz with 200 on a fresh connection. */
export async function assertAlive(server) {
  assert.equal(server.exitInfo, null, `herald exited: ${JSON.stringify(server.exitInfo)}`);
  const r = await request(server, { path: '/healthz' });
  assert.equal(r.status, 200, `/healthz after abuse: ${describeResponse(r)}`);
}

/**
 * Opens a raw TCP connection and keeps parsing what the server sends. Returns
 * {socket, responses, closed, waitFor(n, boundMs), send(bytes)}: `responses` fills
 * as complete responses arrive; `closed` resolves when the server ends the
 * connection; `waitFor(n)` resolves once n responses arrived (bounded).
 */
export async function connectRaw(server, { boundMs = 5_000 } = {}) {
  const socket = net.connect({ host: server.host, port: server.port });
  const conn = { socket, responses: [] };
  let buf = Buffer.alloc(0);
  const waiters = [];
  const wake = () => {
    for (const w of [...waiters]) if (conn.responses.length >= w.n || conn.isClosed) w.resolve();
  };
  conn.closed = new Promise((resolve) => {
    const done = () => {
      if (conn.isClosed) return;
      conn.isClosed = true;
      try {
        conn.responses.push(...parseResponses(buf, true).responses);
      } catch {
        /* garbage after the last response */
      }
      wake();
      resolve();
    };
    socket.on('end', done);
    socket.on('close', done);
    socket.on('error', done);
  });
  socket.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    const parsed = parseResponses(buf);
    conn.responses.push(...parsed.responses);
    buf = parsed.rest;
    wake();
  });
  conn.send = (bytes) => socket.write(bytes);
  conn.waitFor = (n, ms = ANSWER_BOUND_MS) => {
    const p = new Promise((resolve) => {
      const w = { n, resolve: () => { waiters.splice(waiters.indexOf(w), 1); resolve(); } };
      waiters.push(w);
      wake();
    });
    return bounded(p, ms, `${n} response(s) on a raw connection`).then(() => conn.responses);
  };
  await bounded(new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  }), boundMs, 'a TCP connection to herald');
  return conn;
}

// ---------------------------------------------------------------------------
// Streams (SSE, forever-frame) and the `eventsource` package
//
// Added for sse/forever_frame/transports tests. A stream is read as it arrives;
// every wait is a condition re-checked on each chunk, bounded, and it fails at once
// (showing what did arrive) when the response ends before the condition holds.

/**
 * A streaming HTTP response being read. `text` grows as chunks arrive (the de-chunked
 * body, UTF-8); `ended` resolves to how it stopped: 'end' (the response completed:
 * terminating chunk), 'aborted' (the server closed the connection mid-body) or
 * 'destroyed' (the test closed it).
 */
export class StreamReader {
  constructor(req, res) {
    this.req = req;
    this.res = res;
    this.socket = res.socket;
    this.status = res.statusCode;
    this.headers = res.headers;
    this.text = '';
    this.bytes = 0;
    this.endedHow = null;
    this.waiters = new Set();
    this.decoder = new TextDecoder('utf-8');
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
    res.on('data', (d) => {
      this.bytes += d.length;
      const str = this.decoder.decode(d, { stream: true });
      this.text += str;
      this.parse(str);
      this.wake();
    });
    res.on('error', () => {});
    req.on('error', () => {});
    res.on('end', () => this.finish('end'));
    res.on('close', () => this.finish(res.complete ? 'end' : 'aborted'));
  }

  /** Subclasses parse the text as it arrives (`str`: the new part; '' at the end). */
  parse() {}

  finish(how) {
    if (this.endedHow) return;
    this.endedHow = this.clientClosed ? 'destroyed' : how;
    this.parse('');
    this.resolveEnded(this.endedHow);
    this.wake();
  }

  wake() {
    for (const w of [...this.waiters]) w();
  }

  /** What arrived so far, for failure messages. */
  describe() {
    const t = this.text.length > 3000 ? `…${this.text.slice(-3000)}` : this.text;
    return `HTTP ${this.status}, ended: ${this.endedHow ?? 'no'}, body: ${JSON.stringify(t)}`;
  }

  /**
   * Resolves to the first truthy value of `check()`, evaluated now and on every chunk.
   * Rejects when the response ends first (unless `orEnd`), or after `boundMs`.
   */
  until(check, { boundMs = ANSWER_BOUND_MS, what = 'a condition', orEnd = false } = {}) {
    let waiter;
    const p = new Promise((resolve, reject) => {
      waiter = () => {
        let v;
        try {
          v = check();
        } catch (err) {
          this.waiters.delete(waiter);
          reject(err);
          return;
        }
        if (v || (orEnd && this.endedHow)) {
          this.waiters.delete(waiter);
          resolve(v);
        } else if (this.endedHow) {
          this.waiters.delete(waiter);
          reject(new Error(`stream ended (${this.endedHow}) before ${what}; ${this.describe()}`));
        }
      };
      this.waiters.add(waiter);
      waiter();
    });
    return bounded(p, boundMs, what, () => this.waiters.delete(waiter)).catch((err) => {
      if (/^timed out/.test(err.message)) err.message += `; ${this.describe()}`;
      throw err;
    });
  }

  /** Resolves to how the response ended; bounded. */
  endedWithin(boundMs = ANSWER_BOUND_MS, what = 'the stream to end') {
    return bounded(this.ended, boundMs, what).catch((err) => {
      err.message += `; ${this.describe()}`;
      throw err;
    });
  }

  /** Closes the connection from the client side (like a network drop or a closed tab). */
  close() {
    this.clientClosed = true;
    this.req.destroy();
    this.socket?.destroy();
  }
}

/**
 * Parses a text/event-stream as the HTML standard's EventSource does. `events`:
 * dispatched events {id (the id field of that event, or null), lastEventId, event,
 * data, json (data parsed, or undefined)}; `comments`: comment lines without the
 * colon; `retries`: retry field values.
 */
export class SseReader extends StreamReader {
  constructor(req, res) {
    super(req, res);
    this.events = [];
    this.comments = [];
    this.retries = [];
    this.buf = '';
    this.block = { id: null, event: '', data: [] };
    this.lastEventId = '';
  }

  parse(str) {
    this.buf += str;
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buf);
      if (!m) return;
      if (m[0] === '\r' && m.index === this.buf.length - 1 && !this.endedHow) return; // maybe a split CRLF
      const line = this.buf.slice(0, m.index);
      this.buf = this.buf.slice(m.index + m[0].length);
      this.line(line);
    }
  }

  line(line) {
    const b = this.block;
    if (line === '') {
      if (b.data.length) {
        const data = b.data.join('\n');
        let json;
        try {
          json = JSON.parse(data);
        } catch {
          json = undefined;
        }
        this.events.push({ id: b.id, lastEventId: this.lastEventId, event: b.event || 'message', data, json });
      }
      this.block = { id: null, event: '', data: [] };
      return;
    }
    if (line.startsWith(':')) {
      this.comments.push(line.slice(1));
      return;
    }
    const c = line.indexOf(':');
    const field = c < 0 ? line : line.slice(0, c);
    let value = c < 0 ? '' : line.slice(c + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') b.data.push(value);
    else if (field === 'event') b.event = value;
    else if (field === 'id' && !value.includes('\0')) {
      b.id = value;
      this.lastEventId = value;
    } else if (field === 'retry' && /^\d+$/.test(value)) this.retries.push(Number(value));
  }

  /** Resolves to the first event satisfying `pred` (a function of the event). */
  untilEvent(pred, { boundMs, what = 'a matching SSE event' } = {}) {
    return this.until(() => this.events.find(pred), { boundMs, what });
  }

  /** Events whose id is `<session>.<eid>`, as {eid, ...event}. */
  numbered() {
    return this.events
      .filter((e) => e.id !== null && /\.\d+$/.test(e.id))
      .map((e) => ({ ...e, eid: Number(e.id.slice(e.id.lastIndexOf('.') + 1)) }));
  }
}

/**
 * Parses a forever-frame: `preamble` is everything before the first `<script>`;
 * `calls` are {callback, args (the raw text between the parentheses), json (parsed)}
 * for every complete `<script>parent.<cb>(…);</script>`; `junk` collects anything
 * else between scripts other than whitespace.
 */
export class FrameReader extends StreamReader {
  constructor(req, res) {
    super(req, res);
    this.calls = [];
    this.junk = [];
    this.preamble = null;
    this.buf = '';
  }

  parse(str) {
    this.buf += str;
    if (this.preamble === null) {
      const first = this.buf.indexOf('<script>');
      if (first < 0) return;
      this.preamble = this.buf.slice(0, first);
      this.preambleBytes = Buffer.byteLength(this.preamble);
      this.buf = this.buf.slice(first);
    }
    for (;;) {
      const start = this.buf.indexOf('<script>');
      if (start < 0) {
        if (this.endedHow && this.buf.trim() !== '') this.junk.push(this.buf);
        return;
      }
      const end = this.buf.indexOf('</script>', start);
      if (end < 0) return;
      const between = this.buf.slice(0, start);
      if (between.trim() !== '') this.junk.push(between);
      const inner = this.buf.slice(start + '<script>'.length, end);
      const m = /^parent\.([A-Za-z_$][A-Za-z0-9_$.]*)\(([\s\S]*)\);$/.exec(inner);
      if (!m) this.junk.push(inner);
      else {
        let json;
        try {
          json = JSON.parse(m[2]);
        } catch {
          json = undefined;
        }
        this.calls.push({ callback: m[1], args: m[2], json });
      }
      this.buf = this.buf.slice(end + '</script>'.length);
    }
  }

  /** Resolves to the first call whose parsed argument satisfies `pred`. */
  untilCall(pred, { boundMs, what = 'a matching forever-frame call' } = {}) {
    return this.until(() => this.calls.find((c) => c.json !== undefined && pred(c.json)), { boundMs, what });
  }
}

function openReader(Reader, target, reqPath, { headers = {}, boundMs = ANSWER_BOUND_MS } = {}) {
  const base = new URL(typeof target === 'string' ? target : target.url);
  let req;
  const head = new Promise((resolve, reject) => {
    req = http.request({ host: base.hostname, port: base.port, method: 'GET', path: reqPath, headers, agent: false }, (res) =>
      resolve(new Reader(req, res)),
    );
    req.on('error', reject);
    req.end();
  });
  return bounded(head, boundMs, `the response head of GET ${reqPath}`, () => req?.destroy());
}

/** GET `reqPath` on a fresh connection, read as it streams (StreamReader). */
export const openHttpStream = (target, reqPath, opts) => openReader(StreamReader, target, reqPath, opts);
/** GET /v1/sse?<query> (object or string) on a fresh connection, parsed as SSE (SseReader). */
export const openSse = (target, query = '', opts) =>
  openReader(SseReader, target, `/v1/sse?${typeof query === 'string' ? query : new URLSearchParams(query)}`, opts);
/** GET /v1/stream?<query> (object or string) on a fresh connection, parsed as a forever-frame (FrameReader). */
export const openForeverFrame = (target, query = '', opts) =>
  openReader(FrameReader, target, `/v1/stream?${typeof query === 'string' ? query : new URLSearchParams(query)}`, opts);

/**
 * Collects values pushed by callbacks (e.g. EventSource listeners) and waits, bounded,
 * for one satisfying a predicate; re-checked on every push.
 */
export class Collector {
  constructor(what = 'values') {
    this.what = what;
    this.items = [];
    this.waiters = new Set();
  }

  push(item) {
    this.items.push(item);
    for (const w of [...this.waiters]) w();
  }

  until(check, { boundMs = ANSWER_BOUND_MS, what = 'a matching item' } = {}) {
    let waiter;
    const p = new Promise((resolve) => {
      waiter = () => {
        const v = check(this.items);
        if (v) {
          this.waiters.delete(waiter);
          resolve(v);
        }
      };
      this.waiters.add(waiter);
      waiter();
    });
    return bounded(p, boundMs, what, () => this.waiters.delete(waiter)).catch((err) => {
      err.message += `; ${this.what} so far: ${JSON.stringify(this.items.map((i) => i?.describe?.() ?? i)).slice(0, 4000)}`;
      throw err;
    });
  }
}

/**
 * A `fetch` for the `eventsource` package (v4 `new EventSource(url, {fetch})`) that
 * speaks node:http on one fresh connection per request, so that a test can:
 * - see every request the EventSource made (`requests`: {url, headers}; header names
 *   as the library wrote them, e.g. 'Last-Event-ID'), and wait for the n-th
 *   (`untilRequests(n)`);
 * - cut the current connection as a network would (`cut()`): the library sees the body
 *   fail and reconnects by itself with Last-Event-ID;
 * - hold the next request before it reaches the server (`hold()` returns a release
 *   function), to act while the client is disconnected.
 */
export function eventSourceFetch() {
  const requests = new Collector('EventSource requests');
  let gate = null;
  let current = null;
  const fetchFn = async (input, init = {}) => {
    const url = new URL(typeof input === 'string' ? input : input.url ?? String(input));
    const headers = { ...(init.headers ?? {}) };
    const record = { url: url.href, headers };
    requests.push(record);
    if (gate) await gate;
    return new Promise((resolve, reject) => {
      const req = http.request(
        { host: url.hostname, port: url.port, method: 'GET', path: url.pathname + url.search, headers, agent: false },
        (res) => {
          record.status = res.statusCode;
          const hdrs = new Headers();
          for (const [k, v] of Object.entries(res.headers)) hdrs.set(k, Array.isArray(v) ? v.join(', ') : String(v));
          let done = false;
          const body =
            res.statusCode === 204
              ? null
              : new ReadableStream({
                  start(controller) {
                    res.on('data', (d) => !done && controller.enqueue(new Uint8Array(d)));
                    res.on('end', () => {
                      if (!done) {
                        done = true;
                        controller.close();
                      }
                    });
                    res.on('close', () => {
                      if (!done) {
                        done = true;
                        controller.error(new Error('connection closed mid-body'));
                      }
                    });
                    res.on('error', () => {});
                  },
                  cancel() {
                    done = true;
                    req.destroy();
                  },
                });
          resolve(new Response(body, { status: res.statusCode, headers: hdrs }));
        },
      );
      current = req;
      req.on('error', (err) => reject(err));
      init.signal?.addEventListener('abort', () => {
        const err = new Error('aborted');
        err.name = 'AbortError';
        req.destroy(err);
      });
      req.end();
    });
  };
  fetchFn.requests = requests.items;
  fetchFn.untilRequests = (n, opts = {}) =>
    requests.until((items) => items.length >= n, { what: `${n} EventSource request(s)`, ...opts });
  fetchFn.cut = () => {
    current?.socket?.destroy();
    current?.destroy();
  };
  fetchFn.hold = () => {
    let release;
    gate = new Promise((resolve) => (release = resolve));
    return () => {
      gate = null;
      release();
    };
  };
  return fetchFn;
}

/** POST /v1/publish with a JSON body; returns the request() result. */
export function publishJson(target, body, { headers = {}, agent } = {}) {
  return request(target, {
    method: 'POST',
    path: '/v1/publish',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
    agent,
  });
}
