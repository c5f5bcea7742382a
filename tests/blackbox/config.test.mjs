// Configuration: --help, bad values, the config file, and the precedence
// flag > environment > file.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  call, describe, enter, Inbox, is, request, rpc, runHerald, test, uniq, withHerald,
} from './lib/herald.mjs';

/** Speaks `n` messages into a group a listener joined; returns what the listener received up to the last one. */
async function eventsAfterSpeaking(url, n) {
  const g = uniq('g');
  const speaker = await enter(url, 'speaker', [g]);
  const listener = await enter(url, 'listener', [g]);
  for (let i = 1; i <= n; i++) await call(url, 'speak', { session: speaker, group: g, data: i });
  const inbox = new Inbox(url, listener);
  await inbox.until(is.message(g, n));
  return inbox.events;
}

describe('command line', () => {
  test('--help exits 0 and lists every contract flag', async () => {
    const r = await runHerald(['--help']);
    assert.equal(r.code, 0, `exit code ${r.code}; stderr: ${r.stderr}`);
    const text = r.stdout + r.stderr;
    for (const flag of [
      '--listen', '--node', '--cluster-listen', '--peers', '--peers-dns', '--config', '--allow-origin', '--api-key',
      '--jsonp', '--log-level', '--lease', '--max-lease', '--queue-max', '--history', '--notify-presence',
      '--notify-presence-max', '--undeclared-groups', '--max-body', '--max-data', '--heartbeat', '--listen-timeout',
      '--drain-timeout',
    ]) {
      assert.match(text, new RegExp(`${flag}\\b`), `--help does not list ${flag}`);
    }
  });

  for (const [flag, value] of [
    ['--queue-max', 'banana'],
    ['--queue-max', '1'],
    ['--lease', 'soon'],
    ['--lease', '0'],
    ['--max-body', '-5'],
    ['--undeclared-groups', 'sometimes'],
    ['--notify-presence', 'maybe'],
    ['--listen', 'no-port-here'],
  ]) {
    test(`${flag} ${value} exits non-zero with a message naming ${flag}`, async () => {
      const args = flag === '--listen' ? [flag, value] : ['--listen', '127.0.0.1:0', flag, value];
      const r = await runHerald(args);
      assert.notEqual(r.code, 0, `herald accepted ${flag} ${value}`);
      assert.equal(r.signal, null, `herald crashed on ${flag} ${value}: ${r.signal}`);
      assert.match(r.stdout + r.stderr, new RegExp(flag.slice(2)), `the message must name ${flag}: ${r.stderr}`);
    });
  }

  test('a bad value in the environment exits non-zero naming the setting', async () => {
    const r = await runHerald(['--listen', '127.0.0.1:0'], { env: { HERALD_QUEUE_MAX: 'lots' } });
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /queue.max|QUEUE_MAX/i);
  });
});

