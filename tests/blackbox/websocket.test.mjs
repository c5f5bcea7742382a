// GET /v1/ws: the WebSocket transport (subprotocol herald.v1). Commands, replies
// and events travel as text frames; `attach` resumes a session by eid; protocol
// violations close the socket without harming the node. Close codes are listed in
// docs/protocol.md ("WebSocket").

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import net from 'node:net';
import WebSocket from 'ws';
import {
  assertAlive, assertError, assertKeys, assertTime, bounded, call, describe, enter, rawExchange, test, uniq,
  unknownSessionLike, useHerald, withHerald,
} from './lib/herald.mjs';

const BOUND_MS = 10_000;

/**
 * One WebSocket client. Keeps every frame received (parsed JSON) in `frames`;
 * `until(pred)` waits for a frame matching `pred`; `closed` resolves to
 * {code, reason} when the connection ends.
 */
class Client {
  /** Opens a socket to `server` and resolves once it is open. */
  static async open(server, { protocols = ['herald.v1'], origin, perMessageDeflate = false } = {}) {
    const url = `ws://${server.host}:${server.port}/v1/ws`;
    const ws = new WebSocket(url, protocols, { origin, perMessageDeflate });
    const client = new Client(ws);
    await bounded(
      new Promise((resolve, reject) => {
        ws.once('upgrade', (res) => (client.upgradeHeaders = res.headers));
        ws.once('open', resolve);
        ws.once('error', reject);
      }),
      BOUND_MS,
      'a WebSocket to open',
      () => ws.terminate(),
    );
    return client;
  }

  constructor(ws) {
    this.ws = ws;
    this.frames = [];
    this.binaryFrames = 0;
    this.waiters = new Set();
    ws.on('message', (data, isBinary) => {
      if (isBinary) this.binaryFrames += 1;
      else this.frames.push(JSON.parse(data.toString('utf8')));
      this.wake();
    });
    ws.on('error', () => {}); // the close event tells what happened
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString('utf8') };
        this.wake();
        resolve(this.closeInfo);
      });
    });
  }

  wake() {
    for (const w of [...this.waiters]) w();
  }

  send(frame) {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Resolves to the first frame satisfying `pred` (already received or later). */
  until(pred, what = 'a matching frame', ms = BOUND_MS) {
    let waiter;
    const found = new Promise((resolve, reject) => {
      waiter = () => {
        const frame = this.frames.find(pred);
        if (frame !== undefined) resolve(frame);
        else if (this.closeInfo) reject(new Error(`socket closed (${JSON.stringify(this.closeInfo)}) before ${what}; got ${JSON.stringify(this.frames)}`));
      };
      this.waiters.add(waiter);
      waiter();
    });
    return bounded(found, ms, `${what}; got ${JSON.stringify(this.frames).slice(0, 2000)}`).finally(() => this.waiters.delete(waiter));
  }

  /** Sends a command frame and resolves to the reply frame carrying its id. */
  request(frame) {
    this.send(frame);
    return this.until((f) => !Array.isArray(f) && f.id === frame.id && !('type' in f), `the reply to ${JSON.stringify(frame)}`);
  }

  /** Like request, expecting a result; returns it. */
  async call(method, params = {}) {
    const id = uniq('id');
    const reply = await this.request({ id, method, params });
    assert.ok('result' in reply, `${method} failed: ${JSON.stringify(reply)}`);
    return reply.result;
  }

  /** Events (frames with an eid) received so far. */
  events() {
    return this.frames.filter((f) => !Array.isArray(f) && typeof f.eid === 'number');
  }

  /** Waits until the connection ended; returns {code, reason}. */
  waitClosed(what = 'the server to close the socket') {
    return bounded(this.closed, BOUND_MS, what, () => this.ws.terminate());
  }

  close() {
    this.ws.terminate();
  }
}

/** Resolves to the HTTP response that refused the upgrade: {status, body}. */
function refusedUpgrade(server, { protocols, origin }) {
  const ws = new WebSocket(`ws://${server.host}:${server.port}/v1/ws`, protocols, { origin });
  const refused = new Promise((resolve, reject) => {
    ws.once('open', () => reject(new Error('the upgrade was accepted')));
    ws.once('unexpected-response', (req, res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: JSON.parse(text) }));
    });
    ws.once('error', () => {});
  });
  return bounded(refused, BOUND_MS, 'the upgrade to be refused', () => ws.terminate()).finally(() => ws.terminate());
}

