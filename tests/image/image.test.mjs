// The container image, run as Kubernetes runs it, without a container runtime: its root
// filesystem (buildah mount) mounted read-only, its entrypoint and command as PID 1 of a PID
// namespace, its numeric user, in a network namespace of its own reached over a veth. Then
// what a user of the image relies on: /readyz, a chat over WebSocket and long-poll, and
// SIGTERM ending in exit 0 within --drain-timeout with readiness dropped first.
//
//   make image && make test-image       (HERALD_IMAGE overrides localhost/herald:<version>)
//
// Needs root (namespaces, mounts) and buildah. Everything it makes (the working container,
// the namespaces, the mount) is removed in `after`.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { bounded } from '../blackbox/lib/bounded.mjs';
import { call, enter, listen, request } from '../blackbox/lib/http.mjs';
import { ensureTools, render } from '../helm/lib/kube.mjs';
import { Lab } from '../podsim/lib/netns.mjs';
import { startPod } from '../podsim/lib/pod.mjs';
import { podSpecOf } from '../podsim/lib/statefulset.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const version = readFileSync(path.join(repo, 'CMakeLists.txt'), 'utf8').match(/project\(herald VERSION ([0-9.]+)/)[1];
const IMAGE = process.env.HERALD_IMAGE || `localhost/herald:${version}`;
const DRAIN_TIMEOUT_S = 4;
const buildah = (...args) => execFileSync('buildah', args, { encoding: 'utf8', timeout: 60_000 }).trim();

/** A WebSocket on herald.v1 whose frames queue up for next(predicate). */
async function openSocket(url) {
  const ws = new WebSocket(url, 'herald.v1');
  const frames = [];
  const waiters = [];
  ws.on('message', (data) => {
    const frame = JSON.parse(data.toString());
    frames.push(frame);
    for (const w of [...waiters]) if (w.match(frame)) waiters.splice(waiters.indexOf(w), 1) && w.resolve(frame);
  });
  ws.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await bounded(new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject)), 10_000, 'the WebSocket to open');
  ws.next = (match, what) => {
    const seen = frames.find(match);
    if (seen) return Promise.resolve(seen);
    return bounded(new Promise((resolve) => waiters.push({ match, resolve })), 10_000, what);
  };
  return ws;
}

