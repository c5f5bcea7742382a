// The pure bookkeeping under the Engine: jittered backoff, the bounded command queue, the
// eid/seq resume state and the transport fallback order. No timers, no I/O, no DOM: node tests
// drive these classes directly (tests/web/).

import { HeraldError } from './helpers.js';

export const ALL_TRANSPORTS = ['ws', 'sse', 'longpoll', 'jsonp', 'frame'];

// Methods that may be sent twice without harm: when the connection drops before their reply,
// they are sent again; the others (speak, send, exit) are rejected with `connection_lost`,
// because the server may or may not have run them and running them twice would be visible.
const IDEMPOTENT_METHODS = new Set(['join', 'leave', 'presence', 'history', 'ping']);

/**
 * Jittered exponential backoff. The n-th delay (n from 0) is uniform in [c/2, c] where
 * c = min(capMs, baseMs · factor^n): half of it grows like the plain exponential so that
 * retries really slow down, the other half is random so that many clients cut at once do
 * not come back at once. `reset()` after a connection proved stable.
 */
export class Backoff {
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
export class CommandQueue {
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
export class EventTracker {
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
export class TransportLadder {
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
export function parseTransports(value) {
  if (value === undefined || value === null || value === '') return ALL_TRANSPORTS.slice();
  const list = (Array.isArray(value) ? value : String(value).split(','))
    .map((s) => String(s).trim().toLowerCase())
    .filter(Boolean)
    .map((s) => (s === 'websocket' ? 'ws' : s === 'long-poll' || s === 'xhr' ? 'longpoll' : s === 'forever-frame' || s === 'iframe' ? 'frame' : s));
  for (const name of list) if (!ALL_TRANSPORTS.includes(name)) throw new RangeError(`unknown transport "${name}" (known: ${ALL_TRANSPORTS.join(', ')})`);
  if (list.length === 0) throw new RangeError('transports: empty list');
  return [...new Set(list)];
}
