// Cluster discovery through DNS, on real addresses: every herald runs in a network namespace
// of its own (tests/podsim's Lab: one bridge, one address per node), started with
// `--peers-dns herald-peers.test:PORT`, and dnsmasq (tests/podsim's ClusterDns) answers that
// one name with one A record per node. The test changes the records as a headless Service's
// endpoints would change:
//
//   1. three nodes find each other and behave as one server (a session entered on one node,
//      a speaker on another, the listener reading through a third);
//   2. a fourth node whose record is added later joins, and delivers both ways;
//   3. a node stopped and removed from DNS leaves, and the rest keep delivering;
//   4. an A record that points at an address nobody answers on stalls nobody: the nodes stay
//      ready and deliver, and a node started meanwhile still becomes ready and joins;
//   5. a frozen node (SIGSTOP: its address accepts connections and never answers), its record
//      left in DNS, is dropped, and the rest stay ready and deliver.
//
// Throughout, a dozen standing groups with fixed names are spoken in after every change of
// the view: each member sees every message once, in seq order, under one epoch (never more
// than one node is lost at a time, fewer than --group-replicas).
//
// Every wait is a polled condition with a bound; nothing is timed. Needs root (ip netns) and
// dnsmasq; skipped otherwise. Everything made (namespaces, links, dnsmasq, the heralds) is
// removed in `after`, and by an exit handler should the runner die first.
//
//   make test-netns