// --- raw frames ----------------------------------------------------------------

/** A client frame: FIN + `opcode`, masked unless `mask` is false, RSV bits as given. */
function rawFrame(opcode, payload, { mask = true, rsv = 0 } = {}) {
  const body = Buffer.from(payload);
  assert.ok(body.length < 126);
  const head = Buffer.from([0x80 | rsv | opcode, (mask ? 0x80 : 0) | body.length]);
  if (!mask) return Buffer.concat([head, body]);
  const key = crypto.randomBytes(4);
  const masked = Buffer.from(body.map((b, i) => b ^ key[i % 4]));
  return Buffer.concat([head, key, masked]);
}

/**
 * Opens a raw TCP connection, performs the WebSocket handshake, sends `frame`,
 * and resolves to {closeCode} once the server ended the connection (closeCode is
 * the code of the server's close frame, or undefined when none came).
 */
async function sendRawFrame(server, frame) {
  const socket = net.connect({ host: server.host, port: server.port });
  const key = crypto.randomBytes(16).toString('base64');
  let buf = Buffer.alloc(0);
  let upgraded = false;
  let closeCode;
  const ended = new Promise((resolve, reject) => {
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString('latin1');
        if (!head.startsWith('HTTP/1.1 101')) return reject(new Error(`handshake refused: ${head}`));
        upgraded = true;
        buf = buf.subarray(end + 4);
        socket.write(frame);
      }
      // Server frames are unmasked; a close frame carries its code first.
      while (buf.length >= 2) {
        const len = buf[1] & 0x7f;
        if (len >= 126 || buf.length < 2 + len) break;
        if ((buf[0] & 0x0f) === 0x8 && len >= 2) closeCode = buf.readUInt16BE(2);
        buf = buf.subarray(2 + len);
      }
    });
    socket.on('close', () => resolve({ closeCode, upgraded }));
    socket.on('error', () => {});
  });
  socket.on('connect', () => {
    socket.write(
      `GET /v1/ws HTTP/1.1\r\nHost: ${server.host}:${server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`
        + `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: herald.v1\r\n\r\n`,
    );
  });
  const result = await bounded(ended, BOUND_MS, 'the server to end a connection after a malformed frame', () => socket.destroy());
  assert.ok(result.upgraded, 'the handshake did not complete');
  return result;
}

// ---------------------------------------------------------------------------------