describe(`the image ${IMAGE}`, () => {
  let container, rootfs, config, lab, pod;

  before(() => {
    config = JSON.parse(buildah('inspect', '--type', 'image', IMAGE)).OCIv1.config;
    container = buildah('from', '--pull-never', '--quiet', IMAGE);
    rootfs = buildah('mount', container);
  });

  after(async () => {
    await pod?.kill();
    await lab?.destroy();
    if (container) {
      buildah('umount', container);
      buildah('rm', container);
    }
  });

  test('runs as a numeric non-root user, with tini as entrypoint and no build tools or shell', () => {
    assert.match(config.User, /^[1-9][0-9]*:[1-9][0-9]*$/, 'a numeric uid:gid, so that runAsNonRoot can check it');
    assert.deepEqual(config.Entrypoint, ['/usr/bin/tini', '--', '/usr/bin/herald']);
    for (const present of ['usr/bin/herald', 'usr/bin/tini', 'usr/bin/sleep']) assert.ok(existsSync(path.join(rootfs, present)), present);
    for (const absent of ['bin/sh', 'usr/bin/apt', 'usr/bin/dpkg', 'usr/include', 'usr/bin/gcc', 'usr/bin/cmake'])
      assert.ok(!existsSync(path.join(rootfs, absent)), `${absent} should not be in the run stage`);
  });

  test('as PID 1 on a read-only root: ready, a chat, and SIGTERM drains to exit 0 within --drain-timeout', async (t) => {
    lab = await Lab.create();
    const net = await lab.addPod('herald-0');
    const imageEnv = Object.fromEntries((config.Env ?? []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
    pod = startPod({
      name: 'herald-0',
      netns: net.netns,
      argv: [...config.Entrypoint, ...(config.Cmd ?? [])],
      env: { ...imageEnv, HERALD_NODE: 'herald-0', HERALD_DRAIN_TIMEOUT: `${DRAIN_TIMEOUT_S}s` },
      rootfs,
      user: config.User,
    });
    await bounded(pod.listening, 30_000, 'herald in the image to log "listening"').catch((e) => {
      throw new Error(`${e.message}\n${pod.logs()}`);
    });
    const url = `http://${net.ip}:8080`;

    // What the kubelet set up is what the process sees.
    const pid1 = pod.pid1();
    const nspid = readFileSync(`/proc/${pid1}/status`, 'utf8').match(/^NSpid:\s+(.*)$/m)[1].split(/\s+/);
    assert.equal(nspid.at(-1), '1', 'the entrypoint is PID 1 of its namespace');
    assert.equal(readFileSync(`/proc/${pid1}/comm`, 'utf8').trim(), 'tini');
    const heraldPid = Number(readFileSync(`/proc/${pid1}/task/${pid1}/children`, 'utf8').trim());
    assert.match(readFileSync(`/proc/${heraldPid}/status`, 'utf8'), new RegExp(`^Uid:\\s+${config.User.split(':')[0]}\\s`, 'm'));
    const rootMount = readFileSync(`/proc/${heraldPid}/mountinfo`, 'utf8').split('\n').find((l) => l.split(' ')[4] === '/');
    assert.match(rootMount.split(' ')[5], /(^|,)ro(,|$)/, `the root filesystem is mounted read-only: ${rootMount}`);

    assert.equal((await request(url, { path: '/healthz' })).status, 200);
    assert.equal((await request(url, { path: '/readyz' })).status, 200);

    // A chat: alice on a WebSocket, bob long-polling.
    const alice = await openSocket(`ws://${net.ip}:8080/v1/ws`);
    alice.send(JSON.stringify({ id: 1, method: 'enter', params: { user: 'alice', groups: ['lobby'] } }));
    const entered = await alice.next((f) => f.id === 1, 'alice to enter');
    assert.ok(entered.result?.session, JSON.stringify(entered));
    const bob = await enter(url, 'bob', ['lobby']);
    const bobListen = listen(url, bob, 0, 30);
    alice.send(JSON.stringify({ id: 2, method: 'speak', params: { session: entered.result.session, group: 'lobby', data: { text: 'hi bob' } } }));
    const heard = await bobListen;
    assert.equal(heard.status, 200);
    const message = heard.body.events.find((e) => e.type === 'message');
    assert.deepEqual([message?.from, message?.data], ['alice', { text: 'hi bob' }], JSON.stringify(heard.body));
    await alice.next((f) => f.type === 'message' && f.data?.text === 'hi bob', 'alice to hear her own message');
    await call(url, 'speak', { session: bob, group: 'lobby', data: { text: 'hi alice' } });
    await alice.next((f) => f.type === 'message' && f.data?.text === 'hi alice', "alice to hear bob's answer");

    // SIGTERM with a long-poll pending and a socket open.
    const pending = listen(url, bob, heard.body.cursor, 60);
    const draining = pod.waitForLog((e) => e.msg === 'draining');
    assert.ok(pod.terminate(), 'a PID 1 to signal');
    await bounded(draining, 5_000, 'herald to log "draining" (tini forwards SIGTERM)');
    const readyDuringDrain = await request(url, { path: '/readyz' });
    assert.equal(readyDuringDrain.status, 503, 'readiness drops at once');
    const answered = await bounded(pending, 5_000, 'the pending long-poll to be answered at once');
    assert.equal(answered.status, 200);
    const closed = await bounded(alice.closed, DRAIN_TIMEOUT_S * 1000, 'the WebSocket to be closed by the drain');
    t.diagnostic(`WebSocket closed with ${closed.code} ${closed.reason}`);
    const exit = await bounded(pod.exited, (DRAIN_TIMEOUT_S + 2) * 1000, 'herald to exit after the drain');
    t.diagnostic(`exit ${exit.code} ${exit.ms} ms after SIGTERM (--drain-timeout ${DRAIN_TIMEOUT_S} s)`);
    assert.deepEqual([exit.code, exit.signal], [0, null], pod.logs());
    pod = null;
  });

  test("the chart's pod runs in it: its args after the entrypoint, its user, its config.json in /etc/herald", async () => {
    await ensureTools();
    const objects = await render({
      valuesFiles: [path.join(repo, 'helm/herald/ci/single-node-values.yaml')],
      set: ['herald.undeclaredGroups=refuse', 'herald.groups[0].name=lobby', 'herald.groups[0].bit=1'],
    });
    const net = await lab.addPod('chart-0');
    const spec = podSpecOf(objects, 0, { podIp: net.ip });
    const sc = objects.find((o) => o.kind === 'StatefulSet').spec.template.spec.containers[0].securityContext;
    // A container's args replace the image's CMD and follow its ENTRYPOINT.
    pod = startPod({
      name: spec.podName,
      netns: net.netns,
      argv: [...config.Entrypoint, ...spec.args],
      env: spec.env,
      rootfs,
      user: `${sc.runAsUser}:${sc.runAsGroup}`,
      etcFiles: spec.etcFiles,
    });
    const listening = await bounded(pod.listening, 30_000, 'the chart pod to listen').catch((e) => {
      throw new Error(`${e.message}\n${pod.logs()}`);
    });
    assert.equal(listening.node, spec.podName);
    const url = `http://${net.ip}:${spec.clientPort}`;
    assert.equal((await request(url, { path: '/readyz' })).status, 200);
    // The ConfigMap's settings took effect: declared lobby only, everything else refused.
    const session = await enter(url, 'carol', ['lobby']);
    assert.match(session, /^chat-herald-0/);
    const refused = await request(url, {
      method: 'POST',
      path: '/v1/rpc',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ id: 1, method: 'join', params: { session, group: 'elsewhere' } }),
    });
    assert.equal(refused.body?.error?.code, 'not_found', refused.text);
    assert.ok(pod.terminate());
    const exit = await bounded(pod.exited, (seconds(spec.args) + 2) * 1000, 'the chart pod to drain');
    assert.deepEqual([exit.code, exit.signal], [0, null], pod.logs());
    pod = null;
  });
});

/** --drain-timeout of a container's args, in seconds. */
function seconds(args) {
  return Number(/^--drain-timeout=(\d+)s$/.exec(args.find((a) => a.startsWith('--drain-timeout=')))[1]);
}
