// Pipelined POST /v1/publish: requests written at once are performed in their order (one
// request actor per batch of at most --publish-batch) and answered in request order, with
// failures and other requests in between keeping their places.

import assert from 'node:assert/strict';
import { before, describe, enter, listen, rawExchange, test, uniq, useHerald } from './lib/herald.mjs';

function publishBytes(host, body, { close = false } = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return `POST /v1/publish HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\n`
    + `${close ? 'Connection: close\r\n' : ''}Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`;
}

// The data of the message and direct events a session has, in eid order.
async function receivedData(url, session) {
  const r = await listen(url, session, 0, 0);
  assert.equal(r.status, 200, r.text);
  return r.body.events.filter((e) => e.type === 'message' || e.type === 'direct').map((e) => e.data);
}

for (const batch of [null, 3]) {
  describe(`pipelined publishes (${batch ? `--publish-batch ${batch}` : 'default batch'})`, () => {
    const herald = useHerald(['--notify-presence', 'off', ...(batch ? ['--publish-batch', String(batch)] : [])]);
    let host;
    before(() => {
      host = `${herald.host}:${herald.port}`;
    });

    test('are performed and answered in order, failures and other requests keeping their places', async () => {
      const g = uniq('pipe');
      const user = uniq('u');
      const session = await enter(herald.url, user, [g]);
      const plan = [];
      for (let i = 1; i <= 12; i++) plan.push({ kind: 'ok', bytes: publishBytes(host, { group: g, data: i }) });
      plan.splice(4, 0, { kind: 'bad', bytes: publishBytes(host, '{"group":') });
      plan.splice(7, 0, { kind: 'direct', bytes: publishBytes(host, { user, data: 'to-user' }) });
      plan.splice(9, 0, { kind: 'health', bytes: `GET /healthz HTTP/1.1\r\nHost: ${host}\r\n\r\n` });
      plan.splice(10, 0, { kind: 'bad', bytes: publishBytes(host, { group: g }) });
      const { responses } = await rawExchange(herald, plan.map((p) => p.bytes).join(''), { responses: plan.length });
      assert.equal(responses.length, plan.length, `got ${responses.length} of ${plan.length} answers`);
      let seq = 0;
      const expectedData = [];
      plan.forEach((p, i) => {
        const r = responses[i];
        if (p.kind === 'ok') {
          assert.equal(r.status, 200, `answer ${i}: ${JSON.stringify(r.body)}`);
          seq += 1;
          assert.deepEqual(r.body, { groups: { [g]: { seq } } }, `answer ${i}`);
          expectedData.push(seq);
        } else if (p.kind === 'direct') {
          assert.deepEqual(r.body, { delivered: 1 }, `answer ${i}`);
          expectedData.push('to-user');
        } else if (p.kind === 'health') {
          assert.deepEqual(r.body, { ok: true }, `answer ${i}`);
        } else {
          assert.equal(r.status, 400, `answer ${i}: ${JSON.stringify(r.body)}`);
          assert.equal(r.body.error.code, 'bad_request');
        }
      });
      assert.deepEqual(await receivedData(herald.url, session), expectedData);
    });

    test('stop at a publish that asks to close: it is answered, nothing behind it is performed', async () => {
      const g = uniq('pipe');
      const session = await enter(herald.url, uniq('u'), [g]);
      const bytes = [1, 2].map((i) => publishBytes(host, { group: g, data: i })).join('')
        + publishBytes(host, { group: g, data: 3 }, { close: true })
        + [4, 5].map((i) => publishBytes(host, { group: g, data: i })).join('');
      const { responses, closed } = await rawExchange(herald, bytes, { responses: 5 });
      assert.equal(closed, true, 'the connection closes after the answer that asked for it');
      assert.deepEqual(responses.map((r) => r.body.groups[g].seq), [1, 2, 3]);
      assert.deepEqual(await receivedData(herald.url, session), [1, 2, 3]);
    });
  });
}
