// A rolling restart of the chart's StatefulSet, simulated: three "pods" started exactly as the
// rendered StatefulSet says (its args, env and ConfigMap file; build/herald in place of the
// image), each in its own network namespace, finding each other through the headless
// Service's name that dnsmasq serves; clients on every transport (herald-cli over WebSocket,
// SSE and long-poll) reach them through a simulated client Service. The pods are rolled one
// at a time in reverse ordinal order as the StatefulSet controller does: out of the Service,
// preStop sleep, SIGTERM, exit, restart under the same name, wait for ready.
//
// Checked: nothing published is lost for any client, every client reconnects by itself,
// readiness drops before the process stops accepting, every pod exits 0 within its grace
// period. Measured: how the restarted pod's clients arrive at the other pods (reconnects per
// second), printed as diagnostics.
//
//   make test-rollout        (root: network namespaces; dnsmasq-base)

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { bounded } from '../blackbox/lib/bounded.mjs';
import { killAllClis, startCli } from '../blackbox/lib/cli.mjs';
import { publishJson, request } from '../blackbox/lib/http.mjs';
import { HERALD_BIN } from '../blackbox/lib/process.mjs';
import { ensureTools, render } from '../helm/lib/kube.mjs';
import { ClusterDns } from './lib/dns.mjs';
import { Lab } from './lib/netns.mjs';
import { startPod } from './lib/pod.mjs';
import { ServiceProxy } from './lib/service.mjs';
import { podSpecOf } from './lib/statefulset.mjs';

const NAMESPACE = 'realtime';
const REPLICAS = 3;
// Short timings so that a roll takes seconds; the chart computes the grace period from them.
const VALUES = [`replicaCount=${REPLICAS}`, 'preStop.sleepSeconds=1', 'herald.drainTimeoutSeconds=4', 'readinessProbe.periodSeconds=1'];
const TRANSPORTS = ['websocket', 'sse', 'longpoll'];
const run = promisify(execFile);