import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { accessSync, constants, readFileSync, rmSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { bounded } from '../blackbox/lib/bounded.mjs';
import { call, callError, describeResponse, enter, request } from '../blackbox/lib/http.mjs';
import { Inbox, is } from '../blackbox/lib/inbox.mjs';
import { parseExposition, valueOf } from '../blackbox/lib/metrics.mjs';
import { uniq } from '../blackbox/lib/names.mjs';
import { HERALD_BIN } from '../blackbox/lib/process.mjs';
import { ClusterDns } from '../podsim/lib/dns.mjs';
import { Lab } from '../podsim/lib/netns.mjs';
import { startPod } from '../podsim/lib/pod.mjs';

const run = promisify(execFile);

const PEERS_NAME = 'herald-peers.test';
const HTTP_PORT = 8080;
const CLUSTER_PORT = 7400;
// Short cluster timings so that joining and leaving take seconds (the brief's numbers).
const CLUSTER_FLAGS = [
  '--peers-dns-interval', '1',
  '--peer-heartbeat', '1',
  '--peer-timeout', '2',
  '--peer-connect-timeout', '1',
  '--drain-timeout', '2',
];
// Bounds on waiting (never asserted): a view change needs a DNS round, a connect and a hello.
const CONVERGE_MS = 20_000;
const DELIVER_MS = 10_000;
// Each test and hook as a whole (its waits are bounded one by one; this catches the rest).
const BOUND = { timeout: 60_000 };
// Groups spoken in after every change of the view (assertStandingGroups).
const STANDING_GROUPS = 12;

/** Why this file cannot run here, or undefined. */
async function skipReason() {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  try {
    await run('ip', ['netns', 'list'], { timeout: 5_000 });
  } catch (e) {
    return `\`ip netns\` is unavailable: ${e.message.split('\n')[0]}`;
  }
  try {
    await run('dnsmasq', ['--version'], { timeout: 5_000 });
  } catch {
    return 'dnsmasq is not installed (tools/install-deps.sh --netns)';
  }
  return undefined;
}

const SKIP = await skipReason();

describe('cluster membership through --peers-dns, each node in a network namespace', { skip: SKIP }, () => {
  let lab, dns;
  const nodes = new Map(); // name -> {name, net, pod, url}
  const deadAddresses = [];
  let standing; // see assertStandingGroups
  let orphan; // a session entered on node-b before it left
  let dnsLog = ''; // dnsmasq's log, for failure messages

  function dnsState() {
    let hosts;
    try {
      hosts = readFileSync(dns.hostsFile, 'utf8');
    } catch (e) {
      hosts = e.message;
    }
    const state = `exit=${dns.proc.exitCode} signal=${dns.proc.signalCode}`;
    return `--- dnsmasq (${state}), hosts file:\n${hosts}--- its log:\n${dnsLog.split('\n').slice(-20).join('\n')}\n`;
  }

  /** The A records of PEERS_NAME now: the running nodes' addresses and any dead one. */
  function records(names) {
    return [...names.map((n) => nodes.get(n).net.ip), ...deadAddresses];
  }

  /** Sets the A records and waits until a pod's resolver sees exactly them. */
  async function publishRecords(addresses) {
    await dns.set(PEERS_NAME, addresses);
    const probe = [...nodes.values()][0].net.netns;
    const want = [...addresses].sort();
    await until(
      async () => {
        const seen = await resolveIn(probe, PEERS_NAME);
        return JSON.stringify(seen.sort()) === JSON.stringify(want) || `resolves to [${seen.join(', ')}]`;
      },
      `${PEERS_NAME} to resolve to ${want.join(', ')}`,
      { diagnose: dnsState },
    );
  }

  /** A namespace and an address for node `name` (not started). */
  async function addNet(name) {
    const resolvConf = `nameserver ${lab.switchIp}\noptions timeout:1 attempts:2\n`;
    const net = await lab.addPod(name, { resolvConf });
    const node = { name, net, resolvConf, url: `http://${net.ip}:${HTTP_PORT}` };
    nodes.set(name, node);
    return node;
  }

  /**
   * Starts (or restarts) herald for node `name` and waits for its "listening" line. While
   * build/herald is missing or cannot be run (it is being relinked), waits and tries again.
   */
  async function startNode(name) {
    const node = nodes.get(name);
    const { ip } = node.net;
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (!runnable(HERALD_BIN)) {
        if (Date.now() > deadline) assert.fail(`${HERALD_BIN} is not there to run (build it or set HERALD_BIN)`);
        await delay(500); // the next look: a relink takes seconds
        continue;
      }
      node.pod = startPod({
        name,
        netns: node.net.netns,
        argv: [
          HERALD_BIN,
          '--node', name,
          '--listen', `${ip}:${HTTP_PORT}`,
          '--cluster-listen', `${ip}:${CLUSTER_PORT}`,
          '--peers-dns', `${PEERS_NAME}:${CLUSTER_PORT}`,
          '--log-level', 'debug',
          ...CLUSTER_FLAGS,
        ],
        etcFiles: { 'resolv.conf': node.resolvConf },
      });
      try {
        await bounded(node.pod.listening, 20_000, `${name} to listen`);
        return node;
      } catch (e) {
        // 126/127: the shell in front of it could not exec the binary (mid-relink).
        const exit = node.pod.exitInfo;
        if (exit && [126, 127].includes(exit.code) && Date.now() < deadline) continue;
        await node.pod.kill();
        throw e;
      }
    }
  }

  /** Stops node `name` with SIGTERM (a drain) and waits for its exit; asserts exit 0. */
  async function stopNode(name) {
    const { pod } = nodes.get(name);
    assert.ok(pod.terminate(), `${name} has a process to signal`);
    const exit = await bounded(pod.exited, 15_000, `${name} to exit after SIGTERM`).catch(async (e) => {
      await pod.kill();
      throw e;
    });
    assert.deepEqual([exit.code, exit.signal], [0, null], `${name} exit\n${tail(pod)}`);
  }

  /** Waits until every node in `names` sees exactly `names.length` nodes and is ready. */
  async function untilView(names) {
    await until(
      async () => {
        const states = [];
        for (const n of names) {
          const s = await nodeState(nodes.get(n));
          if (s.nodes !== names.length || s.ready !== 200) states.push(`${n}: ${JSON.stringify(s)}`);
        }
        return states.length === 0 || states.join('; ');
      },
      `${names.join(', ')} each to see ${names.length} nodes and be ready`,
      { boundMs: CONVERGE_MS, logsOf: names },
    );
  }

  /**
   * A session entered on `member` joins a fresh group; a session entered on `speaker` joins
   * it and speaks twice; the member's session, read through `reader`, receives both, once
   * each and in order.
   */
  async function assertDelivers(member, speaker, reader) {
    const [m, s, r] = [member, speaker, reader].map((n) => nodes.get(n));
    const group = uniq('room');
    const data = { probe: uniq('msg'), path: `${member} <- ${speaker} via ${reader}` };
    const listener = await enter(m.url, uniq(`u-${member}`));
    assert.ok(listener.startsWith(`${member}_`), `a session entered on ${member} is named after it: ${listener}`);
    await call(m.url, 'join', { session: listener, group });
    const talker = await enter(s.url, uniq(`u-${speaker}`));
    await call(s.url, 'join', { session: talker, group });
    const spoken = await call(s.url, 'speak', { session: talker, group, data });
    assert.equal(typeof spoken.groups?.[group]?.seq, 'number', `speak: ${JSON.stringify(spoken)}`);
    const marker = { marker: uniq('end') };
    const spokenMarker = await call(s.url, 'speak', { session: talker, group, data: marker });
    const inbox = new Inbox(r.url, listener);
    try {
      await inbox.until(is.message(group, marker), { boundMs: DELIVER_MS, what: `the messages spoken on ${speaker}` });
      const got = inbox.events.filter((e) => e.type === 'message' && e.group === group);
      assert.deepEqual(
        got.map((e) => [e.seq, e.data]),
        [[spoken.groups[group].seq, data], [spokenMarker.groups[group].seq, marker]],
        'both messages, once each, in order, with the seq speak answered',
      );
    } catch (e) {
      e.message += `\n${[m, s, r].map((n) => tail(n.pod)).join('\n')}`;
      throw e;
    }
  }

  /**
   * The standing groups: made in the first test with one member entered on node-a and one
   * speaker entered on node-c (nodes that run throughout), spoken in again after every change
   * of the view while their homes may move. Their names are fixed, so that where rendezvous
   * hashing places them is the same on every run; there are several, so that some are homed
   * and replicated on the nodes that come and go. In each, every message reaches the member
   * once, in seq order with no gap, under one epoch: no change here loses a group's history
   * (fewer than --group-replicas nodes are lost at a time).
   */
  async function assertStandingGroups(reader) {
    if (!standing) {
      const groups = Array.from({ length: STANDING_GROUPS }, (_, i) => `standing-${i}`);
      const listener = await enter(nodes.get('node-a').url, uniq('u-standing-a'));
      const talker = await enter(nodes.get('node-c').url, uniq('u-standing-c'));
      for (const group of groups) {
        await call(nodes.get('node-a').url, 'join', { session: listener, group });
        await call(nodes.get('node-c').url, 'join', { session: talker, group });
      }
      standing = { groups, talker, inbox: new Inbox(nodes.get('node-a').url, listener), spoken: new Map(groups.map((g) => [g, []])), round: 0 };
    }
    const { groups, talker, inbox, spoken } = standing;
    const round = ++standing.round;
    for (const group of groups) {
      const data = { round, read: reader };
      const r = await call(nodes.get('node-c').url, 'speak', { session: talker, group, data });
      spoken.get(group).push({ seq: r.groups[group].seq, data });
    }
    inbox.url = nodes.get(reader).url;
    try {
      const arrived = (e) => e.type === 'message' && e.data?.round === round && e.group === groups.at(-1);
      await inbox.until(arrived, { boundMs: DELIVER_MS, what: `standing round ${round} (read through ${reader})` });
      for (const group of groups) {
        const got = inbox.events.filter((e) => e.type === 'message' && e.group === group);
        const summary = `${group}: ${JSON.stringify(got.map((e) => ({ seq: e.seq, epoch: e.epoch, round: e.data.round })))}`;
        assert.deepEqual(got.map((e) => [e.seq, e.data]), spoken.get(group).map((m) => [m.seq, m.data]), `every standing message once, in order, with the seq speak answered: ${summary}`);
        for (const [i, e] of got.entries()) {
          assert.equal(e.epoch, got[0].epoch, `round ${i + 1}: the epoch of ${group} stays: ${summary}`);
          if (i > 0) assert.equal(e.seq, got[i - 1].seq + 1, `round ${i + 1}: the seq of ${group} follows without a gap: ${summary}`);
        }
      }
    } catch (e) {
      const running = [...nodes.values()].filter((n) => n.pod && !n.pod.exitInfo);
      e.message += `\n${running.map((n) => tail(n.pod, 25)).join('\n')}`;
      throw e;
    }
  }

  /** Polls `check` (true, or a string saying what is wrong) until true, within a bound. */
  async function until(check, what, { boundMs = CONVERGE_MS, logsOf = [], diagnose = () => '' } = {}) {
    const deadline = Date.now() + boundMs;
    let last;
    for (;;) {
      try {
        last = await check();
      } catch (e) {
        last = e.message;
      }
      if (last === true) return;
      if (Date.now() > deadline) {
        const logs = logsOf.map((n) => tail(nodes.get(n).pod)).join('\n');
        assert.fail(`timed out after ${boundMs} ms waiting for ${what}; last: ${last}\n${diagnose()}${logs}`);
      }
      await delay(200); // the next poll: the nodes change their view asynchronously
    }
  }

  let cleanupNow = () => {};

  before(async () => {
    lab = await Lab.create();
    cleanupNow = cleanupOnExit(() => ({ lab, dns, nodes }));
    dns = await ClusterDns.start(lab);
    dns.proc.stderr.on('data', (d) => (dnsLog += d));
    for (const n of ['node-a', 'node-b', 'node-c']) await addNet(n);
    await publishRecords(records(['node-a', 'node-b', 'node-c']));
    await Promise.all(['node-a', 'node-b', 'node-c'].map(startNode));
  }, BOUND);

  after(async () => {
    try {
      const quiet = (promise, what) => bounded(promise, 10_000, what).catch(() => {});
      await Promise.all([...nodes.values()].filter((n) => n.pod).map((n) => quiet(n.pod.kill(), `${n.name} to exit`)));
      if (dns) await quiet(dns.stop(), 'dnsmasq to stop');
      await lab?.destroy();
    } finally {
      cleanupNow(); // whatever is left (a process that did not exit, a namespace): by PID, at once
    }
  }, BOUND);

  test('three nodes find each other through one name with three A records, and act as one server', BOUND, async () => {
    await untilView(['node-a', 'node-b', 'node-c']);
    for (const n of ['node-a', 'node-b', 'node-c']) {
      const peers = await peerUp(nodes.get(n));
      const others = ['node-a', 'node-b', 'node-c'].filter((o) => o !== n);
      for (const o of others) assert.equal(peers[o], 1, `${n}: herald_cluster_peer_up{peer="${o}"} (all: ${JSON.stringify(peers)})`);
    }
    // Entered on A, spoken on C, read through B.
    await assertDelivers('node-a', 'node-c', 'node-b');
    await assertStandingGroups('node-b');
  });

  test('a fourth node added to DNS later joins, and delivers both ways', BOUND, async () => {
    await addNet('node-d');
    await publishRecords(records(['node-a', 'node-b', 'node-c', 'node-d']));
    await startNode('node-d');
    await untilView(['node-a', 'node-b', 'node-c', 'node-d']);
    await assertDelivers('node-d', 'node-a', 'node-d'); // the newcomer hears an old node
    await assertDelivers('node-b', 'node-d', 'node-c'); // an old node hears the newcomer
    await assertStandingGroups('node-d');
  });

  test('a node stopped and removed from DNS leaves; the others drop it and keep delivering', BOUND, async () => {
    orphan = await enter(nodes.get('node-b').url, uniq('u-orphan'));
    await publishRecords(records(['node-a', 'node-c', 'node-d']));
    await stopNode('node-b');
    await untilView(['node-a', 'node-c', 'node-d']);
    for (const n of ['node-a', 'node-c', 'node-d']) {
      const peers = await peerUp(nodes.get(n));
      assert.notEqual(peers['node-b'], 1, `${n} still counts node-b up: ${JSON.stringify(peers)}`);
      // A session of the node that left is gone, whichever node is asked.
      await callError(nodes.get(n).url, 'join', { session: orphan, group: uniq('after') }, 404, 'unknown_session');
    }
    await assertDelivers('node-a', 'node-c', 'node-d');
    await assertDelivers('node-d', 'node-a', 'node-c');
    await assertStandingGroups('node-d');
  });

  test('an A record at an address nobody answers on stalls nobody; a node started meanwhile joins', BOUND, async (t) => {
    // An address on the bridge's subnet that no namespace has: ARP goes unanswered, so a
    // connect to it neither succeeds nor is refused.
    const dead = `${lab.subnet}.250`;
    deadAddresses.push(dead);
    const live = ['node-a', 'node-c', 'node-d'];
    await publishRecords(records(live));
    // Each node has resolved the dead record and tried it (its connect attempt came back).
    const triedDead = (e) => typeof e.seed === 'string' && e.seed.startsWith(`${dead}:`);
    for (const n of live) t.diagnostic(`${n}: ${JSON.stringify(await waitForLog(nodes.get(n), triedDead, `${n} to try ${dead}`))}`);
    // Still one cluster of three, ready, delivering, over several resolution rounds.
    await untilView(live);
    await assertDelivers('node-c', 'node-d', 'node-a');
    await assertStandingGroups('node-c');
    for (const n of live) await waitForLog(nodes.get(n), triedDead, `${n} to try ${dead} again`);
    await untilView(live);
    await assertDelivers('node-a', 'node-c', 'node-d');

    // node-b comes back (a new incarnation under its name) with the dead record still there:
    // it tries every seed, the dead one included, and still becomes ready and joins.
    await publishRecords(records(['node-a', 'node-b', 'node-c', 'node-d']));
    await startNode('node-b');
    await untilView(['node-a', 'node-b', 'node-c', 'node-d']);
    await assertDelivers('node-b', 'node-c', 'node-a');
    await assertDelivers('node-d', 'node-b', 'node-b');
    await assertStandingGroups('node-b');
    // The new incarnation of node-b does not own the old one's sessions.
    await callError(nodes.get('node-b').url, 'join', { session: orphan, group: uniq('after') }, 404, 'unknown_session');
    deadAddresses.length = 0;
    await publishRecords(records(['node-a', 'node-b', 'node-c', 'node-d']));
  });

  test('a frozen node (SIGSTOP) whose record stays in DNS is dropped; the others stay ready and deliver', BOUND, async (t) => {
    // Its address still accepts TCP connections (the kernel completes them) and never
    // answers: the others' heartbeats to it go unanswered, and so do their new attempts.
    const frozen = nodes.get('node-d');
    const pid = frozen.pod.pid1();
    assert.ok(pid, 'node-d has a process to freeze');
    process.kill(pid, 'SIGSTOP');
    const live = ['node-a', 'node-b', 'node-c'];
    await untilView(live);
    const triedFrozen = (e) => e.seed === `${frozen.net.ip}:${CLUSTER_PORT}` && /no hello answer|cannot connect|seed unreachable/.test(e.msg);
    for (const n of live) t.diagnostic(`${n}: ${JSON.stringify(await waitForLog(nodes.get(n), triedFrozen, `${n} to give up an attempt on the frozen node-d`))}`);
    await untilView(live);
    await assertDelivers('node-a', 'node-c', 'node-b');
    await assertDelivers('node-c', 'node-b', 'node-a');
    await assertStandingGroups('node-b');
    await frozen.pod.kill();
  });

  /** Resolves with the first log entry of `node` from now on for which match(entry); bounded. */
  function waitForLog(node, match, what) {
    return bounded(node.pod.waitForLog(match), CONVERGE_MS, what).catch((e) => {
      e.message += `\n${tail(node.pod)}`;
      throw e;
    });
  }
});

