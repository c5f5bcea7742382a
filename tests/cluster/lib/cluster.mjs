// Clusters of real `build/herald` processes on loopback, for the cluster black-box suite
// (tests/cluster/*.test.mjs). Built on the black-box harness (tests/blackbox/lib): every
// wait is on a condition, polled with a bound; nothing sleeps in place of a condition and
// no test asserts a duration.
//
// Node i (0-based) of a cluster is started with
//   --node n<i+1> --cluster-listen 127.0.0.1:0 --peers <cluster addresses of nodes 0..i-1>
// plus the cluster's `args` and its `perNode(i)` extras. Its cluster address is read from
// its log line {"msg":"cluster listening","addr":"host:port"}. Once every node started, the
// cluster counts as formed when every node's /readyz answers 200 and its
// herald_cluster_nodes is n.
//
//   describe('three nodes', () => {
//     const nodes = useCluster(3, { args: ['--history', '50'] });
//     test('…', async () => { const s = await enter(nodes[0].url, 'ann', ['lobby']); … });
//   });
//   test('…', () => withCluster(3, ['--peer-timeout', '2'], async (nodes) => { … }));

import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { before, request, startHerald, useHeralds, logTail, describeResponse, bounded } from '../../blackbox/lib/herald.mjs';
import { scrape, valueOf } from '../../blackbox/lib/metrics.mjs';

export { scrape, valueOf };

/** How long a cluster may take to form (every node ready and seeing all the others). */
export const FORM_BOUND_MS = 20_000;
/** Flags that make a lost peer noticed quickly: heartbeat 1 s, dropped after 2 s of silence. */
export const FAST_FAILURE = ['--peer-heartbeat', '1', '--peer-timeout', '2'];
/**
 * The bound within which a SIGKILLed node must be dropped and its users' presence healed,
 * with FAST_FAILURE: peer-timeout (2 s) plus a margin of 8 s for two loaded cores.
 */
export const HEAL_BOUND_MS = 10_000;

const POLL_MS = 50; // between two polls of a condition the server changes asynchronously

/** The server (startHerald result) behind a node handle or a server. */
export function serverOf(node) {
  return node.started !== undefined ? node.server : (node.server ?? node);
}

/** The log lines of a node parsed as JSON (lines that are not JSON are skipped). */
export function logEntries(node) {
  const out = [];
  for (const raw of serverOf(node).lines) {
    const line = raw.startsWith('[stdout] ') ? raw.slice('[stdout] '.length) : raw;
    try {
      const entry = JSON.parse(line);
      if (entry && typeof entry === 'object') out.push(entry);
    } catch {
      /* not a JSON log line */
    }
  }
  return out;
}

/**
 * Polls a node's log until an entry satisfies `pred` (a function of the parsed entry);
 * returns it. Fails after `boundMs` showing the log tail. Also fails at once when the
 * process exited, unless `orExit` (then resolves to null).
 */
export async function untilLog(node, pred, { boundMs = 10_000, what = 'a matching log line', orExit = false } = {}) {
  const server = serverOf(node);
  const deadline = Date.now() + boundMs;
  for (;;) {
    const found = logEntries(server).find(pred);
    if (found) return found;
    if (server.exitInfo !== null) {
      if (orExit) return null;
      assert.fail(`herald exited (${JSON.stringify(server.exitInfo)}) before ${what}\n${logTail(server)}`);
    }
    if (Date.now() > deadline) assert.fail(`no ${what} within ${boundMs} ms\n${logTail(server)}`);
    await delay(POLL_MS);
  }
}

/** The bound address ("127.0.0.1:port") of a node's --cluster-listen, from its log. */
export async function clusterAddress(node) {
  const entry = await untilLog(node, (e) => e.msg === 'cluster listening' && typeof e.addr === 'string', {
    boundMs: 5_000,
    what: 'the "cluster listening" log line',
  });
  return entry.addr;
}