describe('a rolling restart of the rendered StatefulSet', () => {
  // Two Services over the same pods: the clients', whose connections the test counts, and
  // the publisher's.
  let objects, lab, dns, service, publishService;
  const pods = new Map(); // ordinal -> {spec, net, proc}

  async function startOrdinal(i) {
    const { net } = pods.get(i);
    const spec = podSpecOf(objects, i, { podIp: net.ip });
    const proc = startPod({
      name: spec.podName,
      netns: net.netns,
      argv: [HERALD_BIN, ...spec.args],
      env: spec.env,
      etcFiles: { ...spec.etcFiles, 'resolv.conf': dns.resolvConf(`${NAMESPACE}.svc.cluster.local`) },
    });
    Object.assign(pods.get(i), { spec, proc });
    const listening = await bounded(proc.listening, 20_000, `${spec.podName} to listen`);
    assert.equal(listening.node, spec.podName, 'the node is named after its pod');
    for (const s of [service, publishService]) s.addPod(spec.podName, net.ip, spec.clientPort, { periodMs: spec.readiness.periodSeconds * 1000 });
    await bounded(service.untilReady(spec.podName), 20_000, `${spec.podName} to be ready`);
  }

  before(async () => {
    await ensureTools();
    objects = await render({ namespace: NAMESPACE, set: VALUES });
    lab = await Lab.create();
    dns = await ClusterDns.start(lab);
    service = await ServiceProxy.start();
    publishService = await ServiceProxy.start();
    const headless = podSpecOf(objects, 0, { podIp: '' }).headlessService;
    const resolvConf = dns.resolvConf(`${NAMESPACE}.svc.cluster.local`);
    for (let i = 0; i < REPLICAS; i++) pods.set(i, { net: await lab.addPod(`p${i}`, { resolvConf }) });
    const fqdn = (n) => `${n}.${NAMESPACE}.svc.cluster.local`;
    await dns.set(fqdn(headless), [...pods.values()].map((p) => p.net.ip));
    for (const [i, p] of pods) await dns.set(fqdn(`chat-herald-${i}.${headless}`), [p.net.ip]);
    await Promise.all([...pods.keys()].map(startOrdinal));
  });

  after(async () => {
    killAllClis();
    await service?.close();
    await publishService?.close();
    for (const p of pods.values()) await p.proc?.kill();
    await dns?.stop();
    await lab?.destroy();
  });

  test('every pod runs exactly the rendered args, and the headless name resolves to every pod', async () => {
    for (const { spec, proc } of pods.values()) {
      assert.ok(spec.args.includes(`--node=${spec.podName}`), spec.args.join(' '));
      assert.ok(spec.args.some((a) => a.startsWith('--peers-dns=chat-herald-headless.realtime.svc.cluster.local:')));
      assert.equal(proc.exitInfo, null);
    }
    const seen = await resolveIn(pods.get(0).net.netns, 'chat-herald-headless');
    assert.deepEqual(seen.sort(), [...pods.values()].map((p) => p.net.ip).sort(), 'the headless name has every pod');
  });

  test('every node sees the others (herald_cluster_nodes = replicas)', async (t) => {
    if ((await clusterNodes(pods.get(0))) === undefined) {
      t.skip('waits on the cluster: this build exports no herald_cluster_nodes');
      return;
    }
    for (const p of pods.values()) assert.equal(await clusterNodes(p), REPLICAS, p.spec.podName);
  });

  test('rolled in reverse ordinal order: out of the Service, not ready while still answering, exit 0 in its grace, back under its name', async (t) => {
    for (let i = REPLICAS - 1; i >= 0; i--) t.diagnostic(await roll(i));
  });

  test('rolled again while clients chat on every transport: each back by itself, nothing lost', async (t) => {
    if ((await clusterNodes(pods.get(0))) !== REPLICAS) {
      // Without peering a session lives on one node only, and a Service sends a client's next
      // request anywhere: the clients cannot chat through it.
      t.skip('waits on the cluster: this build exports no herald_cluster_nodes');
      return;
    }
    // Two clients per transport, all in one group, through the Service.
    const clients = [];
    for (const transport of TRANSPORTS)
      for (let k = 0; k < 2; k++) clients.push(startCli(service.url, `${transport}-${k}`, { join: ['lobby'], transport }));
    for (const c of clients) await c.untilLine((l) => l.type === 'session', 'the session');

    // A publisher through the Service, one message every 50 ms; a refused or failed publish
    // (a node draining) is retried, so every number is published once acknowledged.
    const acknowledged = new Set();
    let publishing = true;
    const publisher = (async () => {
      for (let n = 1; publishing; n++) {
        for (let attempt = 0; attempt < 50; attempt++) {
          const r = await publishJson(publishService.url, { group: 'lobby', data: { n } }).catch(() => null);
          if (r?.status === 200) {
            acknowledged.add(n);
            break;
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 50)); // the publishing rate
      }
    })();

    const windows = [];
    for (let i = REPLICAS - 1; i >= 0; i--) windows.push(await roll(i));
    publishing = false;
    await publisher;
    for (const w of windows) t.diagnostic(w);

    // Every client is connected again by itself: a command typed now is answered.
    for (const c of clients) {
      assert.equal(c.exitInfo, null, `${c.args.join(' ')} gave up`);
      c.send('call ping {}');
      const pong = await c.reply('call ping {}', 30_000);
      assert.ok(pong.result?.time, JSON.stringify(pong));
    }
    // Every client ends up with every acknowledged number.
    for (const c of clients)
      await c.until(() => [...acknowledged].every((n) => received(c).has(n)), `every message at ${c.args.join(' ')}`, 30_000);
  });

  /** Rolls one pod as the StatefulSet controller and the kubelet would; returns a summary. */
  async function roll(i) {
    const p = pods.get(i);
    const { podName, preStopSeconds, graceSeconds } = p.spec;
    const before = service.connections.length;
    const t0 = Date.now() - service.t0;
    service.terminating(podName);
    publishService.terminating(podName);
    await new Promise((resolve) => setTimeout(resolve, preStopSeconds * 1000)); // the preStop sleep
    const draining = p.proc.waitForLog((e) => e.msg === 'draining');
    assert.ok(p.proc.terminate(), `${podName} has a PID 1 to signal`);
    await bounded(draining, 5_000, `${podName} to start draining`);
    // Readiness has dropped, and the process still accepts: the probe's answer proves both.
    const probe = await request(`http://${p.net.ip}:${p.spec.clientPort}`, { path: '/readyz' });
    assert.equal(probe.status, 503, `${podName}: /readyz while draining`);
    const exit = await bounded(p.proc.exited, graceSeconds * 1000, `${podName} to exit within its grace period`);
    assert.deepEqual([exit.code, exit.signal], [0, null], p.proc.logs());
    service.removePod(podName);
    publishService.removePod(podName);
    await startOrdinal(i);
    const moved = service.connections.slice(before).filter((c) => c.pod !== podName && c.t >= t0);
    const span = moved.length ? moved.at(-1).t - moved[0].t : 0;
    return `${podName}: exit ${exit.ms} ms after SIGTERM; ${moved.length} connections reached the other pods over ${span} ms (${rates(moved)})`;
  }
});

/** The A records of `name` as a pod's resolver (search path, dnsmasq) answers them. */
async function resolveIn(netns, name) {
  const { stdout } = await run('ip', ['netns', 'exec', netns, 'getent', 'ahostsv4', name], { timeout: 10_000 });
  return [...new Set(stdout.trim().split('\n').map((l) => l.split(/\s+/)[0]))];
}

/** herald_cluster_nodes of a pod, or undefined when the build exports none. */
async function clusterNodes(pod) {
  const r = await request(`http://${pod.net.ip}:${pod.spec.clientPort}`, { path: '/metrics' });
  const m = /^herald_cluster_nodes(?:\{[^}]*\})? (\d+)/m.exec(r.text);
  return m ? Number(m[1]) : undefined;
}

function received(cli) {
  return new Set(cli.lines.filter((l) => l.type === 'message' && l.group === 'lobby').map((l) => l.data?.n));
}

/** Peak connections per 100 ms window, as a short text. */
function rates(connections) {
  const buckets = new Map();
  for (const c of connections) buckets.set(Math.floor(c.t / 100), (buckets.get(Math.floor(c.t / 100)) ?? 0) + 1);
  const peak = Math.max(0, ...buckets.values());
  return `peak ${peak} per 100 ms`;
}
