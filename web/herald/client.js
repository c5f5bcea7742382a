// Client: the app's handle. It runs an Engine itself (solo, or leader of the tabs sharing one
// connection) or, as a follower, reaches the leader's through a BroadcastChannel.

import { CommandQueue, EventTracker, parseTransports } from './bookkeeping.js';
import { Engine } from './engine.js';
import { Follower } from './follower.js';
import { Emitter, HeraldError } from './helpers.js';

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

function defaultUrl() {
  if (scriptOrigin) return scriptOrigin;
  if (typeof location !== 'undefined' && /^https?:$/.test(location.protocol)) return location.origin;
  return undefined;
}

function normalizeOptions(raw) {
  const o = { ...raw };
  o.url = o.url || defaultUrl();
  if (!o.url) throw new TypeError('Herald.connect: url is required here (no page origin to default to)');
  o.url = new URL(o.url).origin;
  const hasToken = typeof o.token === 'string' && o.token.length > 0;
  // With a token the server takes the user from its sub.
  if (!hasToken && (typeof o.user !== 'string' || o.user.length === 0))
    throw new TypeError('Herald.connect: user (a non-empty string) is required, or a token');
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
export class Client extends Emitter {
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

  /**
   * Hands the session a fresh token before the current one's exp ends it (a ping carrying
   * it); later enters (after a lost session) use it too.
   */
  renewToken(token) {
    this.options.token = token;
    return this.command('ping', { token });
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
