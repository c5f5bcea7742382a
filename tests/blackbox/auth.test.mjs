// Authentication (protocol-v1 "Authentication"): JWS tokens on enter (HS256, RS256,
// ES256), `sub` binds the user, the `groups` claim, `exp` ends the session unless a
// ping renews it, `aud`/`iss`, and what auth never touches. Tokens are minted here
// with node:crypto (lib/jwt.mjs); the server verifies them with libjwt + OpenSSL.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {
  after, assertError, call, callError, describe, Inbox, is, listen, openSse, request, rpc, runHerald,
  test, uniq, useHerald,
} from './lib/herald.mjs';
import { claimsFor, keyPairFile, nowSeconds, signJwt } from './lib/jwt.mjs';
import { scrape, valueOf } from './lib/metrics.mjs';

const SECRET = 'test-secret-' + crypto.randomBytes(8).toString('hex');
const hs = (claims, header) => signJwt(claims, { key: SECRET, header });

async function sessionCount(herald) {
  return valueOf(await scrape(herald), 'herald_sessions');
}

// Asserts that `enter` with these params is refused with `status`/`code` and that no
// session was created meanwhile.
async function assertEnterRefused(herald, params, status, code) {
  const before = await sessionCount(herald);
  const r = await callError(herald.url, 'enter', params, status, code);
  assert.equal(await sessionCount(herald), before, 'a refused enter created a session');
  return r;
}

