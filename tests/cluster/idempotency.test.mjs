// An Idempotency-Key on POST /v1/publish survives the loss of the group's home: the key
// is replicated with the message, so a publisher that retries through another node after
// a failover gets the seq of its first attempt and nothing is published twice. Several
// groups are used, so that some have their home on the node that is killed.

import assert from 'node:assert/strict';
import { call, enter, request, test, uniq } from '../blackbox/lib/herald.mjs';
import { FAST_FAILURE, HEAL_BOUND_MS, killNode, shown, untilNodes, withCluster } from './lib/cluster.mjs';

const GROUPS = 8;

function publish(node, body, key) {
  return request(node, {
    method: 'POST',
    path: '/v1/publish',
    headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key },
    body: JSON.stringify(body),
  });
}

/** publish, retried while the answer is 503 unavailable (a group's home being replaced). */
async function publishRetrying(node, body, key) {
  const deadline = Date.now() + HEAL_BOUND_MS + 5_000;
  for (;;) {
    const r = await publish(node, body, key);
    if (r.status === 200) return r.body;
    assert.ok(r.status === 503 && r.body.error?.code === 'unavailable', `publish ${key}: ${shown(r)}`);
    assert.ok(Date.now() < deadline, `publish ${key} still unavailable: ${shown(r)}`);
  }
}

test('a publish retried with its Idempotency-Key after its group\'s home died gets its first seq; nothing is published twice', { timeout: 90_000 }, () =>
  withCluster(3, FAST_FAILURE, async ([n1, n2, n3]) => {
    const groups = Array.from({ length: GROUPS }, () => uniq('idem'));
    const keys = groups.map(() => uniq('key'));
    const first = [];
    for (const [i, group] of groups.entries()) {
      await publish(n1, { group, data: 'warm-up' }, uniq('key')); // seq 1
      const r = await publish(n1, { group, data: `once-${i}` }, keys[i]);
      assert.equal(r.status, 200, shown(r));
      first.push(r.body);
    }
    await killNode(n3);
    await untilNodes([n1, n2], 2);
    const reader = await enter(n2.url, 'reader');
    for (const [i, group] of groups.entries()) {
      const again = await publishRetrying(i % 2 ? n1 : n2, { group, data: `once-${i}` }, keys[i]);
      assert.deepEqual(again, first[i], `group ${group}: the retry must get the first answer`);
      const fresh = await publishRetrying(n1, { group, data: `after-${i}` }, uniq('key'));
      assert.deepEqual(fresh, { groups: { [group]: { seq: 3 } } }, `group ${group}: the next publish continues the seq`);
      const h = await call(n2.url, 'history', { session: reader, group });
      assert.deepEqual(h.messages.map((m) => [m.seq, m.data]), [[1, 'warm-up'], [2, `once-${i}`], [3, `after-${i}`]], `group ${group}`);
    }
  }));
