// The Engine: one session over a sequence of transport connections. It connects, enters or
// attaches, resumes by eid, re-enters and re-joins with `since` after a lost session, falls back
// from one transport to the next and sends the app's queued commands in batches.

import { Backoff, CommandQueue, EventTracker, TransportLadder } from './bookkeeping.js';
import { HeraldError, later, within } from './helpers.js';
import { TRANSPORT_CLASSES, transportAvailable } from './transports/index.js';

/*
 *            start()                       stream flows
 *   idle ──────────────▶ connecting ─────────────────────▶ open
 *                          ▲   │ failure                    │ cut / draining / session lost
 *                          │   ▼                            ▼
 *                          └─ reconnecting (backoff) ◀──────┘
 *   close() from anywhere ▶ closed          superseded ▶ closed
 */
export class Engine {
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