/** herald_cluster_nodes (undefined when absent) and the /readyz status of a node. */
async function nodeState(node) {
  if (node.pod.exitInfo) return { exited: node.pod.exitInfo };
  const [metrics, ready] = await Promise.all([
    request(node.url, { path: '/metrics', boundMs: 5_000 }),
    request(node.url, { path: '/readyz', boundMs: 5_000 }),
  ]);
  assert.equal(metrics.status, 200, `${node.name} /metrics: ${describeResponse(metrics)}`);
  return { nodes: valueOf(parseExposition(metrics.text), 'herald_cluster_nodes'), ready: ready.status };
}

/** herald_cluster_peer_up of a node: {peer: value}. */
async function peerUp(node) {
  const r = await request(node.url, { path: '/metrics', boundMs: 5_000 });
  assert.equal(r.status, 200, `${node.name} /metrics: ${describeResponse(r)}`);
  const up = {};
  for (const s of parseExposition(r.text).samples) if (s.name === 'herald_cluster_peer_up') up[s.labels.peer] = s.value;
  return up;
}

/** The A records of `name` as a namespace's resolver (its resolv.conf: dnsmasq) answers them. */
async function resolveIn(netns, name) {
  try {
    const { stdout } = await run('ip', ['netns', 'exec', netns, 'getent', 'ahostsv4', name], { timeout: 10_000 });
    return [...new Set(stdout.trim().split('\n').map((l) => l.split(/\s+/)[0]))];
  } catch (e) {
    if (e.code === 2) return []; // getent: not found
    throw e;
  }
}

