// The test wrapper: node:test's `test`, with a default timeout and, when the test
// fails, the log tail of every node still running appended to the error.

import { test as nodeTest } from 'node:test';
import { logTail, runningServers } from './process.mjs';

export { describe, before, after } from 'node:test';

/** Appends the log tails of `servers` to `err` (when it is an error whose message can change). */
function appendLogTails(err, servers) {
  if (!servers.length || !err || typeof err !== 'object') return;
  const extra = servers.map((s) => logTail(s)).join('\n');
  try {
    err.message = `${err.message}\n${extra}`;
  } catch {
    /* read-only message: keep the original error */
  }
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
      appendLogTails(err, runningServers());
      throw err;
    }
  });
}