describe('WebSocket transport', () => {
  const herald = useHerald(['--ws-max-frame', '1024', '--heartbeat', '1']);

  test('herald.v1 is answered when offered; no offer is accepted; only foreign subprotocols get 400', async () => {
    const offered = await Client.open(herald);
    assert.equal(offered.ws.protocol, 'herald.v1');
    assert.equal(offered.upgradeHeaders.server, 'herald');
    offered.close();

    const native = await Client.open(herald, { protocols: [] });
    assert.equal(native.ws.protocol, '');
    assert.ok((await native.call('ping')).time > 0);
    native.close();

    const among = await Client.open(herald, { protocols: ['chat.v9', 'herald.v1'] });
    assert.equal(among.ws.protocol, 'herald.v1');
    among.close();

    const foreign = await refusedUpgrade(herald, { protocols: ['chat.v9'] });
    assert.equal(foreign.status, 400);
    assert.equal(foreign.body.error.code, 'bad_request');
    assert.match(foreign.body.error.message, /herald\.v1/);
  });

  test('a malformed handshake is refused with 400 and the error shape', async () => {
    const head = (extra) => `GET /v1/ws HTTP/1.1\r\nHost: ${herald.host}:${herald.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${extra}\r\n`;
    const cases = [
      ['no key', head('Sec-WebSocket-Version: 13\r\n'), /Sec-WebSocket-Key/],
      ['short key', head('Sec-WebSocket-Key: abc==\r\nSec-WebSocket-Version: 13\r\n'), /Sec-WebSocket-Key/],
      ['version 8', head('Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n'), /Sec-WebSocket-Version/],
    ];
    for (const [what, bytes, field] of cases) {
      const { responses } = await rawExchange(herald, bytes);
      assert.equal(responses.length, 1, what);
      assertError(responses[0], 400, 'bad_request', what);
      assert.match(responses[0].body.error.message, field, what);
      assert.equal(responses[0].headers['sec-websocket-version'], '13', what);
    }
    await assertAlive(herald);
  });

  test('enter over the socket: reply first, then the own join event and messages of others', async () => {
    const g = uniq('g');
    const c = await Client.open(herald);
    const reply = await c.request({ id: 'e1', method: 'enter', params: { user: 'wsalice', groups: [g] } });
    assert.equal(typeof reply.result.session, 'string', JSON.stringify(reply));
    const join = await c.until((f) => f.type === 'join' && f.group === g, 'the own join event');
    assert.equal(join.eid, 1);
    assert.equal(join.user, 'wsalice');
    assertTime(join.time);
    assert.ok(c.frames.indexOf(reply) < c.frames.indexOf(join), 'the enter reply comes before the stream');

    const bob = await enter(herald.url, 'wsbob', []);
    await call(herald.url, 'speak', { session: bob, group: g, data: { hello: 'ws' } });
    const message = await c.until((f) => f.type === 'message' && f.group === g, 'the message spoken over HTTP');
    assertKeys(message, ['type', 'eid', 'group', 'seq', 'epoch', 'from', 'data', 'time'], 'message event');
    assert.equal(message.eid, 2);
    assert.equal(message.from, 'wsbob');
    assert.deepEqual(message.data, { hello: 'ws' });
    c.close();
  });

  test('replies are correlated by id; a batch is answered by one array frame', async () => {
    const c = await Client.open(herald);
    c.send({ id: 'first', method: 'ping' });
    c.send({ id: 2, method: 'presence', params: { session: 'nobody_here', group: 'x' } });
    const first = await c.until((f) => f.id === 'first', 'the reply with id "first"');
    const second = await c.until((f) => f.id === 2, 'the reply with id 2');
    assert.ok(first.result.time > 0);
    assert.equal(second.error.code, 'unknown_session');

    c.send([{ id: 'b1', method: 'ping' }, { id: 'b2', method: 'nosuch' }, { id: 'b3', method: 'ping' }]);
    const batch = await c.until((f) => Array.isArray(f), 'the batch reply');
    assert.deepEqual(batch.map((r) => r.id), ['b1', 'b2', 'b3']);
    assert.ok(batch[0].result.time > 0);
    assert.equal(batch[1].error.code, 'not_found');

    c.send('{not json');
    const bad = await c.until((f) => !Array.isArray(f) && f.error && !('id' in f), 'the reply to a frame that is not JSON');
    assert.equal(bad.error.code, 'bad_request');

    const listen = await c.request({ id: 'l', method: 'listen', params: { session: 'abc', cursor: 0 } });
    assert.equal(listen.error.code, 'bad_request');
    assert.match(listen.error.message, /attach/);
    c.close();
  });

  test('attach with the last eid resumes exactly: every event once, in order', async () => {
    const g = uniq('g');
    const s = await enter(herald.url, 'resumer', [g]);
    const speaker = await enter(herald.url, 'speaker', []);
    const total = 12;
    for (let i = 0; i < total; i++) await call(herald.url, 'speak', { session: speaker, group: g, data: i });

    const a = await Client.open(herald);
    const attached = await a.request({ id: 'a', method: 'attach', params: { session: s, cursor: 0 } });
    assert.deepEqual(attached.result, { session: s, cursor: 0 });
    await a.until(() => a.events().length >= 5, 'five events');
    const seen = a.events().slice(0, 5); // what this client processed before it dropped
    a.close();
    await a.waitClosed();

    const last = seen.at(-1).eid;
    const b = await Client.open(herald);
    const resumed = await b.request({ id: 'b', method: 'attach', params: { session: s, cursor: last } });
    assert.deepEqual(resumed.result, { session: s, cursor: last });
    await b.until((f) => f.type === 'message' && f.data === total - 1, 'the last message');
    const rest = b.events();
    const all = [...seen, ...rest];
    assert.deepEqual(all.map((e) => e.eid), all.map((_, i) => i + 1), `eids: ${JSON.stringify(all.map((e) => e.eid))}`);
    assert.deepEqual(all.filter((e) => e.type === 'message').map((e) => e.data), [...Array(total).keys()]);
    b.close();
  });

  test('attach errors: unknown session, cursor past the last event, missing session', async () => {
    const s = await enter(herald.url, 'attacher', []);
    const c = await Client.open(herald);
    const unknown = await c.request({ id: 'u', method: 'attach', params: { session: unknownSessionLike(s), cursor: 0 } });
    assert.equal(unknown.error.code, 'unknown_session', JSON.stringify(unknown));
    const ahead = await c.request({ id: 'c', method: 'attach', params: { session: s, cursor: 99 } });
    assert.equal(ahead.error.code, 'bad_request', JSON.stringify(ahead));
    const missing = await c.request({ id: 'm', method: 'attach', params: { cursor: 0 } });
    assert.equal(missing.error.code, 'bad_request', JSON.stringify(missing));
    // Still usable afterwards.
    const ok = await c.request({ id: 'ok', method: 'attach', params: { session: s, cursor: 0 } });
    assert.deepEqual(ok.result, { session: s, cursor: 0 });
    c.close();
  });

  test('an idle socket gets heartbeat frames without eid', async () => {
    const c = await Client.open(herald);
    const beat = await c.until((f) => f.type === 'heartbeat', 'a heartbeat frame (--heartbeat 1)');
    assertKeys(beat, ['type', 'time'], 'heartbeat');
    assertTime(beat.time);
    c.close();
  });

  test('a message larger than --ws-max-frame closes with 1009', async () => {
    const c = await Client.open(herald);
    const fits = await c.request({ id: 'fits', method: 'ping', params: { pad: 'x'.repeat(900) } });
    assert.ok(fits.result.time > 0);
    c.send({ id: 'big', method: 'ping', params: { pad: 'x'.repeat(2000) } });
    assert.equal((await c.waitClosed()).code, 1009);
  });

  test('a binary frame closes with 1003', async () => {
    const c = await Client.open(herald);
    c.ws.send(Buffer.from('{"id":1,"method":"ping"}'), { binary: true });
    assert.equal((await c.waitClosed()).code, 1003);
  });

  test('malformed frames end the connection; the node lives on', async () => {
    const cases = [
      ['bad opcode 0x3', rawFrame(0x3, 'x'), 1002],
      ['RSV1 without deflate', rawFrame(0x1, '{}', { rsv: 0x40 }), 1002],
      ['unmasked client frame', rawFrame(0x1, '{"method":"ping"}', { mask: false }), 1002],
      ['invalid UTF-8 in a text frame', rawFrame(0x1, Buffer.from([0x22, 0xff, 0xfe, 0x22])), 1007],
    ];
    for (const [what, frame, expected] of cases) {
      const { closeCode } = await sendRawFrame(herald, frame);
      if (closeCode !== undefined) assert.equal(closeCode, expected, what);
      await assertAlive(herald);
      const c = await Client.open(herald);
      assert.ok((await c.call('ping')).time > 0, `a new socket works after ${what}`);
      c.close();
    }
  });

  test('a burst of frames: each gets exactly one reply, a result or rate_limited', async () => {
    const c = await Client.open(herald);
    const n = 300;
    for (let i = 0; i < n; i++) c.send({ id: i, method: 'ping' });
    await c.until(() => c.frames.filter((f) => typeof f.id === 'number').length >= n, `${n} replies`);
    const replies = c.frames.filter((f) => typeof f.id === 'number');
    assert.deepEqual(replies.map((r) => r.id).sort((a, b) => a - b), [...Array(n).keys()]);
    for (const r of replies) {
      if ('error' in r) assert.equal(r.error.code, 'rate_limited', JSON.stringify(r));
      else assert.ok(r.result.time > 0);
    }
    // Accepted frames are answered in the order they were sent.
    const accepted = replies.filter((r) => 'result' in r).map((r) => r.id);
    assert.deepEqual(accepted, [...accepted].sort((a, b) => a - b));
    assert.ok((await c.call('ping')).time > 0, 'usable after the burst');
    c.close();
  });

  test('exit ends the stream with an unknown_session frame; the socket stays usable', async () => {
    const c = await Client.open(herald);
    const { session } = await c.call('enter', { user: 'leaver', groups: [uniq('g')] });
    await c.until((f) => f.type === 'join', 'the join event');
    assert.deepEqual(await c.call('exit', { session }), { ok: true });
    const gone = await c.until((f) => f.type === 'error', 'the end of the stream');
    assert.equal(gone.code, 'unknown_session');
    assert.ok((await c.call('ping')).time > 0);
    const again = await c.call('enter', { user: 'leaver', groups: [] });
    assert.notEqual(again.session, session);
    c.close();
  });

  test('a second socket attaching the same session supersedes the first: end frame, close 1000', async () => {
    const g = uniq('g');
    const first = await Client.open(herald);
    const { session } = await first.call('enter', { user: 'twice', groups: [g] });
    await first.until((f) => f.type === 'join', 'the join event');
    const second = await Client.open(herald);
    const reply = await second.request({ id: 'take', method: 'attach', params: { session, cursor: 1 } });
    assert.deepEqual(reply.result, { session, cursor: 1 });
    const end = await first.until((f) => f.type === 'end', 'the end frame');
    assert.equal(end.reason, 'superseded');
    assert.equal((await first.waitClosed()).code, 1000);
    // The newer socket carries the session.
    await call(herald.url, 'speak', { session, group: g, data: 'after' });
    const m = await second.until((f) => f.type === 'message', 'the message on the newer socket');
    assert.equal(m.eid, 2);
    second.close();
  });
});

