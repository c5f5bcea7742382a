// A client Service as kube-proxy and the endpoints controller make it: one address (here a
// loopback port of the test) whose new TCP connections go to the ready pods in turn. A pod
// joins when its readiness probe passes and leaves when the probe fails or the pod starts
// terminating; connections already open stay where they are, as with conntrack.
//
// `connections` records every connection made: {pod, t} (ms since the proxy started), which
// is how a test measures the reconnect rate each pod sees.

import net from 'node:net';
import { request } from '../../blackbox/lib/http.mjs';

export class ServiceProxy {
  /** @private */
  constructor() {
    this.endpoints = new Map(); // pod name -> {ip, port, ready, terminating}
    this.sockets = new Set();
    this.connections = [];
    this.refused = 0;
    this.turn = 0;
    this.t0 = Date.now();
    this.probes = new Map();
  }

  static async start() {
    const proxy = new ServiceProxy();
    proxy.server = net.createServer((client) => proxy.forward(client));
    await new Promise((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(0, '127.0.0.1', resolve);
    });
    proxy.url = `http://127.0.0.1:${proxy.server.address().port}`;
    return proxy;
  }

  /** @private */
  forward(client) {
    this.sockets.add(client);
    client.on('error', () => {});
    client.on('close', () => this.sockets.delete(client));
    const ready = [...this.endpoints.entries()].filter(([, e]) => e.ready && !e.terminating);
    if (ready.length === 0) {
      this.refused++;
      client.destroy();
      return;
    }
    const [pod, e] = ready[this.turn++ % ready.length];
    this.connections.push({ pod, t: Date.now() - this.t0 });
    const upstream = net.connect({ host: e.ip, port: e.port });
    this.sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => {
      this.sockets.delete(upstream);
      client.destroy();
    });
    client.on('close', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** Adds a pod (not ready until its probe passes) and starts probing it every periodMs. */
  addPod(pod, ip, port, { path = '/readyz', periodMs = 1000 } = {}) {
    this.endpoints.set(pod, { ip, port, ready: false, terminating: false });
    this.stopProbing(pod);
    let stopped = false;
    const probe = async () => {
      while (!stopped) {
        const e = this.endpoints.get(pod);
        if (!e) return;
        try {
          const r = await request(`http://${ip}:${port}`, { path, boundMs: periodMs });
          e.ready = r.status === 200;
        } catch {
          e.ready = false;
        }
        e.probed = (e.probed ?? 0) + 1;
        for (const w of e.waiters ?? []) w();
        await new Promise((resolve) => setTimeout(resolve, periodMs)); // the probe's period
      }
    };
    this.probes.set(pod, () => (stopped = true));
    probe();
  }

  /** The endpoints controller's reaction to a pod being deleted: no new connections to it. */
  terminating(pod) {
    this.endpoints.get(pod).terminating = true;
  }

  /** The pod is gone (its replacement is added again with addPod). */
  removePod(pod) {
    this.stopProbing(pod);
    this.endpoints.delete(pod);
  }

  /** @private */
  stopProbing(pod) {
    this.probes.get(pod)?.();
    this.probes.delete(pod);
  }

  /** Resolves once the pod's probe has passed (it is an endpoint again). */
  untilReady(pod) {
    return new Promise((resolve) => {
      const e = this.endpoints.get(pod);
      const check = () => e.ready && resolve();
      e.waiters = [...(e.waiters ?? []), check];
      check();
    });
  }

  async close() {
    for (const pod of [...this.probes.keys()]) this.stopProbing(pod);
    for (const s of [...this.sockets]) s.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