/** GET /readyz status. */
export async function readyStatus(node) {
  return (await request(serverOf(node), { path: '/readyz' })).status;
}

/** herald_cluster_nodes of a node (undefined when the metric is absent). */
export async function clusterNodes(node) {
  return valueOf(await scrape(serverOf(node)), 'herald_cluster_nodes');
}

/**
 * Polls `check()` (async; a truthy result ends the wait and is returned) every 50 ms until
 * it holds; fails after `boundMs` with `what` and the last observation `describe()`.
 */
export async function until(check, { boundMs = 10_000, what = 'a condition', describe = () => '' } = {}) {
  const deadline = Date.now() + boundMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) assert.fail(`timed out after ${boundMs} ms waiting for ${what}; last seen: ${await describe()}`);
    await delay(POLL_MS);
  }
}

/** Waits until herald_cluster_nodes equals `k` on every one of `nodes`. */
export async function untilNodes(nodes, k, { boundMs = FORM_BOUND_MS } = {}) {
  const list = Array.isArray(nodes) ? nodes : [nodes];
  let seen = [];
  await until(
    async () => {
      seen = await Promise.all(list.map((n) => clusterNodes(n)));
      return seen.every((v) => v === k);
    },
    { boundMs, what: `herald_cluster_nodes = ${k} on ${list.map((n) => nodeName(n)).join(', ')}`, describe: () => JSON.stringify(seen) },
  );
}

/** Waits until every node answers /readyz 200 and sees `k` nodes (default: all of them). */
export async function untilFormed(nodes, k = nodes.length, { boundMs = FORM_BOUND_MS } = {}) {
  let seen = [];
  await until(
    async () => {
      seen = await Promise.all(nodes.map(async (n) => ({ node: nodeName(n), ready: await readyStatus(n), nodes: await clusterNodes(n) })));
      return seen.every((s) => s.ready === 200 && s.nodes === k);
    },
    { boundMs, what: `${nodes.length} nodes to be ready and each see ${k} nodes`, describe: () => JSON.stringify(seen) },
  );
}

/** The --node name a node was started with. */
export function nodeName(node) {
  if (node.nodeName) return node.nodeName;
  const args = serverOf(node).args ?? [];
  const i = args.lastIndexOf('--node');
  return i >= 0 ? args[i + 1] : '?';
}

function specOf(extra) {
  if (extra === undefined || extra === null) return { args: [] };
  if (Array.isArray(extra)) return { args: extra };
  return { args: [], ...extra };
}

/**
 * startHerald arguments of node i: --node n<i+1> --cluster-listen 127.0.0.1:0 and --peers
 * naming `seeds` (when any), then `args`, then perNode(i)'s args. perNode(i) returns an
 * array of flags or {args, env, configJson}.
 */
export function clusterNodeSpec(i, seeds, { args = [], perNode, name } = {}) {
  const extra = specOf(perNode?.(i));
  const flags = ['--node', name ?? `n${i + 1}`, '--cluster-listen', '127.0.0.1:0'];
  if (seeds.length) flags.push('--peers', seeds.join(','));
  flags.push(...args, ...extra.args);
  return { ...extra, args: flags };
}

/**
 * A cluster of `n` nodes for the enclosing describe (see the file comment). Returns the
 * HeraldNode handles (useHeralds'), each also with `nodeName` ("n1"…) and, once started,
 * `clusterAddr`. A `before` hook waits until the cluster formed.
 */
