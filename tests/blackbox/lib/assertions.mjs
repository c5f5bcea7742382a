// Assertions on what a node answered: the error shape, exact key sets, timestamps.
// They do no I/O (the HTTP helpers that assert are in http.mjs).

import assert from 'node:assert/strict';

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
