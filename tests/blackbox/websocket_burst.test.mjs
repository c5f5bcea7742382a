// WebSocket writes are coalesced (http/coalescing_stream.hpp): frames that pile up for a
// client that does not read leave together, with Herald's own pongs among them. A burst must
// still arrive whole and in order once the client reads, every frame valid, and count as
// delivered only once written.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import WebSocket from 'ws';
import { bounded, call, describe, enter, test, uniq, withHerald } from './lib/herald.mjs';
import { untilMetric } from './lib/metrics.mjs';

// Bounds a failure, not a speed: an ASan build needs a while for 20 MB with deflate.
const BOUND_MS = 30_000;

// Sizes for every WebSocket header length (7-bit, 16-bit, 64-bit); random text, so that
// permessage-deflate cannot shrink the burst below the kernel's socket buffers.
const SIZES = [10, 300, 70_000, 400_000];
const ROUNDS = 48; // 192 messages, about 22 MB of payload: more than loopback socket buffers take
const payload = (i) => `${i}:${crypto.randomBytes(Math.ceil((SIZES[i % SIZES.length] * 3) / 4)).toString('base64')}`;

/** Opens a socket and keeps every text frame (parsed) and every pong. */
async function open(herald, perMessageDeflate) {
  const ws = new WebSocket(`ws://${herald.host}:${herald.port}/v1/ws`, ['herald.v1'], { perMessageDeflate });
  const c = { ws, frames: [], pongs: 0, waiters: new Set() };
  c.wake = () => c.waiters.forEach((w) => w());
  ws.on('message', (data) => {
    c.frames.push(JSON.parse(data.toString('utf8')));
    c.wake();
  });
  ws.on('pong', () => {
    c.pongs += 1;
    c.wake();
  });
  c.closed = new Promise((resolve) => ws.on('close', (code) => { c.closeCode = code; c.wake(); resolve(code); }));
  ws.on('error', () => {});
  c.until = (pred, what) => bounded(new Promise((resolve, reject) => {
    const w = () => {
      if (pred()) { c.waiters.delete(w); resolve(); }
      else if (c.closeCode !== undefined) reject(new Error(`socket closed (${c.closeCode}) before ${what}`));
    };
    c.waiters.add(w);
    w();
  }), BOUND_MS, what);
  await bounded(new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); }), BOUND_MS, 'the socket to open');
  return c;
}

async function burst(deflate) {
  const args = ['--max-stream-buffer', '64MiB', '--max-data', '1MiB', '--max-body', '2MiB'];
  if (deflate) args.push('--ws-deflate', 'on');
  return withHerald(args, async (herald) => {
    const g = uniq('g');
    const c = await open(herald, deflate);
    if (deflate) assert.match(c.ws.extensions, /permessage-deflate/);
    c.ws.send(JSON.stringify({ id: 'in', method: 'enter', params: { user: 'burst', groups: [g] } }));
    await c.until(() => c.frames.some((f) => f.type === 'join'), 'the join event');
    c.ws._socket.pause(); // read nothing: the kernel's buffers fill, then Herald's
    const speaker = await enter(herald.url, 'speaker', []);
    const total = SIZES.length * ROUNDS;
    const sent = [];
    let pings = 0;
    for (let i = 0; i < total; i += 1) {
      sent.push(payload(i));
      await call(herald.url, 'speak', { session: speaker, group: g, data: sent[i] });
      if (i % 3 === 0) {
        c.ws.ping(); // answered by Beast, among the queued frames
        pings += 1;
      }
    }
    // More than the socket buffers hold waits in Herald: the burst really queued there.
    await untilMetric(herald, 'herald_write_buffer_bytes', {}, (v) => v > 0, { what: 'bytes waiting in Herald' });
    c.ws._socket.resume();
    const messages = () => c.frames.filter((f) => f.type === 'message');
    await c.until(() => messages().length === total && c.pongs === pings, `${total} messages and ${pings} pongs`);
    const got = messages();
    assert.deepEqual(got.map((m) => m.data.split(':')[0]), sent.map((_, i) => String(i)), 'in order');
    got.forEach((m, i) => assert.equal(m.data, sent[i], `message ${i} whole`));
    const eids = c.frames.filter((f) => typeof f.eid === 'number').map((f) => f.eid);
    eids.forEach((eid, i) => assert.equal(eid, eids[0] + i, 'eids without a gap'));
    // Counted delivered once written, each once.
    await untilMetric(herald, 'herald_events_delivered_total', { transport: 'ws' }, (v) => v === eids.length);
    await untilMetric(herald, 'herald_write_buffer_bytes', {}, (v) => v === 0);
    assert.equal(c.closeCode, undefined, 'the socket stays open');
    c.ws.close();
    assert.equal(await bounded(c.closed, BOUND_MS, 'the close handshake'), 1000);
  });
}

describe('WebSocket bursts', () => {
  test('a burst queued while the client reads nothing arrives whole and in order, pongs among it', () => burst(false));
  test('the same with permessage-deflate (frames written by Beast)', () => burst(true));
});
