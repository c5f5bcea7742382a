// Session ids are capabilities (issue 15, finding 1): they must come from the
// system's CSPRNG and never appear whole in a log line.
//
// The test mounts the attack that broke the old ids: each id was two raw
// mt19937_64 outputs in base62, and 312 consecutive outputs (156 ids) give the
// generator's whole state, hence every later id. Against ids from getrandom the
// prediction fails; against the old generator it succeeded.

import assert from 'node:assert/strict';
import { call, describe, rpc, test, uniq, useHerald } from './lib/herald.mjs';

const MASK = (1n << 64n) - 1n;
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

// --- MT19937-64, enough of it to recover a state and predict ----------------------
const N = 312;
const M = 156;
const MATRIX_A = 0xb5026f5aa96619e9n;
const UPPER = 0xffffffff80000000n;
const LOWER = 0x7fffffffn;

function temper(x) {
  let y = x;
  y ^= (y >> 29n) & 0x5555555555555555n;
  y ^= (y << 17n) & 0x71d67fffeda60000n & MASK;
  y ^= (y << 37n) & 0xfff7eee000000000n & MASK;
  y ^= y >> 43n;
  return y & MASK;
}

function untemper(value) {
  let y = value;
  y ^= y >> 43n;
  y ^= (y << 37n) & 0xfff7eee000000000n & MASK;
  let r = y;
  for (let i = 0; i < 4; i++) r = (y ^ ((r << 17n) & 0x71d67fffeda60000n)) & MASK;
  y = r;
  r = y;
  for (let i = 0; i < 3; i++) r = y ^ ((r >> 29n) & 0x5555555555555555n);
  return r & MASK;
}

// Given the untempered outputs k … k+311, the next output is a function of three of them.
function predictNext(window) {
  const x = (window[0] & UPPER) | (window[1] & LOWER);
  let xa = x >> 1n;
  if (x & 1n) xa ^= MATRIX_A;
  return temper(window[M] ^ xa);
}

function mt64(seed) {
  const mt = new Array(N);
  mt[0] = BigInt(seed) & MASK;
  for (let i = 1; i < N; i++) mt[i] = (6364136223846793005n * (mt[i - 1] ^ (mt[i - 1] >> 62n)) + BigInt(i)) & MASK;
  let index = N;
  return () => {
    if (index >= N) {
      for (let i = 0; i < N; i++) {
        const x = (mt[i] & UPPER) | (mt[(i + 1) % N] & LOWER);
        let xa = x >> 1n;
        if (x & 1n) xa ^= MATRIX_A;
        mt[i] = mt[(i + M) % N] ^ xa;
      }
      index = 0;
    }
    return temper(mt[index++]);
  };
}

// An id's random part: two 64-bit words, 11 base62 digits each, least significant first.
function wordsOf(id) {
  const random = id.slice(id.indexOf('_') + 1);
  const words = [];
  for (let w = 0; w < 2; w++) {
    let value = 0n;
    for (let k = 10; k >= 0; k--) value = value * 62n + BigInt(ALPHABET.indexOf(random[w * 11 + k]));
    words.push(value);
  }
  return words;
}

describe('session ids', () => {
  const herald = useHerald(['--node', 'idtest']);

  test('the attack itself works: 312 outputs of mt19937_64 predict the 313th', () => {
    const next = mt64(0x1234abcd);
    const outputs = Array.from({ length: N + 1 }, next);
    const window = outputs.slice(0, N).map(untemper);
    assert.equal(predictNext(window), outputs[N]);
    for (const x of outputs.slice(0, 8)) assert.equal(temper(untemper(x)), x);
  });

  test('ids are <node>_<22 base62 chars> and 157 consecutive ones do not predict the next', async () => {
    const ids = [];
    // Batches run their commands one after another, so these ids were drawn in this order.
    for (const size of [100, 57]) {
      const batch = Array.from({ length: size }, (_, i) => ({ id: i, method: 'enter', params: { user: uniq('u') } }));
      const r = await rpc(herald.url, batch);
      assert.equal(r.status, 200);
      for (const reply of r.body) ids.push(reply.result.session);
    }
    for (const id of ids) assert.match(id, /^idtest_[0-9A-Za-z]{22}$/);
    assert.equal(new Set(ids).size, ids.length, 'ids are unique');

    const words = ids.flatMap(wordsOf);
    for (const w of words) assert.ok(w <= MASK, 'each 11-char half encodes one 64-bit word');
    const window = words.slice(0, N).map(untemper);
    const predicted = predictNext(window);
    assert.notEqual(predicted, words[N], 'the 157th id was predicted from the 156 before it');
  });

  test('no log line carries a whole session id', async () => {
    const session = (await call(herald.url, 'enter', { user: uniq('logged') })).session;
    await call(herald.url, 'ping', { session });
    await call(herald.url, 'exit', { session });
    const random = session.slice(session.indexOf('_') + 1);
    // The debug log (the harness starts every node with --log-level debug) names the session
    // when its directory hears that it ended, which may come just after exit's answer.
    const deadline = Date.now() + 10_000;
    while (!herald.server.logs().includes('"session ended"')) {
      assert.ok(Date.now() < deadline, `no "session ended" log line after exit:\n${herald.server.logs()}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(herald.server.logs().includes(random.slice(0, 12)), false, 'a log line shows the id');
  });
});
