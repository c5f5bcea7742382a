// The transports whose commands go by POST /v1/rpc: the shared command half (HttpCommands), the
// EventSource stream (sse) and the fetch long-poll loop (longpoll). The contract every
// transport keeps is in transports/index.js.

import { HeraldError, endpoint, within } from '../helpers.js';

const STREAM_EVENT_TYPES = ['message', 'direct', 'join', 'leave', 'overflow'];

/** POST /v1/rpc with a batch; the command path of sse, longpoll and frame. */
async function postBatch(engine, frames, signal) {
  let response;
  try {
    response = await fetch(endpoint(engine.url, '/v1/rpc'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(frames),
      signal,
      cache: 'no-store',
    });
  } catch (err) {
    throw new HeraldError('connection_lost', `POST /v1/rpc failed: ${err.message}`);
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new HeraldError('connection_lost', `POST /v1/rpc: unreadable answer (HTTP ${response.status})`);
  }
  if (Array.isArray(body)) return body;
  // The whole batch was refused (too large, …): every command gets that error.
  const error = (body && body.error) || { code: 'internal', message: `HTTP ${response.status}` };
  return frames.map((f) => ({ id: f.id, error }));
}

export class HttpCommands {
  constructor(engine) {
    this.engine = engine;
    this.aborter = new AbortController();
    this.stopped = false;
  }

  open() {
    return Promise.resolve();
  }

  send(frames) {
    return postBatch(this.engine, frames, this.aborter.signal);
  }

  end(ending) {
    if (this.stopped) return;
    this.stop();
    this.engine.onEnd(this, ending);
  }

  stop() {
    this.stopped = true;
    this.aborter.abort();
    this.closeStream();
  }

  closeStream() {}
}

export class SseTransport extends HttpCommands {
  constructor(engine) {
    super(engine);
    this.name = 'sse';
  }

  stream(session, cursor) {
    return new Promise((resolve, reject) => {
      const es = new EventSource(endpoint(this.engine.url, '/v1/sse', { session, cursor }));
      this.es = es;
      let opened = false;
      es.onopen = () => {
        opened = true;
        this.engine.alive(this);
        resolve();
      };
      const onEvent = (e) => {
        let event;
        try {
          event = JSON.parse(e.data);
        } catch {
          return;
        }
        this.engine.onEvent(event, this);
      };
      for (const type of STREAM_EVENT_TYPES) es.addEventListener(type, onEvent);
      es.addEventListener('superseded', () => this.end({ kind: 'superseded' }));
      es.addEventListener('reconnect', () => this.end({ kind: 'reconnect', reason: 'draining' }));
      es.addEventListener('error', (e) => {
        // Either the server's `event: error` (a MessageEvent with data) or the EventSource's own
        // error (connection failed or dropped). We reconnect ourselves, with our own backoff
        // and fallback, rather than let EventSource retry on its own.
        let code;
        if (typeof e.data === 'string') {
          try {
            code = JSON.parse(e.data).error.code;
          } catch {
            code = 'internal';
          }
        }
        if (!opened && code === undefined) {
          this.stop();
          reject(new HeraldError('connect_failed', 'the EventSource could not connect'));
          return;
        }
        resolve(); // a stream that said something did open
        if (code === 'unknown_session') this.end({ kind: 'session_lost' });
        else if (code !== undefined) this.end({ kind: 'session_lost', reason: code });
        else this.end({ kind: 'cut', reason: 'the event stream dropped' });
      });
    });
  }

  closeStream() {
    if (this.es) this.es.close();
  }
}

export class LongPollTransport extends HttpCommands {
  constructor(engine) {
    super(engine);
    this.name = 'longpoll';
  }

  /** Resolves once the first (immediate) listen answered; then keeps listening. */
  stream(session) {
    return new Promise((resolve, reject) => {
      let first = true;
      const loop = async () => {
        while (!this.stopped) {
          const timeout = first ? 0 : this.engine.options.listenTimeoutS;
          let outcome;
          try {
            outcome = await this.listen(session, this.engine.tracker.lastEid, timeout);
          } catch (err) {
            if (this.stopped) return;
            if (first) {
              this.stop();
              reject(err);
            } else this.end({ kind: 'cut', reason: err.message });
            return;
          }
          if (this.stopped) return;
          if (outcome.error) {
            if (first) resolve();
            this.end({ kind: 'session_lost', reason: outcome.error.code });
            return;
          }
          this.engine.alive(this);
          if (first) {
            first = false;
            resolve();
          }
          for (const event of outcome.events || []) this.engine.onEvent(event, this);
          if (outcome.superseded) {
            this.end({ kind: 'superseded' });
            return;
          }
        }
      };
      loop();
    });
  }

  async listen(session, cursor, timeout) {
    const url = endpoint(this.engine.url, '/v1/listen', { session, cursor, timeout });
    let response;
    try {
      response = await within(fetch(url, { signal: this.aborter.signal, cache: 'no-store' }), timeout * 1000 + 15000, 'GET /v1/listen');
    } catch (err) {
      throw new HeraldError('connection_lost', `GET /v1/listen failed: ${err.message}`);
    }
    let body;
    try {
      body = await response.json();
    } catch {
      throw new HeraldError('connection_lost', `GET /v1/listen: unreadable answer (HTTP ${response.status})`);
    }
    if (body && body.error) return { error: body.error };
    return body;
  }
}