describe('--jwt-hs256-secret', () => {
  const herald = useHerald(['--jwt-hs256-secret', SECRET]);

  test('enter with a valid token: the session\'s user is the token\'s sub, user may be omitted', async () => {
    const sub = uniq('alice');
    const r = await call(herald.url, 'enter', { token: hs(claimsFor(sub)) });
    assert.equal(r.user, sub);
    const same = await call(herald.url, 'enter', { user: sub, token: hs(claimsFor(sub)) });
    assert.equal(same.user, sub);
  });

  test('a user other than sub is forbidden and creates no session', async () => {
    await assertEnterRefused(herald, { user: 'mallory', token: hs(claimsFor(uniq('alice'))) }, 403, 'forbidden');
  });

  test('every bad token is unauthorized and creates no session', async () => {
    const sub = uniq('bob');
    const good = hs(claimsFor(sub));
    const [head, body] = good.split('.');
    const cases = {
      'no token': { user: sub },
      'empty token': { user: sub, token: '' },
      'not a JWS': { token: 'not-a-token' },
      'bad signature': { token: `${head}.${body}.${Buffer.from('x'.repeat(32)).toString('base64url')}` },
      'signed with another secret': { token: signJwt(claimsFor(sub), { key: 'other-secret' }) },
      'alg none': { token: signJwt(claimsFor(sub), { alg: 'none' }) },
      'alg none without the trailing dot': { token: signJwt(claimsFor(sub), { alg: 'none' }).slice(0, -1) },
      'claims changed after signing': { token: `${head}.${Buffer.from(JSON.stringify(claimsFor('root'))).toString('base64url')}.${good.split('.')[2]}` },
      'past exp': { token: hs(claimsFor(sub, -10)) },
      'no exp': { token: hs({ sub }) },
      'exp not a number': { token: hs({ sub, exp: 'tomorrow' }) },
      'future nbf': { token: hs(claimsFor(sub, 300, { nbf: nowSeconds() + 120 })) },
      'no sub': { token: hs({ exp: nowSeconds() + 300 }) },
      'sub not a string': { token: hs({ sub: 42, exp: nowSeconds() + 300 }) },
      'groups not an array': { token: hs(claimsFor(sub, 300, { groups: 'room.*' })) },
      'RS256 token on an HS256-only node': { token: signJwt(claimsFor(sub), { alg: 'RS256', key: crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey }) },
      'token not a string': { token: 42 },
    };
    for (const [what, params] of Object.entries(cases)) {
      const expected = what === 'token not a string' ? [400, 'bad_request'] : [401, 'unauthorized'];
      const r = await assertEnterRefused(herald, params, ...expected).catch((err) => {
        err.message = `${what}: ${err.message}`;
        throw err;
      });
      assert.equal(typeof r.body.error.message, 'string', what);
    }
  });

  test('the groups claim limits enter, join, speak, history and presence to its patterns', async () => {
    const sub = uniq('carol');
    const room = uniq('room');
    const token = hs(claimsFor(sub, 300, { groups: [`${room}.*`, 'exact'] }));
    await assertEnterRefused(herald, { token, groups: [`${room}.a`, 'lobby'] }, 403, 'forbidden');
    const r = await call(herald.url, 'enter', { token, groups: [`${room}.a`, 'exact'] });
    const session = r.session;
    await call(herald.url, 'join', { session, group: `${room}.b` });
    await call(herald.url, 'join', { session, group: `${room}.` }); // `*` matches an empty run too
    for (const [method, params] of [
      ['join', { group: 'lobby' }],
      ['join', { group: `x${room}.a` }],
      ['join', { group: 'exactly' }],
      ['speak', { group: 'lobby', data: 1 }],
      ['speak', { groups: [`${room}.a`, 'lobby'], data: 1 }],
      ['history', { group: 'lobby' }],
      ['presence', { group: 'lobby' }],
    ])
      await callError(herald.url, method, { session, ...params }, 403, 'forbidden');
    const spoken = await call(herald.url, 'speak', { session, group: `${room}.a`, data: 'hi' });
    assert.equal(spoken.groups[`${room}.a`].seq, 1);
    // The refused speak of two groups published to neither.
    const history = await call(herald.url, 'history', { session, group: `${room}.a` });
    assert.deepEqual(history.messages.map((m) => m.data), ['hi']);
    assert.ok((await call(herald.url, 'presence', { session, group: 'exact' })).users.includes(sub));
  });

  test('a session ends when its token\'s exp passes, even with a long-poll waiting: leave expired', async () => {
    const group = uniq('g');
    const watcher = (await call(herald.url, 'enter', { token: hs(claimsFor(uniq('watcher'))), groups: [group] })).session;
    const sub = uniq('short');
    const short = (await call(herald.url, 'enter', { token: hs(claimsFor(sub, 2)), groups: [group] })).session;
    const drained = await listen(herald.url, short, 0, 0); // its own join
    const waiting = listen(herald.url, short, drained.body.cursor, 30); // would keep a lease alive for 30 s
    const inbox = new Inbox(herald.url, watcher);
    await inbox.until(is.leave(group, sub, 'expired'), { boundMs: 15_000, what: 'leave expired' });
    const r = await waiting;
    assert.equal(r.status, 404, r.text);
    assert.equal(r.body?.error?.code, 'unknown_session');
    await callError(herald.url, 'ping', { session: short }, 404, 'unknown_session');
  });

  test('a ping with a fresh token of the same sub renews the session past the first exp', async () => {
    const group = uniq('g');
    const sub = uniq('renewed');
    const firstExp = nowSeconds() + 2;
    const session = (await call(herald.url, 'enter', { token: hs({ sub, exp: firstExp }), groups: [group] })).session;
    await callError(herald.url, 'ping', { session, token: hs(claimsFor(uniq('other'), 60)) }, 403, 'forbidden');
    await callError(herald.url, 'ping', { session, token: signJwt(claimsFor(sub, 60), { key: 'wrong' }) }, 401, 'unauthorized');
    const pong = await call(herald.url, 'ping', { session, token: hs(claimsFor(sub, 60)) });
    assert.equal(typeof pong.time, 'number');
    // Real time must pass the first exp: the server's own 1 s long-poll timeout is the clock.
    const inbox = new Inbox(herald.url, session);
    for (let rounds = 0; nowSeconds() <= firstExp + 1; rounds++) {
      assert.ok(rounds < 20, 'long-polls did not let time pass');
      await inbox.poll(1);
    }
    await call(herald.url, 'ping', { session });
    assert.equal(inbox.events.some(is.leave(group, sub)), false, JSON.stringify(inbox.events));
    assert.ok((await call(herald.url, 'presence', { session, group })).users.includes(sub));
  });

  test('SSE implicit enter takes ?token=: 401 for a bad one, the sub\'s session for a good one', async () => {
    const bad = await openSse(herald, { token: signJwt(claimsFor('x'), { key: 'wrong' }), groups: 'g' });
    await bad.ended;
    assert.equal(bad.status, 401, bad.text);
    assert.equal(JSON.parse(bad.text).error.code, 'unauthorized');
    const forbidden = await openSse(herald, { token: hs(claimsFor('x', 60, { groups: ['a'] })), groups: 'b' });
    await forbidden.ended;
    assert.equal(forbidden.status, 403, forbidden.text);
    const sub = uniq('sse');
    const sse = await openSse(herald, { token: hs(claimsFor(sub)), groups: uniq('g') });
    try {
      assert.equal(sse.status, 200);
      const ev = await sse.untilEvent((e) => e.event === 'session', { what: 'the session event' });
      assert.equal(ev.json.user, sub);
    } finally {
      sse.req.destroy();
    }
  });

  test('auth never applies to /healthz, /readyz, /metrics; POST /v1/publish keeps its own rules', async () => {
    for (const p of ['/healthz', '/readyz', '/metrics'])
      assert.equal((await request(herald, { path: p })).status, 200, p);
    const r = await request(herald, {
      method: 'POST', path: '/v1/publish', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ group: uniq('g'), data: 1 }),
    });
    assert.equal(r.status, 200, r.text);
  });

  test('a token of another node\'s secret and a batch mixing good and bad enters', async () => {
    const sub = uniq('batch');
    const r = await rpc(herald.url, [
      { id: 1, method: 'enter', params: { token: hs(claimsFor(sub)) } },
      { id: 2, method: 'enter', params: { token: signJwt(claimsFor(sub), { key: 'elsewhere' }) } },
    ]);
    assert.equal(r.status, 200);
    assert.equal(r.body[0].result.user, sub);
    assertError({ status: 401, body: r.body[1] }, 401, 'unauthorized');
  });
});

