// The nodes a test runs against, and the test wrapper.
//
// - useHerald(args, options) inside a describe: one herald for the suite, started
//   before its tests and stopped after them. Call it again, or use useHeralds(n, …),
//   for a suite of several nodes (a cluster).
// - withHerald(args, options, fn): a node of one test's own, always stopped.
// - test: node:test's, with a default timeout and, when the test fails, the log tail
//   of every node still running appended to the error.

import { after, before, test as nodeTest } from 'node:test';
import { logTail, runningServers, startHerald } from './process.mjs';

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

/**
 * A suite's herald, as useHerald returns it before it runs. While the suite's tests and
 * later hooks run, `server` is the startHerald result (logs(), lines, terminate(),
 * exited, exitInfo, proc, args) and `url`, `host`, `port` are its address; reading them
 * before the node started (e.g. in the describe body) throws. A node can be passed
 * wherever a helper takes a url or a server.
 */
export class HeraldNode {
  constructor(label) {
    this.label = label;
    this.started = null;
  }

  get server() {
    if (!this.started) throw new Error(`${this.label} has not started: read it in a test or in a hook after useHerald's`);
    return this.started;
  }

  get url() {
    return this.server.url;
  }

  get host() {
    return this.server.host;
  }

  get port() {
    return this.server.port;
  }
}

// Every node of every useHeralds call of this file, in the order of the calls.
const registered = [];

/** Stops every node that started; resolves to the errors of those whose stop failed. */
async function stopNodes(nodes) {
  const results = await Promise.allSettled(nodes.filter((n) => n.started).map((n) => n.started.stop()));
  return results.filter((r) => r.status === 'rejected').map((r) => r.reason);
}

/**
 * Starts `count` heralds for the enclosing describe and stops them after it. Registers a
 * `before` hook that starts them one after another and an `after` hook that stops every
 * one of them, then throws the first failure (e.g. "herald died during the test"; the
 * others are appended to its message). Returns their HeraldNode handles.
 *
 * `configure(i, nodes)` gives node i's startHerald arguments: an array of flags, or
 * {args, env, configJson, startBoundMs}. It runs when node i starts, so `nodes[j]` for
 * j < i are listening and node i can be pointed at them.
 *
 * node:test skips a suite's remaining after hooks once one throws, so a failed stop also
 * stops the nodes registered by later useHerald(s) calls that still run: they belong to
 * the same suite (an inner suite's nodes have stopped before its parent's hooks run).
 */
export function useHeralds(count, configure = () => []) {
  const nodes = Array.from({ length: count }, (_, i) => new HeraldNode(count === 1 ? 'herald' : `herald ${i}`));
  registered.push(...nodes);
  before(async () => {
    for (const [i, node] of nodes.entries()) {
      const spec = configure(i, nodes) ?? [];
      const { args = [], ...options } = Array.isArray(spec) ? { args: spec } : spec;
      node.started = await startHerald(args, options);
    }
  });
  after(async () => {
    const failures = await stopNodes(nodes);
    if (!failures.length) return;
    const later = registered.slice(registered.indexOf(nodes.at(-1)) + 1);
    failures.push(...(await stopNodes(later.filter((n) => n.started && runningServers().includes(n.started)))));
    const [first, ...others] = failures;
    for (const other of others) first.message += `\n--- and ---\n${other.message}`;
    throw first;
  });
  return nodes;
}

/**
 * One herald for the enclosing describe (see useHeralds): started with
 * startHerald(args, options) before the suite's tests, stopped after them. `args` may be
 * a function, called when the node starts (e.g. to name a directory or a node made by
 * an earlier hook). Returns its HeraldNode.
 *
 *   describe('with --history 3', () => {
 *     const herald = useHerald(['--history', '3'], { configJson });
 *     test('…', async () => { await enter(herald.url, 'ann', ['lobby']); });
 *   });
 */
export function useHerald(args = [], options = {}) {
  return useHeralds(1, () => ({ ...options, args: typeof args === 'function' ? args() : args }))[0];
}

/**
 * Starts a herald (startHerald(args, options)) for the duration of `fn(server)` and
 * always stops it: for a test that needs a node of its own (its own flags, or one it
 * SIGTERMs). When `fn` fails, the node's log tail is appended to the error; when the
 * node died during `fn`, stop() throws that instead. Resolves to what `fn` returns.
 * `options` may be left out: withHerald(args, fn).
 */
export async function withHerald(args, options, fn) {
  if (typeof options === 'function') return withHerald(args, {}, options);
  const server = await startHerald(args, options);
  try {
    return await fn(server);
  } catch (err) {
    appendLogTails(err, [server]);
    throw err;
  } finally {
    await server.stop();
  }
}
