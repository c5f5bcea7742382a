// Cluster membership seen from outside: herald_cluster_nodes and herald_cluster_peer_up in
// /metrics, /readyz while seeds are being tried, and nodes learning of each other through
// one seed (full mesh).

import assert from 'node:assert/strict';
import net from 'node:net';
import { bounded, describe, request, test } from '../blackbox/lib/herald.mjs';
import {
  clusterNodes, nodeName, readyStatus, scrape, startClusterNode, stopAll, until, untilFormed, untilLog, untilNodes,
  useCluster, valueOf,
} from './lib/cluster.mjs';

describe('a formed three-node cluster', () => {
  const nodes = useCluster(3);

  test('every node is ready, sees 3 nodes and every other node up', async () => {
    for (const node of nodes) {
      assert.equal(await readyStatus(node), 200, `${node.nodeName} /readyz`);
      const m = await scrape(node);
      assert.equal(valueOf(m, 'herald_cluster_nodes'), 3, `${node.nodeName} herald_cluster_nodes`);
      assert.equal(m.families.get('herald_cluster_nodes')?.type, 'gauge', 'herald_cluster_nodes is a gauge');
      for (const other of nodes.filter((o) => o !== node)) {
        assert.equal(valueOf(m, 'herald_cluster_peer_up', { peer: other.nodeName }), 1, `${node.nodeName}: herald_cluster_peer_up{peer="${other.nodeName}"}`);
      }
      assert.equal(valueOf(m, 'herald_cluster_peer_up', { peer: node.nodeName }), undefined, `${node.nodeName} lists itself as a peer`);
    }
  });

  test('each node logged that every seed was tried', async () => {
    for (const node of nodes.slice(1)) {
      await untilLog(node, (e) => /every seed tried/.test(e.msg ?? ''), { what: `${node.nodeName}: "every seed tried"` });
    }
  });
});

test('nodes learn each other through one seed: n2 and n3 name only n1, and the mesh is full', async () => {
  const servers = [];
  try {
    servers.push(await startClusterNode(0, []));
    servers.push(await startClusterNode(1, [servers[0].clusterAddr]));
    servers.push(await startClusterNode(2, [servers[0].clusterAddr]));
    await untilFormed(servers, 3);
    const m2 = await scrape(servers[1]);
    assert.equal(valueOf(m2, 'herald_cluster_peer_up', { peer: 'n3' }), 1, 'n2 sees n3 up');
  } finally {
    await stopAll(servers);
  }
});

test('a lone node whose seed refuses connections becomes ready and counts itself', async () => {
  // A port nothing listens on: bind one, learn it, close it.
  const free = net.createServer();
  await new Promise((resolve) => free.listen(0, '127.0.0.1', resolve));
  const port = free.address().port;
  await new Promise((resolve) => free.close(resolve));
  const servers = [];
  try {
    servers.push(await startClusterNode(0, [`127.0.0.1:${port}`], { args: ['--peer-connect-timeout', '2'] }));
    await untilFormed(servers, 1);
    assert.equal(await clusterNodes(servers[0]), 1);
  } finally {
    await stopAll(servers);
  }
});

test('/readyz is 503 while a seed is still being tried (it accepts TCP and never answers the handshake), 200 once given up', async () => {
  // The silent seed: accepts connections, reads what comes, never sends a byte. A
  // connection that sent us bytes (the node's handshake) and is still open is an attempt
  // the node has not given up yet.
  const open = new Set();
  let onHandshake;
  const handshake = new Promise((resolve) => (onHandshake = resolve));
  const silent = net.createServer((s) => {
    s.on('error', () => {});
    s.on('data', () => {
      open.add(s);
      onHandshake(s);
    });
    s.on('close', () => open.delete(s));
  });
  await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const seed = `127.0.0.1:${silent.address().port}`;
  const servers = [];
  try {
    servers.push(await startClusterNode(0, [seed], { args: ['--peer-connect-timeout', '5'] }));
    const node = servers[0];
    const conn = await bounded(handshake, 10_000, 'the node to open a connection to its silent seed and send its handshake');
    let givenUp = false;
    conn.once('close', () => (givenUp = true));
    const r = await request(node, { path: '/readyz' });
    assert.ok(!givenUp, 'the node dropped the silent seed before /readyz answered: cannot tell');
    assert.equal(r.status, 503, `/readyz while the only seed is still being tried: HTTP ${r.status} ${r.text}`);
    // Once the attempt was given up the seed counts as tried: ready, alone.
    await until(async () => (await readyStatus(node)) === 200, { boundMs: 15_000, what: `${nodeName(node)} /readyz 200 once the seed was given up` });
    await untilNodes([node], 1);
  } finally {
    for (const s of open) s.destroy();
    silent.close();
    await stopAll(servers);
  }
});

test('a node without --peers is ready at once and sees only itself', async () => {
  const servers = [];
  try {
    servers.push(await startClusterNode(0, []));
    await untilFormed(servers, 1);
    const m = await scrape(servers[0]);
    assert.equal(m.samples.filter((s) => s.name === 'herald_cluster_peer_up').length, 0, 'no peers listed');
  } finally {
    await stopAll(servers);
  }
});
