// The WebSocket transport: events, commands and their replies on one socket (/v1/ws,
// subprotocol herald.v1). The contract every transport keeps is in transports/index.js.

import { HeraldError, webSocketUrl } from '../helpers.js';

export class WebSocketTransport {
  constructor(engine) {
    this.engine = engine;
    this.name = 'ws';
    this.pending = new Map(); // frame id → {resolve}
    this.stopped = false;
  }

  open() {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(webSocketUrl(this.engine.url), 'herald.v1');
      this.ws = ws;
      let opened = false;
      ws.onopen = () => {
        opened = true;
        this.engine.alive(this);
        resolve();
      };
      ws.onmessage = (e) => this.receive(e.data);
      ws.onclose = (e) => {
        this.failPending();
        if (!opened) reject(new HeraldError('connect_failed', `WebSocket closed before opening (code ${e.code})`));
        else if (!this.stopped) this.end(this.endingOf(e));
      };
      ws.onerror = () => {}; // a close event always follows, with the code
    });
  }

  endingOf(e) {
    if (e.code === 1000 && e.reason === 'superseded') return { kind: 'superseded' };
    if (e.code === 4000) return { kind: 'reconnect', reason: 'draining' };
    return { kind: 'cut', reason: `closed with ${e.code}${e.reason ? ' ' + e.reason : ''}` };
  }

  receive(text) {
    this.engine.alive(this);
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (Array.isArray(msg)) {
      for (const reply of msg) this.reply(reply);
    } else if (msg && typeof msg.type === 'string') {
      if (msg.type === 'heartbeat') return;
      if (msg.type === 'end') this.end({ kind: 'superseded' });
      else if (msg.type === 'error') this.end(msg.code === 'unknown_session' ? { kind: 'session_lost' } : { kind: 'cut', reason: msg.message });
      else this.engine.onEvent(msg, this);
    } else if (msg && ('result' in msg || 'error' in msg)) {
      this.reply(msg);
    }
  }

  reply(reply) {
    const waiter = reply && this.pending.get(reply.id);
    if (!waiter) return;
    this.pending.delete(reply.id);
    waiter.resolve(reply);
  }

  send(frames) {
    if (!this.ws || this.ws.readyState !== 1) return Promise.reject(new HeraldError('connection_lost', 'the WebSocket is not open'));
    const replies = frames.map(
      (f) => new Promise((resolve, reject) => this.pending.set(f.id, { resolve, reject })),
    );
    this.ws.send(JSON.stringify(frames.length === 1 ? frames[0] : frames));
    return Promise.all(replies);
  }

  failPending() {
    for (const w of this.pending.values()) w.reject(new HeraldError('connection_lost', 'the WebSocket closed'));
    this.pending.clear();
  }

  end(ending) {
    if (this.stopped) return;
    this.stop();
    this.engine.onEnd(this, ending);
  }

  stop() {
    this.stopped = true;
    this.failPending();
    if (this.ws && this.ws.readyState <= 1) this.ws.close(1000, 'client closed');
  }
}
