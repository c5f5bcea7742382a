/*
 * herald.js — the browser client of the Herald v1 protocol.
 *
 * One file, no dependencies, no build step. It is a classic script that also works as an ES
 * module import: either way it defines `globalThis.Herald` (a classic script cannot also carry
 * `export` statements, so module users import it for that effect):
 *
 *   <script src="/herald.js"></script>                      → window.Herald
 *   <script type="module">import '/herald.js'; const { Herald } = globalThis; …</script>
 *
 * Nothing here touches the DOM until a client connects, so node can load the file and test the
 * pure parts (`Herald.internals`: Backoff, CommandQueue, EventTracker, TransportLadder).
 *
 * Layers, bottom up:
 *   - pure bookkeeping (backoff, the bounded command queue, eid/seq resume state, fallback);
 *   - transports: ws, sse, longpoll, jsonp, frame — each streams one session's events and carries
 *     command batches (ws on its socket, jsonp by <script>, the others by POST /v1/rpc);
 *   - Engine: owns the session; connects, resumes by eid, re-enters on node loss, falls back;
 *   - Client: what the app sees. With tab sharing, only the tab holding a Web Lock runs an
 *     Engine (the leader); the other tabs of the same user reach it through a BroadcastChannel.
 *
 * The wire formats are those of docs/protocol.md; the API is described in docs/web-client.md.
 */
