// HTTP exchanges with a node: one request on a fresh connection, and the calls the tests
// make through it (POST /v1/rpc commands, enter, GET /v1/listen, POST /v1/publish).
//
// Requests go out on fresh connections (node:http, no agent) unless a test asks
// for keep-alive: no idle pooled connection outlives a test, so a server stopped
// with SIGTERM has nothing left to wait for.
//
// A `target` or `url` is a node's base URL ("http://127.0.0.1:1234") or anything with
// a `url` field: a server from startHerald or a node from useHerald.

import assert from 'node:assert/strict';
import http from 'node:http';
import { assertError } from './assertions.mjs';
import { ANSWER_BOUND_MS, bounded } from './bounded.mjs';

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

/** A response, shortened, for failure messages. */
export function describeResponse(r) {
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

/**
 * Asserts the node (a server from startHerald or a node from useHerald) still runs and
 * answers /healthz with 200 on a fresh connection.
 */
export async function assertAlive(target) {
  const server = target.server ?? target;
  assert.equal(server.exitInfo, null, `herald exited: ${JSON.stringify(server.exitInfo)}`);
  const r = await request(server, { path: '/healthz' });
  assert.equal(r.status, 200, `/healthz after abuse: ${describeResponse(r)}`);
}