describe('--jwt-audience and --jwt-issuer', () => {
  const herald = useHerald(['--jwt-hs256-secret', SECRET, '--jwt-audience', 'herald', '--jwt-issuer', 'https://issuer.test']);
  const iss = 'https://issuer.test';

  test('aud (a string or an array naming it) and iss are required', async () => {
    const sub = uniq('aud');
    assert.equal((await call(herald.url, 'enter', { token: hs(claimsFor(sub, 60, { aud: 'herald', iss })) })).user, sub);
    assert.equal((await call(herald.url, 'enter', { token: hs(claimsFor(sub, 60, { aud: ['x', 'herald'], iss })) })).user, sub);
    for (const claims of [
      claimsFor(sub, 60, { iss }),
      claimsFor(sub, 60, { aud: 'other', iss }),
      claimsFor(sub, 60, { aud: ['x'], iss }),
      claimsFor(sub, 60, { aud: 'herald' }),
      claimsFor(sub, 60, { aud: 'herald', iss: 'https://evil.test' }),
    ])
      await assertEnterRefused(herald, { token: hs(claims) }, 401, 'unauthorized');
  });
});

for (const [kind, alg] of [['rsa', 'RS256'], ['ec', 'ES256']]) {
  describe(`--jwt-public-key with an ${kind.toUpperCase()} key (${alg})`, () => {
    const keys = keyPairFile(kind);
    after(() => keys.cleanup());
    const herald = useHerald(['--jwt-public-key', keys.file]);

    test(`${alg} tokens signed by the key are accepted`, async () => {
      const sub = uniq(kind);
      const r = await call(herald.url, 'enter', { token: signJwt(claimsFor(sub), { alg, key: keys.privateKey }) });
      assert.equal(r.user, sub);
    });

    test('another key, another alg, and the public key used as an HMAC secret are unauthorized', async () => {
      const sub = uniq(kind);
      const other = keyPairFile(kind);
      try {
        for (const token of [
          signJwt(claimsFor(sub), { alg, key: other.privateKey }),
          signJwt(claimsFor(sub), { alg: 'HS256', key: keys.pem }), // the classic alg confusion
          signJwt(claimsFor(sub), { alg: 'none' }),
        ])
          await assertEnterRefused(herald, { token }, 401, 'unauthorized');
      } finally {
        other.cleanup();
      }
    });
  });
}

describe('a bad --jwt-public-key stops the node at start', () => {
  test('a missing file, or one without a usable public key, exits 2 naming the flag', async () => {
    const ed = crypto.generateKeyPairSync('ed25519');
    const keys = keyPairFile('ec');
    try {
      const fs = await import('node:fs');
      const garbage = keys.file.replace(/ec\.pem$/, 'garbage.pem');
      fs.writeFileSync(garbage, 'not a key');
      const edFile = keys.file.replace(/ec\.pem$/, 'ed.pem');
      fs.writeFileSync(edFile, ed.publicKey.export({ type: 'spki', format: 'pem' }));
      for (const file of ['/nonexistent/key.pem', garbage, edFile]) {
        const r = await runHerald(['--listen', '127.0.0.1:0', '--jwt-public-key', file]);
        assert.equal(r.code, 2, `${file}: ${r.stderr}`);
        assert.match(r.stderr, /--jwt-public-key/);
      }
    } finally {
      keys.cleanup();
    }
  });
});