export function useCluster(n, { args = [], perNode } = {}) {
  const addrs = [];
  const nodes = useHeralds(n, (i) => clusterNodeSpec(i, addrs.slice(0, i), { args, perNode }));
  nodes.forEach((node, i) => (node.nodeName = `n${i + 1}`));
  // useHeralds starts the nodes one after another in its own before hook; the cluster
  // address of node i is needed by node i+1, so it is read as soon as node i started:
  // the configure callback of node i+1 runs after node i's startHerald resolved, but the
  // address is read asynchronously, hence the wrapper below.
  nodes.forEach((node) => {
    let started = null;
    Object.defineProperty(node, 'started', {
      configurable: true,
      get: () => started,
      set: (v) => {
        started = v;
        if (v) {
          const entry = logEntries(v).find((e) => e.msg === 'cluster listening' && typeof e.addr === 'string');
          if (!entry) throw new Error(`${node.nodeName} logged no "cluster listening" line before "listening"\n${logTail(v)}`);
          node.clusterAddr = entry.addr;
          addrs.push(entry.addr);
        }
      },
    });
  });
  before(async () => {
    await untilFormed(nodes);
  });
  return nodes;
}

/**
 * Starts a node the way useCluster does (node index `i`, seeds = cluster addresses) and
 * resolves once it listens: the startHerald server, plus `nodeName` and `clusterAddr`.
 * `options`: {args, perNode, name} and any startHerald option (configJson, env, …).
 */
export async function startClusterNode(i, seeds, { args = [], perNode, name, ...options } = {}) {
  const { args: flags, ...more } = clusterNodeSpec(i, seeds, { args, perNode, name });
  const server = await startHerald(flags, { ...options, ...more });
  try {
    server.nodeName = name ?? `n${i + 1}`;
    server.clusterAddr = await clusterAddress(server);
  } catch (err) {
    await server.stop().catch(() => {});
    throw err;
  }
  return server;
}

/**
 * Starts `n` nodes (as useCluster), waits until they formed, runs `fn(nodes)` and always
 * stops every node. `options` is an array of flags for every node or {args, perNode}.
 * When `fn` fails, every node's log tail is appended to the error. Resolves to fn's result.
 */
export async function withCluster(n, options, fn) {
  const { args = [], perNode } = Array.isArray(options) ? { args: options } : options;
  const nodes = [];
  try {
    for (let i = 0; i < n; i++) nodes.push(await startClusterNode(i, nodes.map((s) => s.clusterAddr), { args, perNode }));
    await untilFormed(nodes);
    return await fn(nodes);
  } catch (err) {
    const extra = nodes.map((s) => `[${s.nodeName}] ${logTail(s, 40)}`).join('\n');
    try {
      err.message = `${err.message}\n${extra}`;
    } catch {
      /* read-only message */
    }
    throw err;
  } finally {
    await stopAll(nodes);
  }
}

/**
 * Stops every node still running (SIGTERM, then SIGKILL after a bound). A node that died
 * by itself (not by killNode) makes this throw, after the others were stopped.
 */
export async function stopAll(servers) {
  const results = await Promise.allSettled(servers.map((s) => s.stop()));
  const failed = results
    .map((r, i) => [r, servers[i]])
    .filter(([r]) => r.status === 'rejected')
    .map(([r, s]) => {
      try {
        r.reason.message = `${nodeName(s)}: ${r.reason.message}\n${logTail(s, 30)}`;
      } catch {
        /* read-only message */
      }
      return r.reason;
    });
  if (failed.length) throw failed[0];
}

/** SIGKILLs a node and waits until its process is gone; its later stop() is a no-op. */
export async function killNode(node) {
  const server = serverOf(node);
  if (server.exitInfo !== null) return server.exitInfo;
  server.signaled = true; // stop() must not report this death as a crash
  server.proc.kill('SIGKILL');
  return bounded(server.exited, 10_000, `${nodeName(node)} to die of SIGKILL`);
}

/** SIGSTOPs a node (a frozen node: its sockets stay open) and returns a function resuming it. */
export function freezeNode(node) {
  const server = serverOf(node);
  server.proc.kill('SIGSTOP');
  return () => server.proc.kill('SIGCONT');
}

/** A short description of a request() or rpc() result, for failure messages. */
export function shown(r) {
  return describeResponse({ status: r.status, text: r.text ?? JSON.stringify(r.body) });
}