/** The last lines of a pod's log, for failure messages. */
function tail(pod, n = 40) {
  if (!pod) return '';
  return `--- last ${n} log lines of ${pod.name} ---\n${pod.lines.slice(-n).join('\n')}`;
}

/**
 * Should the runner exit (or be interrupted) before `after` ran: SIGKILL the heralds and
 * dnsmasq this file started, by PID, and delete the lab's namespaces and link, synchronously.
 */
function cleanupOnExit(state) {
  const cleanup = () => {
    const { lab, dns, nodes } = state();
    for (const n of nodes.values()) if (n.pod && !n.pod.exitInfo) tryKill(n.pod.proc.pid);
    for (const n of nodes.values()) if (n.pod) rmSync(n.pod.dir, { recursive: true, force: true });
    if (dns && dns.proc.exitCode === null && dns.proc.signalCode === null) tryKill(dns.proc.pid);
    for (const netns of lab?.netnsMade ?? []) {
      try {
        execFileSync('ip', ['netns', 'del', netns], { stdio: 'ignore', timeout: 5_000 });
      } catch {
        /* already gone */
      }
      rmSync(`/etc/netns/${netns}`, { recursive: true, force: true });
    }
    if (dns) rmSync(dns.dir, { recursive: true, force: true });
    if (lab?.hostLinkMade) {
      try {
        execFileSync('ip', ['link', 'del', lab.hostLink], { stdio: 'ignore', timeout: 5_000 });
      } catch {
        /* gone with the switch namespace */
      }
    }
  };
  process.once('exit', cleanup);
  for (const signal of ['SIGINT', 'SIGTERM'])
    process.once(signal, () => {
      cleanup();
      process.exit(130);
    });
  return cleanup;
}

/** Whether `file` exists and is executable. */
function runnable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function tryKill(pid) {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* already exited */
  }
}