describe('WebSocket origin, deflate, drain, slow consumers', () => {
  test('a foreign Origin is refused with 403; an allowed one is served', () =>
    withHerald(['--allow-origin', 'http://a.test'], async (herald) => {
      const refused = await refusedUpgrade(herald, { protocols: ['herald.v1'], origin: 'http://evil.test' });
      assert.equal(refused.status, 403);
      assert.equal(refused.body.error.code, 'forbidden');
      const allowed = await Client.open(herald, { origin: 'http://a.test' });
      assert.ok((await allowed.call('ping')).time > 0);
      allowed.close();
    }));

  test('--ws-deflate on: a permessage-deflate client works; the inflated size is bounded', () =>
    withHerald(['--ws-deflate', 'on', '--ws-max-frame', '4096'], async (herald) => {
      const g = uniq('g');
      const c = await Client.open(herald, { perMessageDeflate: true });
      assert.match(c.ws.extensions, /permessage-deflate/);
      const { session } = await c.call('enter', { user: 'squeezed', groups: [g] });
      const text = 'abc'.repeat(1000); // compresses well below 4 KiB
      await c.call('speak', { session, group: g, data: text });
      const m = await c.until((f) => f.type === 'message', 'the compressed message event');
      assert.equal(m.data, text);
      // 6 KiB of text, a few dozen bytes on the wire: the inflated size counts.
      c.send({ id: 'bomb', method: 'ping', params: { pad: 'y'.repeat(6000) } });
      assert.equal((await c.waitClosed()).code, 1009);
    }));

  test('SIGTERM closes sockets with 4000, with or without a session; exit 0', () =>
    withHerald(['--drain-timeout', '5'], async (herald) => {
      const attached = await Client.open(herald);
      await attached.call('enter', { user: 'drained', groups: [uniq('g')] });
      const bare = await Client.open(herald);
      await bare.call('ping');
      herald.terminate();
      const [a, b] = await Promise.all([attached.waitClosed(), bare.waitClosed()]);
      assert.deepEqual(a, { code: 4000, reason: 'reconnect elsewhere' });
      assert.deepEqual(b, { code: 4000, reason: 'reconnect elsewhere' });
      const exit = await bounded(herald.exited, 15_000, 'herald to exit');
      assert.equal(exit.code, 0);
    }));

  test('a reader that lets max-stream-buffer pile up is closed with 1008 and resumes by eid', () =>
    // Big messages, so that few requests fill the kernel's socket buffers.
    withHerald(['--max-stream-buffer', '64KiB', '--max-data', '1MiB', '--max-body', '2MiB'], async (herald) => {
      const g = uniq('g');
      const c = await Client.open(herald);
      const { session } = await c.call('enter', { user: 'sluggish', groups: [g] });
      await c.until((f) => f.type === 'join', 'the join event');
      c.ws._socket.pause(); // stop reading: kernel buffers fill, then herald's queue
      const speaker = await enter(herald.url, 'flood', []);
      const data = 'z'.repeat(1_000_000);
      let spoken = 0;
      while (!herald.logs().includes('slow consumer cut off')) {
        assert.ok(spoken < 200, 'herald never cut the paused reader off');
        await call(herald.url, 'speak', { session: speaker, group: g, data });
        spoken += 1;
      }
      c.ws._socket.resume();
      const closed = await c.waitClosed();
      assert.deepEqual(closed, { code: 1008, reason: 'slow consumer' });
      const last = c.events().at(-1).eid;
      assert.ok(last < spoken + 1, 'some events were still queued when the reader was cut off');
      const again = await Client.open(herald);
      await again.request({ id: 'r', method: 'attach', params: { session, cursor: last } });
      const next = await again.until((f) => typeof f.eid === 'number', 'the first event after the resume point');
      assert.equal(next.eid, last + 1);
      again.close();
    }));
});