(function (root) {
  'use strict';

  const VERSION = '1.0.0';
  const ALL_TRANSPORTS = ['ws', 'sse', 'longpoll', 'jsonp', 'frame'];

  // Methods that may be sent twice without harm: when the connection drops before their reply,
  // they are sent again; the others (speak, send, exit) are rejected with `connection_lost`,
  // because the server may or may not have run them and running them twice would be visible.
  const IDEMPOTENT_METHODS = new Set(['join', 'leave', 'presence', 'history', 'ping']);

  /** An error with a protocol `code` (`unknown_session`, `queue_full`, `connection_lost`, …). */
  class HeraldError extends Error {
    constructor(code, message, details) {
      super(message || code);
      this.name = 'HeraldError';
      this.code = code;
      if (details !== undefined) this.details = details;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Pure bookkeeping

  /**
   * Jittered exponential backoff. The n-th delay (n from 0) is uniform in [c/2, c] where
   * c = min(capMs, baseMs · factor^n): half of it grows like the plain exponential so that
   * retries really slow down, the other half is random so that many clients cut at once do
   * not come back at once. `reset()` after a connection proved stable.
   */
  class Backoff {
    constructor({ baseMs = 250, capMs = 15000, factor = 2, random = Math.random } = {}) {
      if (!(baseMs > 0) || !(capMs >= baseMs) || !(factor >= 1)) throw new RangeError('Backoff: need 0 < baseMs <= capMs and factor >= 1');
      this.baseMs = baseMs;
      this.capMs = capMs;
      this.factor = factor;
      this.random = random;
      this.attempts = 0;
    }

    /** The ceiling of the next delay (before jitter). */
    ceiling() {
      return Math.min(this.capMs, this.baseMs * Math.pow(this.factor, this.attempts));
    }

    /** Returns the next delay in ms and counts the attempt. */
    next() {
      const ceiling = this.ceiling();
      this.attempts += 1;
      return Math.round(ceiling / 2 + (ceiling / 2) * this.random());
    }

    reset() {
      this.attempts = 0;
    }
  }

  /**
   * The outgoing commands of one client: `waiting` (not sent yet, at most `max`, sent in order
   * on (re)connect) and `inFlight` (sent, reply pending, keyed by frame id). Each command's
   * promise settles with its reply: `result`, or a HeraldError carrying the error's code.
   */
  class CommandQueue {
    constructor({ max = 100 } = {}) {
      if (!(max >= 1)) throw new RangeError('CommandQueue: max must be at least 1');
      this.max = max;
      this.waiting = [];
      this.inFlight = new Map();
      this.nextId = 1;
    }

    get size() {
      return this.waiting.length + this.inFlight.size;
    }

    /**
     * Queues `method(params)`; returns the promise of its result. When `max` commands already
     * wait, the promise is rejected at once with code `queue_full` (the queue never grows
     * without bound while disconnected).
     */
    push(method, params = {}) {
      let entry;
      const promise = new Promise((resolve, reject) => {
        entry = { id: 0, method, params, resolve, reject };
      });
      if (this.waiting.length >= this.max) {
        entry.reject(new HeraldError('queue_full', `${this.max} commands already wait for the connection; ${method} was not queued`));
      } else {
        this.waiting.push(entry);
      }
      return promise;
    }

    /** Moves up to `n` waiting commands in flight, in order, giving each a fresh frame id. */
    take(n = Infinity) {
      const taken = this.waiting.splice(0, n);
      for (const entry of taken) {
        entry.id = this.nextId++;
        this.inFlight.set(entry.id, entry);
      }
      return taken;
    }

    /**
     * Settles the in-flight command that `reply` ({id, result} or {id, error}) answers.
     * Returns its entry, or null when no command in flight has that id (a late or stray reply).
     */
    settle(reply) {
      const entry = reply && this.inFlight.get(reply.id);
      if (!entry) return null;
      this.inFlight.delete(reply.id);
      if (reply.error) {
        const e = reply.error;
        entry.reject(new HeraldError(e.code || 'internal', e.message || String(e.code), e));
      } else {
        entry.resolve(reply.result);
      }
      return entry;
    }

    /** Puts an in-flight command back at the head of `waiting` (it was not run: send it again). */
    retry(entry) {
      if (!this.inFlight.delete(entry.id)) return;
      entry.id = 0;
      this.waiting.unshift(entry);
    }

    /**
     * The connection carrying the in-flight commands is gone and their replies with it.
     * Idempotent ones go back to the head of `waiting`, in their order; the others are
     * rejected with `connection_lost` (they may or may not have run).
     */
    connectionLost() {
      const again = [];
      for (const entry of this.inFlight.values()) {
        if (IDEMPOTENT_METHODS.has(entry.method)) {
          entry.id = 0;
          again.push(entry);
        } else {
          entry.reject(new HeraldError('connection_lost', `the connection was lost before ${entry.method} was answered; it may or may not have been done`));
        }
      }
      this.inFlight.clear();
      this.waiting.unshift(...again);
      return again.length;
    }

    /** Rejects everything (the client closed). */
    rejectAll(code, message) {
      for (const entry of [...this.inFlight.values(), ...this.waiting]) entry.reject(new HeraldError(code, message));
      this.inFlight.clear();
      this.waiting = [];
    }
  }

  /**
   * Resume bookkeeping of one client: the session, the last eid delivered to the app (the resume
   * cursor), and per joined group the last (epoch, seq) seen, used to `join` with `since` after
   * the session is lost.
   *
   * `accept(event)` decides whether an event goes to the app:
   *   - eid ≤ lastEid: a duplicate (a replay after a reconnect) → dropped;
   *   - eid = lastEid + 1, or an `overflow` event (the only place eids may jump) → delivered;
   *   - any other jump → delivered and counted in `gaps` (the server broke the contract).
   * A group message at or below the group's known seq in the same epoch is a duplicate too
   * (after a re-join with `since` on a new session, eids restart but seqs do not).
   */
  class EventTracker {
    constructor() {
      this.session = null;
      this.lastEid = 0;
      this.gaps = 0;
      this.positions = new Map(); // group → {seq, epoch}
      this.joinedGroups = new Set();
    }

    /** Starts (or restarts) counting eids for `session`, resuming after `cursor`. */
    startSession(session, cursor = 0) {
      this.session = session;
      this.lastEid = cursor;
    }

    /** Returns {deliver, reason}: reason is 'next', 'overflow', 'gap', 'duplicate' or 'no_eid'. */
    accept(event) {
      if (!event || typeof event.eid !== 'number') return { deliver: false, reason: 'no_eid' };
      if (event.eid <= this.lastEid) return { deliver: false, reason: 'duplicate' };
      let reason = 'next';
      if (event.eid !== this.lastEid + 1) {
        if (event.type === 'overflow') reason = 'overflow';
        else {
          reason = 'gap';
          this.gaps += 1;
        }
      }
      this.lastEid = event.eid;
      if (event.type === 'message' && typeof event.group === 'string' && typeof event.seq === 'number') {
        const known = this.positions.get(event.group);
        if (known && known.epoch === event.epoch && event.seq <= known.seq) return { deliver: false, reason: 'duplicate' };
        if (known || this.joinedGroups.has(event.group)) this.positions.set(event.group, { seq: event.seq, epoch: event.epoch });
      }
      return { deliver: true, reason };
    }

    /**
     * Records a joined group at `position` ({seq, epoch} from enter/join). A position already
     * ahead in the same epoch is kept: a message may arrive on the stream before the join reply.
     */
    joined(group, position) {
      this.joinedGroups.add(group);
      if (!position || typeof position.seq !== 'number') return;
      const known = this.positions.get(group);
      if (known && known.epoch === position.epoch && known.seq >= position.seq) return;
      this.positions.set(group, { seq: position.seq, epoch: position.epoch });
    }

    left(group) {
      this.joinedGroups.delete(group);
      this.positions.delete(group);
    }

    /** The `since` to re-join `group` with, or undefined when nothing is known. */
    since(group) {
      const p = this.positions.get(group);
      return p && typeof p.epoch === 'string' ? { seq: p.seq, epoch: p.epoch } : undefined;
    }

    groups() {
      return [...this.joinedGroups];
    }
  }

  /**
   * The order in which transports are tried and when to give one up: after `maxFailures`
   * consecutive failures (failed to connect, or cut before it proved stable) the next one is
   * tried; after the last, the first again (an outage of everything should not leave the
   * client on its poorest transport forever). A single-transport ladder never moves.
   */
  class TransportLadder {
    constructor(order, { maxFailures = 2 } = {}) {
      if (!Array.isArray(order) || order.length === 0) throw new RangeError('TransportLadder: no transports to try');
      this.order = order.slice();
      this.maxFailures = maxFailures;
      this.index = 0;
      this.failures = 0;
    }

    get current() {
      return this.order[this.index];
    }

    /** Counts a failure of the current transport; returns true when it moved to another one. */
    failed() {
      this.failures += 1;
      if (this.failures < this.maxFailures || this.order.length === 1) return false;
      this.skip();
      return true;
    }

    /** Moves to the next transport at once (the current one cannot work here). */
    skip() {
      this.index = (this.index + 1) % this.order.length;
      this.failures = 0;
    }

    /** The current transport held up: its failures are forgiven. */
    stable() {
      this.failures = 0;
    }
  }

  /**
   * Normalizes a `transports` option (array, comma-separated string, or a single name) into a
   * list of known names in order; throws a RangeError naming an unknown one.
   */
  function parseTransports(value) {
    if (value === undefined || value === null || value === '') return ALL_TRANSPORTS.slice();
    const list = (Array.isArray(value) ? value : String(value).split(','))
      .map((s) => String(s).trim().toLowerCase())
      .filter(Boolean)
      .map((s) => (s === 'websocket' ? 'ws' : s === 'long-poll' || s === 'xhr' ? 'longpoll' : s === 'forever-frame' || s === 'iframe' ? 'frame' : s));
    for (const name of list) if (!ALL_TRANSPORTS.includes(name)) throw new RangeError(`unknown transport "${name}" (known: ${ALL_TRANSPORTS.join(', ')})`);
    if (list.length === 0) throw new RangeError('transports: empty list');
    return [...new Set(list)];
  }

  /** The WebSocket URL of a server base URL (http → ws, https → wss). */
  function webSocketUrl(base) {
    const u = new URL('/v1/ws', base);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    return u.href;
  }

  /** Builds `<base><path>?<params>` skipping undefined values. */
  function endpoint(base, path, params = {}) {
    const u = new URL(path, base);
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) u.searchParams.set(k, String(v));
    return u.href;
  }

  /** Lets the event loop run `fn` after `ms`; returns a cancel function. */
  function later(ms, fn) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  }

  /** Rejects with a `timeout` HeraldError when `promise` has not settled within `ms`. */
  function within(promise, ms, what) {
    let cancel;
    const timeout = new Promise((_, reject) => {
      cancel = later(ms, () => reject(new HeraldError('timeout', `no answer within ${ms} ms: ${what}`)));
    });
    return Promise.race([promise, timeout]).finally(cancel);
  }

  /** A tiny event emitter: on(type, fn) returns an unsubscribe function; '*' sees everything. */
  class Emitter {
    constructor() {
      this.listeners = new Map();
    }

    on(type, fn) {
      if (!this.listeners.has(type)) this.listeners.set(type, new Set());
      this.listeners.get(type).add(fn);
      return () => this.off(type, fn);
    }

    once(type, fn) {
      const off = this.on(type, (v) => {
        off();
        fn(v);
      });
      return off;
    }

    off(type, fn) {
      this.listeners.get(type)?.delete(fn);
    }

    emit(type, value) {
      for (const key of [type, '*']) {
        for (const fn of [...(this.listeners.get(key) || [])]) {
          try {
            fn(value, type);
          } catch (err) {
            // An app listener that throws must not break delivery to the others, nor the stream.
            setTimeout(() => {
              throw err;
            });
          }
        }
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Transports
  //
  // Each transport serves one connection attempt of an Engine and is thrown away afterwards.
  //   send(frames) → Promise<replies[]>    a batch of command frames, replies in order
  //   open()       → Promise               the command path works (ws: the socket is open)
  //   stream(session, cursor) → Promise    resolves once events flow (not used by ws: enter
  //                                         and attach stream on the socket itself)
  //   stop()                               closes everything, quietly
  // and reports to its engine: engine.onEvent(event), engine.onEnd(transport, ending), where
  // ending.kind is 'cut' | 'superseded' | 'session_lost' | 'reconnect'.

  const STREAM_EVENT_TYPES = ['message', 'direct', 'join', 'leave', 'overflow'];

  class WebSocketTransport {
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
    } catch (err) {
      throw new HeraldError('connection_lost', `POST /v1/rpc: unreadable answer (HTTP ${response.status})`);
    }
    if (Array.isArray(body)) return body;
    // The whole batch was refused (too large, …): every command gets that error.
    const error = (body && body.error) || { code: 'internal', message: `HTTP ${response.status}` };
    return frames.map((f) => ({ id: f.id, error }));
  }

  class HttpCommands {
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

  class SseTransport extends HttpCommands {
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

  class LongPollTransport extends HttpCommands {
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

  // JSONP callbacks live on one global object so that their names fit the server's callback rule
  // (^[A-Za-z_$][A-Za-z0-9_$.]{0,63}$) and survive the module/classic difference.
  let callbackCounter = 0;
  function callbackRegistry(name) {
    if (!root[name]) Object.defineProperty(root, name, { value: {}, configurable: true });
    return root[name];
  }

  /**
   * GET `url` + `&callback=…` as a <script>; resolves with the argument the server called back
   * with. A refused request (HTTP 403 without --jsonp, a network error) fires the script's error.
   */
  function jsonpRequest(url, timeoutMs) {
    const registry = callbackRegistry('__heraldJsonp');
    const key = 'c' + ++callbackCounter;
    const script = document.createElement('script');
    const done = new Promise((resolve, reject) => {
      registry[key] = resolve;
      script.onerror = () => reject(new HeraldError('connection_lost', 'the JSONP request was refused or failed'));
    });
    script.src = url + (url.includes('?') ? '&' : '?') + 'callback=__heraldJsonp.' + key;
    script.async = true;
    (document.head || document.documentElement).appendChild(script);
    return within(done, timeoutMs, 'a JSONP answer').finally(() => {
      // A late answer must still find a function rather than throw in the page.
      registry[key] = () => {};
      setTimeout(() => delete registry[key], 60000);
      script.remove();
    });
  }

  class JsonpTransport extends LongPollTransport {
    constructor(engine) {
      super(engine);
      this.name = 'jsonp';
    }

    async send(frames) {
      if (this.stopped) throw new HeraldError('connection_lost', 'transport stopped');
      const reply = await jsonpRequest(endpoint(this.engine.url, '/v1/rpc', { q: JSON.stringify(frames) }), this.engine.options.commandTimeoutMs);
      if (Array.isArray(reply)) return reply;
      const error = (reply && reply.error) || { code: 'internal', message: 'unexpected JSONP answer' };
      return frames.map((f) => ({ id: f.id, error }));
    }

    async listen(session, cursor, timeout) {
      if (this.stopped) throw new HeraldError('connection_lost', 'transport stopped');
      const body = await jsonpRequest(endpoint(this.engine.url, '/v1/listen', { session, cursor, timeout }), timeout * 1000 + 15000);
      if (body && body.error) return { error: body.error };
      return body;
    }
  }

  class ForeverFrameTransport extends HttpCommands {
    constructor(engine) {
      super(engine);
      this.name = 'frame';
    }

    stream(session, cursor) {
      return new Promise((resolve, reject) => {
        const registry = callbackRegistry('__heraldFrame');
        const key = 'f' + ++callbackCounter;
        this.key = key;
        let opened = false;
        let calls = 0;
        const open = () => {
          if (opened) return;
          opened = true;
          this.engine.alive(this);
          resolve();
        };
        registry[key] = (event) => {
          if (this.stopped || !event) return;
          calls += 1;
          open();
          this.engine.alive(this);
          if (event.type === 'heartbeat') return;
          if (event.type === 'reconnect') this.end({ kind: 'reconnect', reason: event.reason });
          else if (event.type === 'end') this.end({ kind: 'superseded' });
          else if (event.type === 'error') this.end({ kind: 'session_lost', reason: event.error && event.error.code });
          else this.engine.onEvent(event, this);
        };
        const iframe = document.createElement('iframe');
        this.iframe = iframe;
        iframe.setAttribute('aria-hidden', 'true');
        iframe.tabIndex = -1;
        iframe.title = 'Herald event stream';
        iframe.style.cssText = 'position:absolute;width:0;height:0;border:0;visibility:hidden';
        iframe.onload = () => {
          // The response ended. One that never called us is an error page (JSON, same origin).
          if (this.stopped) return;
          let code;
          if (calls === 0) {
            try {
              code = JSON.parse(iframe.contentDocument.body.textContent).error.code;
            } catch {
              code = undefined;
            }
          }
          if (code === 'unknown_session') {
            resolve();
            this.end({ kind: 'session_lost' });
            return;
          }
          if (!opened) {
            this.stop();
            reject(new HeraldError('connect_failed', `the forever-frame did not stream${code ? ' (' + code + ')' : ''}`));
            return;
          }
          this.end({ kind: 'cut', reason: 'the forever-frame response ended' });
        };
        iframe.src = endpoint(this.engine.url, '/v1/stream', { session, cursor, callback: '__heraldFrame.' + key });
        document.body.appendChild(iframe);
        // The stream is open once the frame's document is being parsed from our URL (its 1 KiB
        // preamble arrives at once; the first call may be a heartbeat interval away).
        const watch = setInterval(() => {
          if (this.stopped || opened) return clearInterval(watch);
          let doc;
          try {
            doc = iframe.contentDocument;
          } catch {
            doc = null;
          }
          if (doc && doc.readyState === 'loading' && doc.URL.indexOf('/v1/stream') >= 0) {
            clearInterval(watch);
            open();
          }
        }, 50);
      });
    }

    closeStream() {
      if (this.key) callbackRegistry('__heraldFrame')[this.key] = () => {};
      if (this.iframe) {
        this.iframe.onload = null;
        this.iframe.src = 'about:blank';
        this.iframe.remove();
      }
    }
  }

  const TRANSPORT_CLASSES = {
    ws: WebSocketTransport,
    sse: SseTransport,
    longpoll: LongPollTransport,
    jsonp: JsonpTransport,
    frame: ForeverFrameTransport,
  };

  /** Whether transport `name` can work in this environment at all, for a server at `url`. */
  function transportAvailable(name, url) {
    const hasDocument = typeof document !== 'undefined' && !!document.createElement;
    switch (name) {
      case 'ws':
        return typeof WebSocket === 'function';
      case 'sse':
        return typeof EventSource === 'function';
      case 'longpoll':
        return typeof fetch === 'function';
      case 'jsonp':
        return hasDocument;
      case 'frame':
        // The frame calls parent.<callback>: only a same-origin page may be called.
        return hasDocument && typeof location !== 'undefined' && new URL(url).origin === location.origin;
      default:
        return false;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Engine: one session over a sequence of transport connections

  /*
   *            start()                       stream flows
   *   idle ──────────────▶ connecting ─────────────────────▶ open
   *                          ▲   │ failure                    │ cut / draining / session lost
   *                          │   ▼                            ▼
   *                          └─ reconnecting (backoff) ◀──────┘
   *   close() from anywhere ▶ closed          superseded ▶ closed
   */
  class Engine {
    constructor(options, sink) {
      this.options = options;
      this.url = options.url;
      this.sink = sink; // {event(e), state(s), recovered(r), session(s)}
      this.tracker = options.tracker || new EventTracker();
      this.queue = options.queue || new CommandQueue({ max: options.queueMax });
      this.ladder = new TransportLadder(options.transports, { maxFailures: options.maxFailures });
      this.backoff = new Backoff(options.backoff);
      this.state = 'idle';
      this.transport = null;
      this.needsRecovery = false;
      this.entered = !!this.tracker.session;
      this.internalId = 0;
    }

    start() {
      this.connect();
    }

    setState(state, extra = {}) {
      this.state = state;
      this.sink.state({ state, transport: this.transport ? this.transport.name : null, session: this.tracker.session, ...extra });
    }

    nextInternalId() {
      this.internalId += 1;
      return 'h' + this.internalId;
    }

    /** Sends internal command frames (not the app's queue) and returns their replies. */
    async internal(t, commands) {
      const frames = commands.map(([method, params]) => ({ id: this.nextInternalId(), method, params }));
      const replies = await within(t.send(frames), this.options.commandTimeoutMs, frames.map((f) => f.method).join('+'));
      return replies;
    }

    async connect() {
      if (this.state === 'closed') return;
      let name = this.ladder.current;
      for (let i = 0; i < this.ladder.order.length && !transportAvailable(name, this.url); i++) {
        this.ladder.skip();
        name = this.ladder.current;
      }
      const t = new TRANSPORT_CLASSES[name](this);
      this.transport = t;
      this.setState(this.state === 'idle' ? 'connecting' : 'reconnecting');
      try {
        await within(t.open(), this.options.connectTimeoutMs, `${name} to connect`);
        if (t !== this.transport) return;
        await this.establishSession(t);
        if (t !== this.transport) return;
        if (name !== 'ws') await within(t.stream(this.tracker.session, this.tracker.lastEid), this.options.connectTimeoutMs, `${name} to stream`);
      } catch (err) {
        if (t !== this.transport || this.state === 'closed') return;
        t.stop();
        if (err.code === 'unknown_session') {
          this.sessionLost();
          return;
        }
        if (err.fatal) {
          this.close({ error: err });
          return;
        }
        this.retryLater(err, true);
        return;
      }
      if (t !== this.transport || this.state === 'closed' || t.stopped) return;
      this.opened(t);
    }

    /**
     * Makes the transport carry our session: attach (ws) or nothing (http: the stream names it)
     * for a known session; enter for a new one; after a lost session, enter again and join every
     * group with `since`, telling the app whether each recovered.
     */
    async establishSession(t) {
      if (this.tracker.session) {
        if (t.name !== 'ws') return;
        const [reply] = await this.internal(t, [['attach', { session: this.tracker.session, cursor: this.tracker.lastEid }]]);
        // unknown_session, or a cursor the session does not know: either way, start over.
        if (reply.error) throw new HeraldError('unknown_session', `attach: ${reply.error.code}: ${reply.error.message}`);
        return;
      }
      const params = { user: this.options.user };
      if (this.options.token !== undefined) params.token = this.options.token;
      if (this.options.lease !== undefined) params.lease = this.options.lease;
      const recovering = this.needsRecovery;
      if (!recovering && !this.entered && this.options.groups.length) params.groups = this.options.groups;
      const [reply] = await this.internal(t, [['enter', params]]);
      if (reply.error) {
        const err = new HeraldError(reply.error.code, reply.error.message);
        // A refused enter (bad name, forbidden group) will be refused again: stop, and say why.
        err.fatal = ['bad_request', 'forbidden', 'unauthorized', 'not_found', 'too_large'].includes(reply.error.code);
        throw err;
      }
      const previous = this.lostSession || null;
      this.lostSession = null;
      this.tracker.startSession(reply.result.session, 0);
      this.entered = true;
      for (const [group, position] of Object.entries(reply.result.groups || {})) this.tracker.joined(group, position);
      this.sink.session({ session: reply.result.session, user: reply.result.user, previous, recovering });
      if (!recovering) return;
      this.needsRecovery = false;
      const groups = this.tracker.groups();
      if (!groups.length) return;
      const joins = groups.map((group) => {
        const since = this.tracker.since(group);
        return ['join', since ? { session: reply.result.session, group, since } : { session: reply.result.session, group }];
      });
      const replies = await this.internal(t, joins);
      replies.forEach((r, i) => {
        const group = groups[i];
        if (r.error) {
          this.tracker.left(group);
          this.sink.recovered({ group, recovered: false, error: r.error });
          return;
        }
        const recovered = r.result.recovered === true;
        // Recovered: the missed messages follow on the stream; keep the old position so that
        // they are not taken for duplicates. Not recovered: continue from the group's present.
        if (!recovered) {
          this.tracker.positions.delete(group);
          this.tracker.joined(group, r.result);
        }
        this.sink.recovered({ group, recovered, seq: r.result.seq, epoch: r.result.epoch });
      });
    }

    opened(t) {
      this.setState('open');
      this.openedAt = Date.now();
      this.cancelStable?.();
      // A connection that holds for a while proves the transport: forgive its failures and
      // start the backoff from the bottom again. One cut sooner counts as a failure.
      this.cancelStable = later(this.options.stableMs, () => {
        if (this.transport === t) {
          this.backoff.reset();
          this.ladder.stable();
        }
      });
      this.pump();
    }

    /** Called by the transport on any sign of life; a silent socket is cut after a while. */
    alive(t) {
      if (t !== this.transport) return;
      this.cancelWatchdog?.();
      if (t.name === 'ws' || t.name === 'frame') {
        this.cancelWatchdog = later(this.options.silenceMs, () => {
          if (this.transport === t) t.end({ kind: 'cut', reason: 'nothing heard for too long' });
        });
      }
    }

    onEvent(event, t) {
      if (t !== this.transport) return;
      const verdict = this.tracker.accept(event);
      if (verdict.deliver) this.sink.event(event, verdict);
    }

    onEnd(t, ending) {
      if (t !== this.transport || this.state === 'closed') return;
      this.cancelWatchdog?.();
      this.cancelStable?.();
      this.queue.connectionLost();
      if (ending.kind === 'superseded') {
        this.close({ reason: 'superseded' });
      } else if (ending.kind === 'session_lost') {
        this.sessionLost();
      } else if (ending.kind === 'reconnect') {
        this.retryLater(new HeraldError('reconnect', ending.reason || 'the server asked to reconnect'), false);
      } else {
        const shortLived = Date.now() - this.openedAt < this.options.stableMs;
        this.retryLater(new HeraldError('connection_lost', ending.reason || 'connection lost'), shortLived);
      }
    }

    /** The session is gone (node lost, lease expired): enter again, then re-join with since. */
    sessionLost() {
      if (this.state === 'closed') return;
      this.transport?.stop();
      if (this.tracker.session) this.lostSession = this.tracker.session;
      this.tracker.startSession(null, 0);
      this.needsRecovery = true;
      this.queue.connectionLost();
      this.retryLater(new HeraldError('unknown_session', 'the session was lost'), false, 0);
    }

    retryLater(error, countsAsFailure, delayMs) {
      if (this.state === 'closed') return;
      if (countsAsFailure) this.ladder.failed();
      const delay = delayMs !== undefined ? delayMs : this.backoff.next();
      this.transport = null;
      this.setState('reconnecting', { delay, error: { code: error.code, message: error.message }, next: this.ladder.current });
      this.cancelRetry?.();
      this.cancelRetry = later(delay, () => this.connect());
    }

    /** Queues an app command; it is sent (in order) as soon as the session is open. */
    command(method, params) {
      if (this.state === 'closed') return Promise.reject(new HeraldError('closed', 'the client is closed'));
      const promise = this.queue.push(method, params);
      this.pump();
      return promise;
    }

    async pump() {
      if (this.pumping) return;
      this.pumping = true;
      try {
        while (this.state === 'open' && this.queue.waiting.length) {
          const t = this.transport;
          const batch = this.queue.take(this.options.batchMax);
          const session = this.tracker.session;
          const frames = batch.map((e) => ({ id: e.id, method: e.method, params: { ...e.params, session } }));
          let replies;
          try {
            replies = await within(t.send(frames), this.options.commandTimeoutMs, 'command replies');
          } catch (err) {
            // No reply: the connection is not working. Reconnect (which requeues or rejects).
            if (t === this.transport) t.end({ kind: 'cut', reason: err.message });
            else this.queue.connectionLost();
            break;
          }
          let lost = false;
          replies.forEach((reply, i) => {
            const entry = batch[i];
            if (reply && reply.error && reply.error.code === 'unknown_session') {
              this.queue.retry(entry); // not run: send it again on the next session
              lost = true;
              return;
            }
            this.noteReply(entry, reply);
            this.queue.settle({ ...reply, id: entry.id });
          });
          if (lost && t === this.transport) {
            this.sessionLost();
            break;
          }
        }
      } finally {
        this.pumping = false;
        // A reconnect may have opened while this pump waited for a dead connection.
        if (this.state === 'open' && this.queue.waiting.length) Promise.resolve().then(() => this.pump());
      }
    }

    /** Keeps the resume bookkeeping in step with the app's joins and leaves. */
    noteReply(entry, reply) {
      if (!reply || reply.error) return;
      if (entry.method === 'join') {
        const since = entry.params.since;
        if (since && reply.result.recovered) this.tracker.joinedGroups.add(entry.params.group);
        else this.tracker.joined(entry.params.group, reply.result);
        this.sink.groups();
      } else if (entry.method === 'leave') {
        this.tracker.left(entry.params.group);
        this.sink.groups();
      }
    }

    /** Stops for good. With `exit`, ends the server session too (best effort). */
    close({ exit = false, reason = 'closed', error } = {}) {
      if (this.state === 'closed') return;
      const t = this.transport;
      const session = this.tracker.session;
      let exiting = Promise.resolve();
      if (exit && session && t && this.state === 'open') {
        exiting = within(t.send([{ id: this.nextInternalId(), method: 'exit', params: { session } }]), 2000, 'exit').catch(() => {});
      }
      this.cancelRetry?.();
      this.cancelWatchdog?.();
      this.cancelStable?.();
      this.transport = null;
      this.state = 'closed';
      // The exit is answered before the connection closes.
      if (t) exiting.then(() => t.stop());
      this.queue.rejectAll(reason === 'superseded' ? 'superseded' : 'closed', reason === 'superseded' ? 'another client took over this session' : 'the client is closed');
      this.sink.state({ state: 'closed', transport: null, session, reason, error: error ? { code: error.code, message: error.message } : undefined });
    }
  }

  // -------------------------------------------------------------------------------------------
  // Client: the app's handle; leader or follower when tabs share one connection

  function defaultUrl() {
    if (scriptOrigin) return scriptOrigin;
    if (typeof location !== 'undefined' && /^https?:$/.test(location.protocol)) return location.origin;
    return undefined;
  }

  // The origin that served this file: a page that loads /herald.js from a Herald server talks to
  // that server by default. (document.currentScript is null in a module, hence location.)
  const scriptOrigin = (() => {
    try {
      const s = typeof document !== 'undefined' && document.currentScript;
      return s && s.src ? new URL(s.src).origin : undefined;
    } catch {
      return undefined;
    }
  })();

  function normalizeOptions(raw) {
    const o = { ...raw };
    o.url = o.url || defaultUrl();
    if (!o.url) throw new TypeError('Herald.connect: url is required here (no page origin to default to)');
    o.url = new URL(o.url).origin;
    if (typeof o.user !== 'string' || o.user.length === 0) throw new TypeError('Herald.connect: user (a non-empty string) is required');
    o.groups = Array.isArray(o.groups) ? o.groups.slice() : o.groups ? [String(o.groups)] : [];
    o.transports = parseTransports(o.transports);
    o.queueMax = o.queueMax ?? 100;
    o.batchMax = o.batchMax ?? 20;
    o.maxFailures = o.maxFailures ?? 2;
    o.connectTimeoutMs = o.connectTimeoutMs ?? 10000;
    o.commandTimeoutMs = o.commandTimeoutMs ?? 20000;
    o.listenTimeoutS = o.listenTimeoutS ?? 25;
    o.silenceMs = o.silenceMs ?? 45000;
    o.stableMs = o.stableMs ?? 10000;
    o.backoff = { baseMs: 250, capMs: 15000, ...(o.backoff || {}) };
    o.share = o.share !== false;
    return o;
  }

  function canShare() {
    return typeof BroadcastChannel === 'function' && typeof navigator !== 'undefined' && !!navigator.locks && typeof navigator.locks.request === 'function';
  }

  let tabCounter = 0;

  /**
   * The app's client. Commands return promises settled by their replies; events are emitted as
   * 'message', 'direct', 'join', 'leave', 'overflow' (the protocol's event objects), 'state'
   * ({state, transport, role, session, …}), 'recovered' ({group, recovered}), 'session'
   * ({session, previous}) and 'groups' (the joined groups changed).
   */
  class Client extends Emitter {
    constructor(options) {
      super();
      this.options = normalizeOptions(options);
      this.user = this.options.user;
      this.tracker = new EventTracker();
      this.state = 'connecting';
      this.transport = null;
      this.role = 'solo';
      this.tabId = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}-${++tabCounter}`;
      this.ready = new Promise((resolve, reject) => {
        const off = this.on('state', (s) => {
          if (s.state === 'open') {
            off();
            resolve(this);
          } else if (s.state === 'closed') {
            off();
            reject(new HeraldError((s.error && s.error.code) || s.reason || 'closed', (s.error && s.error.message) || 'the client closed before connecting'));
          }
        });
      });
      this.ready.catch(() => {}); // observed through 'state' too; not an unhandled rejection
      if (this.options.share && canShare()) this.startShared();
      else this.becomeLeader();
      if (typeof addEventListener === 'function') {
        this.onPageHide = () => this.pageHidden();
        addEventListener('pagehide', this.onPageHide);
      }
    }

    get session() {
      return this.tracker.session;
    }

    /** The groups this user's session has joined. */
    get groups() {
      return this.tracker.groups();
    }

    // --- commands (each returns the promise of its result) ---

    join(group, { since } = {}) {
      return this.command('join', since ? { group, since } : { group });
    }

    leave(group) {
      return this.command('leave', { group });
    }

    /** speak(group or [groups], data) */
    speak(groups, data) {
      return this.command('speak', Array.isArray(groups) ? { groups, data } : { group: groups, data });
    }

    send(user, data) {
      return this.command('send', { to: user, data });
    }

    presence(group) {
      return this.command('presence', { group });
    }

    history(group, { since, limit } = {}) {
      const params = { group };
      if (since !== undefined) params.since = since;
      if (limit !== undefined) params.limit = limit;
      return this.command('history', params);
    }

    ping() {
      return this.command('ping', {});
    }

    command(method, params) {
      if (this.closed) return Promise.reject(new HeraldError('closed', 'the client is closed'));
      if (this.engine) return this.engine.command(method, params);
      return this.follow.command(method, params);
    }

    /**
     * Closes this client. A leader with other tabs hands the connection over (the session
     * lives on); the last tab ends the session (`exit`) unless `{exit: false}`.
     */
    close({ exit } = {}) {
      if (this.closed) return;
      this.closed = true;
      if (this.onPageHide) removeEventListener('pagehide', this.onPageHide);
      const peers = this.peers ? this.peers.size : 0;
      if (this.engine) this.engine.close({ exit: exit !== undefined ? exit : peers === 0 });
      if (this.follow) this.follow.close();
      if (this.channel) {
        this.channel.postMessage({ kind: 'bye', from: this.tabId, leader: !!this.engine });
        this.channel.close();
      }
      this.releaseLock?.();
      this.abortLock?.abort();
      this.applyState({ state: 'closed', transport: null, session: this.session, reason: 'closed' });
    }

    pageHidden() {
      // The tab goes away (or into the back/forward cache): let another tab take over now;
      // the session outlives us for its lease.
      if (this.channel) this.channel.postMessage({ kind: 'bye', from: this.tabId, leader: !!this.engine });
    }

    // --- shared connection: leader election by Web Lock, messages by BroadcastChannel ---

    startShared() {
      const key = `herald:${this.options.url}:${this.user}`;
      this.channel = new BroadcastChannel(key);
      this.peers = new Set();
      this.role = 'follower';
      this.follow = new Follower(this);
      this.channel.onmessage = (e) => this.onChannel(e.data);
      this.abortLock = new AbortController();
      // Queue for the lock: granted at once when no tab holds it, else when the holder closes.
      navigator.locks
        .request(key, { signal: this.abortLock.signal }, () => {
          if (this.closed) return undefined;
          return new Promise((release) => {
            this.releaseLock = release;
            this.promote();
          });
        })
        .catch(() => {});
      this.channel.postMessage({ kind: 'hello', from: this.tabId });
    }

    promote() {
      const pending = this.follow ? this.follow.handOver() : null;
      this.follow = null;
      this.becomeLeader(pending);
      this.channel.postMessage({ kind: 'leader', from: this.tabId });
      this.broadcastSnapshot();
    }

    becomeLeader(pending) {
      this.role = this.channel ? 'leader' : 'solo';
      const queue = new CommandQueue({ max: this.options.queueMax });
      this.engine = new Engine({ ...this.options, tracker: this.tracker, queue }, {
        event: (event) => this.deliver(event, true),
        state: (s) => {
          this.applyState(s);
          this.broadcastSnapshot();
        },
        session: (s) => {
          this.emit('session', s);
          this.channel?.postMessage({ kind: 'session', from: this.tabId, info: s });
        },
        recovered: (r) => {
          this.emit('recovered', r);
          this.channel?.postMessage({ kind: 'recovered', from: this.tabId, info: r });
        },
        groups: () => {
          this.emit('groups', this.groups);
          this.broadcastSnapshot();
        },
      });
      if (pending) {
        for (const p of pending) this.engine.command(p.method, p.params).then(p.resolve, p.reject);
        // This tab's own wishes, already sent through the old leader, are joins: harmless again.
      }
      this.engine.start();
      if (this.tracker.session && this.options.groups.length) {
        // Taking over a session: make sure the groups this tab asked for are joined.
        for (const g of this.options.groups) if (!this.tracker.joinedGroups.has(g)) this.engine.command('join', { group: g }).catch(() => {});
      }
    }

    deliver(event, fromEngine) {
      if (!fromEngine) {
        const verdict = this.tracker.accept(event);
        if (!verdict.deliver) return;
      } else if (this.channel) {
        this.channel.postMessage({ kind: 'event', from: this.tabId, session: this.tracker.session, event });
      }
      if (event.type === 'join' && event.user === this.user) this.tracker.joinedGroups.add(event.group);
      this.emit(event.type, event);
      this.emit('event', event);
    }

    applyState(s) {
      if (this.closed && s.state !== 'closed') return; // a late report from a stopped engine
      const previous = `${this.state}/${this.transport}/${this.role}`;
      this.state = s.state;
      this.transport = s.transport;
      const info = { ...s, role: this.role };
      if (`${this.state}/${this.transport}/${this.role}` !== previous || s.state === 'reconnecting' || s.state === 'closed') this.emit('state', info);
    }

    broadcastSnapshot(to) {
      if (!this.channel || !this.engine) return;
      this.channel.postMessage({
        kind: 'snapshot',
        from: this.tabId,
        to,
        state: this.state,
        transport: this.transport,
        session: this.tracker.session,
        lastEid: this.tracker.lastEid,
        positions: [...this.tracker.positions],
        groups: this.tracker.groups(),
      });
    }

    onChannel(msg) {
      if (!msg || msg.from === this.tabId || this.closed) return;
      if (msg.kind === 'hello') {
        this.peers.add(msg.from);
        if (this.engine) {
          this.channel.postMessage({ kind: 'leader', from: this.tabId });
          this.broadcastSnapshot(msg.from);
        }
      } else if (msg.kind === 'bye') {
        this.peers.delete(msg.from);
        if (this.follow && msg.leader) this.follow.leaderGone(msg.from);
      } else if (this.engine) {
        if (msg.kind === 'command') {
          this.peers.add(msg.from);
          const reply = (body) => this.channel && !this.closed && this.channel.postMessage({ kind: 'reply', from: this.tabId, to: msg.from, id: msg.id, ...body });
          this.engine.command(msg.method, msg.params).then(
            (result) => reply({ result }),
            (err) => reply({ error: { code: err.code || 'internal', message: err.message } }),
          );
        }
      } else if (this.follow) {
        this.follow.onChannel(msg);
      }
    }
  }

  /** The follower side of a shared connection: mirrors the leader, relays commands to it. */
  class Follower {
    constructor(client) {
      this.client = client;
      this.leader = null;
      this.queue = new CommandQueue({ max: client.options.queueMax });
      this.client.applyState({ state: 'connecting', transport: null, session: null });
    }

    command(method, params) {
      const promise = this.queue.push(method, params);
      this.pump();
      return promise;
    }

    pump() {
      if (!this.leader || !this.client.channel) return;
      for (const entry of this.queue.take()) {
        this.client.channel.postMessage({ kind: 'command', from: this.client.tabId, to: this.leader, id: entry.id, method: entry.method, params: entry.params });
      }
    }

    onChannel(msg) {
      const client = this.client;
      if (msg.kind === 'leader') {
        if (this.leader !== msg.from) {
          if (this.leader) this.queue.connectionLost();
          this.leader = msg.from;
          // What this tab asked for at connect time, through the leader (join is idempotent).
          if (!this.joinedWishes) {
            this.joinedWishes = true;
            for (const g of client.options.groups) this.command('join', { group: g }).catch(() => {});
          }
        }
        this.pump();
      } else if (msg.kind === 'reply' && msg.to === client.tabId) {
        const entry = this.queue.settle(msg);
        if (entry && !msg.error) {
          if (entry.method === 'join') client.tracker.joined(entry.params.group, msg.result);
          if (entry.method === 'leave') client.tracker.left(entry.params.group);
          if (entry.method === 'join' || entry.method === 'leave') client.emit('groups', client.groups);
        }
      } else if (msg.kind === 'snapshot' && (!msg.to || msg.to === client.tabId)) {
        this.leader = msg.from;
        this.adoptSession(msg.session, msg.lastEid);
        const before = client.groups.join('\n');
        for (const [group, position] of msg.positions) client.tracker.joined(group, position);
        for (const group of msg.groups) client.tracker.joinedGroups.add(group);
        for (const group of client.tracker.groups()) if (!msg.groups.includes(group)) client.tracker.left(group);
        if (client.groups.join('\n') !== before) client.emit('groups', client.groups);
        client.applyState({ state: msg.state, transport: msg.transport, session: msg.session });
        this.pump();
      } else if (msg.kind === 'event') {
        this.adoptSession(msg.session);
        client.deliver(msg.event, false);
      } else if (msg.kind === 'session') {
        this.adoptSession(msg.info.session, 0);
        client.emit('session', msg.info);
      } else if (msg.kind === 'recovered') {
        client.emit('recovered', msg.info);
      }
    }

    /**
     * Follows the leader's session. A new session restarts eid counting. The first snapshot of
     * an already running session skips what the leader delivered before this tab listened.
     */
    adoptSession(session, lastEid) {
      const tracker = this.client.tracker;
      if (!session || session === tracker.session) return;
      tracker.startSession(session, lastEid || 0);
    }

    leaderGone(id) {
      if (this.leader !== id) return;
      this.leader = null;
      this.queue.connectionLost();
      this.client.applyState({ state: 'reconnecting', transport: null, session: this.client.session });
    }

    /** This tab becomes the leader: what waits here moves to its engine. */
    handOver() {
      this.queue.connectionLost();
      const pending = this.queue.waiting.splice(0);
      return pending;
    }

    close() {
      this.queue.rejectAll('closed', 'the client is closed');
    }
  }

  /** Connects (in the background) and returns the client at once; `await client.ready` to wait. */
  function connect(options) {
    return new Client(options);
  }

  const Herald = {
    version: VERSION,
    connect,
    Client,
    HeraldError,
    transports: ALL_TRANSPORTS.slice(),
    internals: {
      Backoff,
      CommandQueue,
      EventTracker,
      TransportLadder,
      parseTransports,
      webSocketUrl,
      endpoint,
      IDEMPOTENT_METHODS,
    },
  };

  root.Herald = Herald;
  if (typeof module === 'object' && module && typeof module.exports === 'object') module.exports = Herald;
})(typeof globalThis !== 'undefined' ? globalThis : this);