describe('config file', () => {
  test('declared groups from the file: bitmask names them, notify false silences them, history length applies', async () => {
    const configJson = {
      groups: [
        { name: 'lobby', bit: 1, title: 'Group for SOne', notify: true, history: 100 },
        { name: 'quiet', bit: 2, title: 'Quiet', notify: false, history: 2 },
      ],
    };
    await withHerald([], { configJson }, async ({ url }) => {
      const r = await call(url, 'enter', { user: 'cfg', groups: 3 });
      assert.deepEqual(Object.keys(r.groups).sort(), ['lobby', 'quiet']);
      const s = r.session;
      const visitor = await enter(url, uniq('visitor'), ['quiet']);
      await call(url, 'exit', { session: visitor });
      for (let i = 1; i <= 3; i++) await call(url, 'speak', { session: s, group: 'quiet', data: i });
      const inbox = new Inbox(url, s);
      await inbox.until(is.message('quiet', 3));
      assert.equal(inbox.events.some((e) => (e.type === 'join' || e.type === 'leave') && e.group === 'quiet'), false);
      assert.ok(inbox.events.some(is.join('lobby', 'cfg')), 'lobby notifies');
      const h = await call(url, 'history', { session: s, group: 'quiet' });
      assert.deepEqual(h.messages.map((m) => m.data), [2, 3]);
    });
  });

  test('settings from the file apply: lease, allow-origin list, undeclared-groups', async () => {
    const configJson = {
      lease: 7,
      'allow-origin': ['http://x.test'],
      'undeclared-groups': 'refuse',
      groups: [{ name: 'only' }],
    };
    await withHerald([], { configJson }, async ({ url }) => {
      const r = await call(url, 'enter', { user: 'f' });
      assert.equal(r.lease, 7);
      const cors = await rpc(url, { method: 'ping' }, { headers: { Origin: 'http://x.test' } });
      assert.equal(cors.headers['access-control-allow-origin'], 'http://x.test');
      const refused = await rpc(url, { id: 1, method: 'join', params: { session: r.session, group: 'other' } });
      assert.equal(refused.body.error?.code, 'not_found', refused.text);
    });
  });

  test('the environment overrides the file and a flag overrides the environment (lease)', async () => {
    const configJson = { lease: 7 };
    await withHerald([], { configJson }, async ({ url }) => {
      assert.equal((await call(url, 'enter', { user: 'f' })).lease, 7);
    });
    await withHerald([], { configJson, env: { HERALD_LEASE: '8' } }, async ({ url }) => {
      assert.equal((await call(url, 'enter', { user: 'e' })).lease, 8);
    });
    await withHerald(['--lease', '9'], { configJson, env: { HERALD_LEASE: '8' } }, async ({ url }) => {
      assert.equal((await call(url, 'enter', { user: 'f' })).lease, 9);
    });
  });

  test('HERALD_QUEUE_MAX overrides queue-max of the file', async () => {
    await withHerald([], { configJson: { 'queue-max': 100 }, env: { HERALD_QUEUE_MAX: '3' } }, async ({ url }) => {
      const events = await eventsAfterSpeaking(url, 10);
      assert.equal(events[0].type, 'overflow', `queue-max 3 must overflow with 11 events: ${JSON.stringify(events)}`);
    });
  });

  test('--queue-max overrides HERALD_QUEUE_MAX', async () => {
    await withHerald(['--queue-max', '50'], { env: { HERALD_QUEUE_MAX: '3' } }, async ({ url }) => {
      const events = await eventsAfterSpeaking(url, 10);
      assert.equal(events.some((e) => e.type === 'overflow'), false, JSON.stringify(events));
      assert.deepEqual(events.filter((e) => e.type === 'message').map((e) => e.data), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    });
  });

  test('a boolean setting from the environment takes on/off (HERALD_JSONP=on)', async () => {
    await withHerald([], { env: { HERALD_JSONP: 'on' } }, async (herald) => {
      const r = await request(herald, { path: `/v1/rpc?q=${encodeURIComponent('{"method":"ping"}')}&callback=cb` });
      assert.equal(r.status, 200, r.text);
      assert.match(r.text, /^cb\(/);
    });
    await withHerald(['--notify-presence', 'off'], {}, async ({ url }) => {
      const g = uniq('g');
      const s = await enter(url, 'quietly', [g]);
      await call(url, 'speak', { session: s, group: g, data: 'marker' });
      const inbox = new Inbox(url, s);
      await inbox.until(is.message(g, 'marker'));
      assert.equal(inbox.events.some((e) => e.type === 'join'), false);
    });
  });

  test('a config file that is not JSON makes herald exit non-zero', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-bb-'));
    const file = path.join(dir, 'broken.json');
    fs.writeFileSync(file, '{ "lease": 7, ');
    try {
      const r = await runHerald(['--listen', '127.0.0.1:0', '--config', file]);
      assert.notEqual(r.code, 0);
      assert.equal(r.signal, null);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a config file with a missing path makes herald exit non-zero', async () => {
    const r = await runHerald(['--listen', '127.0.0.1:0', '--config', path.join(os.tmpdir(), `herald-missing-${uniq('c')}.json`)]);
    assert.notEqual(r.code, 0);
    assert.equal(r.signal, null);
  });

  test('declared groups with a bit that is not a power of two, or a duplicate bit, are refused at start', async () => {
    for (const groups of [
      [{ name: 'a', bit: 3 }],
      [{ name: 'a', bit: 2 }, { name: 'b', bit: 2 }],
      [{ name: 'a' }, { name: 'a' }],
    ]) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-bb-'));
      const file = path.join(dir, 'config.json');
      fs.writeFileSync(file, JSON.stringify({ groups }));
      try {
        const r = await runHerald(['--listen', '127.0.0.1:0', '--config', file]);
        assert.notEqual(r.code, 0, `accepted ${JSON.stringify(groups)}`);
        assert.equal(r.signal, null);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  });

  test('a listen timeout default comes from --listen-timeout', async () => {
    await withHerald(['--listen-timeout', '1'], {}, async ({ url }) => {
      const s = await enter(url, 'lt');
      // No timeout given: the server's 1 s default applies, so this returns empty well within the bound.
      const r = await request(url, { path: `/v1/listen?session=${s}&cursor=0`, boundMs: 10_000 });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body, { events: [], cursor: 0 });
    });
  });
});
