// Nodes that must not join: settings that differ (--api-key, declared groups,
// --cluster-secret) and a --node name that a live node already has. The newcomer stays
// out (the cluster's herald_cluster_nodes does not change, the newcomer counts only
// itself) and its log says why. A newcomer with the same settings, the control, joins.

import assert from 'node:assert/strict';
import { call, describe, enter, publishJson, test, uniq } from '../blackbox/lib/herald.mjs';
import {
  clusterNodes, logEntries, scrape, startClusterNode, stopAll, untilLog, untilNodes, useCluster, valueOf,
} from './lib/cluster.mjs';

const KEY = 'k-cluster-1';
const GROUPS = [
  { name: 'lobby', bit: 1, title: 'Lobby', notify: true, history: 50 },
  { name: 'news', bit: 2, title: 'News', notify: false, history: 10 },
];
const SECRET = 's3cret-cluster';
const settings = (groups = GROUPS, key = KEY, secret = SECRET) => ({
  args: ['--api-key', key, '--cluster-secret', secret],
  configJson: { groups },
});

/** A log entry of the newcomer telling that it was refused (or refuses), with a reason. */
const refusalEntry = (e) =>
  typeof e.msg === 'string' && /refus/i.test(e.msg) && (e.level === 'error' || e.level === 'warn') && typeof (e.reason ?? e.error) === 'string';

describe('nodes that must not join', () => {
  const nodes = useCluster(2, { perNode: () => settings() });

  /**
   * Starts a newcomer (index 2 unless named) seeded with both nodes, waits until its log
   * tells it was refused and why, and checks that nobody's view of the cluster changed.
   * Returns the refusal log entry.
   */
  async function refusedNewcomer(spec, name) {
    const newcomer = await startClusterNode(2, nodes.map((n) => n.clusterAddr), { ...spec, name });
    try {
      const why = await untilLog(newcomer, refusalEntry, { what: 'a log line saying the newcomer was refused, and why', orExit: true });
      // A newcomer that exits rather than staying up alone is fine, as long as it said why.
      const said = why ?? logEntries(newcomer).find((e) => /refus|differ|unique|name/i.test(JSON.stringify(e)));
      assert.ok(said, `the newcomer neither logged a refusal nor explained its exit:\n${newcomer.logs()}`);
      for (const node of nodes) {
        assert.equal(await clusterNodes(node), 2, `${node.nodeName} counts the refused newcomer`);
        const up = valueOf(await scrape(node), 'herald_cluster_peer_up', { peer: name ?? 'n3' });
        if (name === undefined) assert.ok(up === undefined || up === 0, `${node.nodeName}: herald_cluster_peer_up{peer="n3"} is ${up}`);
      }
      if (newcomer.exitInfo === null) assert.equal(await clusterNodes(newcomer), 1, 'the refused newcomer counts only itself');
      return said;
    } finally {
      // A refused newcomer may have exited by itself: that is not a crash here.
      if (newcomer.exitInfo !== null) newcomer.signaled = true;
      await stopAll([newcomer]);
    }
  }

  test('the control: a newcomer with the same settings joins, and leaves again when stopped', async () => {
    const newcomer = await startClusterNode(2, nodes.map((n) => n.clusterAddr), settings());
    try {
      await untilNodes([...nodes, newcomer], 3);
      const s = await enter(newcomer.url, uniq('ctl'), ['lobby']);
      const r = await publishJson(nodes[0], { group: 'lobby', data: 'hi' }, { headers: { Authorization: `Bearer ${KEY}` } });
      assert.equal(r.status, 200, r.text);
      assert.equal(typeof (await call(nodes[1].url, 'presence', { session: s, group: 'lobby' })).count, 'number');
    } finally {
      await stopAll([newcomer]);
    }
    await untilNodes(nodes, 2);
  });

  test('a newcomer with another --api-key does not join, and its log says why', async () => {
    const why = await refusedNewcomer(settings(GROUPS, 'another-key'));
    assert.match(JSON.stringify(why), /api-key|setting/i, 'the reason names the settings that differ');
  });

  test('a newcomer whose declared groups differ does not join, and its log says why', async () => {
    const why = await refusedNewcomer(settings([...GROUPS, { name: 'extra', bit: 4, title: 'Extra', notify: true, history: 10 }]));
    assert.match(JSON.stringify(why), /group|setting/i, 'the reason names the settings that differ');
  });

  test('a newcomer whose declared group differs only in its history length does not join either', async () => {
    const why = await refusedNewcomer(settings([GROUPS[0], { ...GROUPS[1], history: 11 }]));
    assert.match(JSON.stringify(why), /group|setting/i);
  });

  test('a newcomer with another --cluster-secret does not join, and its log says why', async () => {
    const why = await refusedNewcomer(settings(GROUPS, KEY, 'wrong-secret'));
    assert.match(JSON.stringify(why), /secret|setting/i);
  });

  test('a newcomer named like a live node (n1) refuses to join, says why, and the live n1 keeps serving', async () => {
    const s = await enter(nodes[0].url, uniq('kept'), ['lobby']);
    const why = await refusedNewcomer(settings(), 'n1');
    assert.match(String(why.reason ?? why.error ?? why.msg), /name/i, 'the reason names the duplicate node name');
    assert.equal(typeof (await call(nodes[1].url, 'ping', { session: s })).time, 'number', "the live n1's session still answers through n2");
    for (const node of nodes) {
      const m = await scrape(node);
      assert.equal(valueOf(m, 'herald_cluster_peer_up', { peer: node === nodes[0] ? 'n2' : 'n1' }), 1, `${node.nodeName} still sees its peer up`);
    }
  });
});
