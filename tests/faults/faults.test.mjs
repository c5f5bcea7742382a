// The cluster under faults (issue 13, "Proof"): a history checker (lib/history_checker.mjs)
// judges what subscribers on every node received against what publishers were told, while a
// node is SIGKILLed under load, SIGSTOPped past --peer-timeout and resumed, killed and
// restarted at once under its name, or has every client cut at once, five times.
//
// Clients: WebSocket subscribers (enter with the groups; resume by `attach` with their last
// eid, else — unknown_session — enter again and `join` every group with `since` = the last
// (epoch, seq) they got), long-poll subscribers (GET /v1/listen with their cursor; the same
// fallback over POST /v1/rpc) and WebSocket publishers (a session without groups speaking
// round-robin into the groups at a paced rate, at most 32 speaks in flight; every payload
// is unique and never retried: there are no idempotency keys, so a speak without an answer
// may be stored once or not at all, and the checker allows exactly that).
//
// Which node is a group's home: rendezvous hashing over the node names, as
// actors/rendezvous.hpp (bench/cluster/rendezvous.mjs). The groups are picked so that
// the victim (n3) is the home of some, the first replica of others, and holds none of the
// rest.
//
// Every wait is on a condition and bounded; retry pauses (100 ms) only pace retries. No
// test asserts a duration. `--notify-presence off`: joins and leaves are not what is judged.

import assert from 'node:assert/strict';
import http from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import WebSocket from 'ws';
import { bounded, rpc, test, uniq } from '../blackbox/lib/herald.mjs';
import {
  FAST_FAILURE, HEAL_BOUND_MS, freezeNode, killNode, nodeName, startClusterNode, stopAll, until, untilFormed, untilNodes,
  withCluster,
} from '../cluster/lib/cluster.mjs';
import { rank } from '../../bench/cluster/rendezvous.mjs';
import { HistoryChecker } from './lib/history_checker.mjs';

const NAMES = ['n1', 'n2', 'n3'];
/** Settings of every node: fast failure detection, history and queues that outlast the scenario. */
const BASE = [...FAST_FAILURE, '--history', '20000', '--queue-max', '100000', '--notify-presence', 'off'];
const RETRY_PAUSE_MS = 100; // between two attempts to reach a node again (a pace, not a wait for a condition)
const RESUME_BOUND_MS = 40_000; // a client gives up reconnecting after this
const DRAIN_BOUND_MS = 30_000; // after the publishers stopped, until every live subscriber caught up
const MAX_IN_FLIGHT = 32; // speaks of one publisher waiting for their answer (the server queues at most 64 frames)
// A speak without an answer after this counts as unacknowledged, and its publisher, whose
// socket runs its frames strictly in order, cuts the socket and resumes (a real client would
// too). docs/cluster.md promises an error for a publish in flight when its home died; a
// speak never answered is reported by the test after the checker ran (assertAnswered).
const SPEAK_BOUND_MS = 15_000;
const UNAVAILABLE_BOUND_MS = 15_000; // a join answered `unavailable` (retryable) is retried this long


/**
 * `perRole` groups of each role towards `victim` among NAMES: home (ranked first), replica
 * (second), none (third). Returns {groups, role: Map group → role}.
 */
function pickGroups(prefix, victim, perRole) {
  const want = { home: perRole, replica: perRole, none: perRole };
  const roles = ['home', 'replica', 'none'];
  const role = new Map();
  while (Object.values(want).some((n) => n > 0)) {
    const g = uniq(prefix);
    const r = roles[rank(NAMES, g).indexOf(victim)];
    if (want[r] > 0) {
      want[r] -= 1;
      role.set(g, r);
    }
  }
  return { groups: [...role.keys()], role };
}

// --- the nodes clients may reach ----------------------------------------------------------------

/** The current server of each node name, and which ones clients should not try now. */
class Fleet {
  constructor(servers) {
    this.byName = new Map(servers.map((s) => [nodeName(s), s]));
    this.down = new Set();
  }

  node(name) {
    return this.byName.get(name);
  }

  /** Nodes to try, `home` first, those marked down left out (all of them if none is up). */
  preference(home, { sticky = false } = {}) {
    if (sticky) return [this.byName.get(home)];
    const names = [home, ...[...this.byName.keys()].filter((n) => n !== home)];
    const up = names.filter((n) => !this.down.has(n));
    return (up.length ? up : names).map((n) => this.byName.get(n));
  }

  replace(name, server) {
    this.byName.set(name, server);
    this.down.delete(name);
  }
}

// --- a WebSocket connection with replies correlated by id --------------------------------------

class WsConn {
  /** Opens /v1/ws (herald.v1) on `server`; rejects when not open within `boundMs`. */
  static async open(server, { boundMs = 3_000 } = {}) {
    const ws = new WebSocket(`ws://${server.host}:${server.port}/v1/ws`, 'herald.v1');
    ws.on('error', () => {});
    try {
      await bounded(
        new Promise((resolve, reject) => {
          ws.once('open', resolve);
          ws.once('close', () => reject(new Error('closed before open')));
          ws.once('unexpected-response', (_req, res) => {
            res.resume();
            reject(new Error(`upgrade refused: HTTP ${res.statusCode}`));
          });
        }),
        boundMs,
        `a WebSocket to ${nodeName(server)}`,
      );
    } catch (err) {
      ws.terminate();
      throw err;
    }
    return new WsConn(ws, server);
  }

  constructor(ws, server) {
    this.ws = ws;
    this.server = server;
    this.node = nodeName(server);
    this.pending = new Map(); // id → {resolve, onReply, timer}
    this.next = 0;
    this.onEvent = () => {};
    this.onClose = () => {};
    this.isClosed = false;
    ws.on('message', (raw) => {
      let f;
      try {
        f = JSON.parse(raw.toString('utf8'));
      } catch {
        return;
      }
      if (Array.isArray(f)) return; // no batches are sent
      if (f && f.id !== undefined && f.id !== null && ('result' in f || 'error' in f)) {
        const p = this.pending.get(f.id);
        if (!p) return; // answered after its bound: the attempt already counts as unacknowledged
        this.pending.delete(f.id);
        clearTimeout(p.timer);
        p.onReply?.(f); // synchronously, before the next frame (the events a join brings)
        p.resolve(f);
        return;
      }
      this.onEvent(f);
    });
    ws.on('close', () => {
      this.isClosed = true;
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.resolve({ closed: true });
      }
      this.pending.clear();
      this.onClose();
    });
  }

  /**
   * Sends a command; resolves to its reply frame, or {closed:true} when the socket closed
   * first, or {timeout:true} after `boundMs`. `onReply(frame)` runs synchronously on arrival.
   */
  call(method, params, { boundMs = 10_000, onReply } = {}) {
    if (this.isClosed) return Promise.resolve({ closed: true });
    const id = `c${++this.next}`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({ timeout: true });
      }, boundMs);
      this.pending.set(id, { resolve, onReply, timer });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  get inFlight() {
    return this.pending.size;
  }

  terminate() {
    this.ws.terminate();
  }
}

/**
 * Calls `fn` (resolving to a reply frame) again while it answers `unavailable` (503, which
 * the contract makes retryable: e.g. a group whose home is being replaced), bounded.
 */
async function retryUnavailable(fn, onRetry = () => {}) {
  const deadline = Date.now() + UNAVAILABLE_BOUND_MS;
  for (;;) {
    const r = await fn();
    if (r.error?.code !== 'unavailable' || Date.now() > deadline) return r;
    onRetry(r);
    await delay(RETRY_PAUSE_MS);
  }
}

const replyText = (r) => (r.closed ? 'connection closed' : r.timeout ? 'no answer in time' : JSON.stringify(r.error ?? r.result));

// --- subscribers ----------------------------------------------------------------------------------

/** What both kinds of subscriber share: the session bookkeeping and the fallback to enter + join since. */
class Subscriber {
  constructor(checker, fleet, { name, home, groups, sticky = false }) {
    this.log = checker.subscriber(name);
    this.fleet = fleet;
    this.name = name;
    this.user = uniq(name);
    this.home = home;
    this.groups = groups;
    this.sticky = sticky;
    this.stopped = false;
    this.reentries = []; // {node, session, joins: [{group, since, answer}]}
    this.resumeAnswers = []; // {session, node, answer} of attach / listen attempts after a cut
    this.problem = null; // a client-side failure (e.g. could not reconnect within the bound)
    this.connected = false;
  }

  get session() {
    return this.log.current;
  }

  /** Records the answer of a join (for `group`) in the current session. */
  recordJoin(group, answer, since) {
    if (answer.result) this.session.joined(group, answer.result, since);
  }
}

class WsSubscriber extends Subscriber {
  /** Connects to its home and enters with its groups. */
  async start() {
    const server = this.fleet.node(this.home);
    const conn = await WsConn.open(server);
    this.bind(conn);
    const r = await conn.call('enter', { user: this.user, groups: this.groups }, {
      onReply: (f) => {
        if (!f.result) return;
        this.log.session(f.result.session, conn.node);
        for (const [g, info] of Object.entries(f.result.groups)) this.session.joined(g, info);
      },
    });
    assert.ok(r.result, `${this.name}: enter on ${conn.node}: ${replyText(r)}`);
    this.connected = true;
  }

  bind(conn) {
    this.conn = conn;
    conn.onEvent = (e) => {
      if (conn !== this.conn || !this.session) return;
      if (e.type === 'error' && e.code === 'unknown_session') {
        this.session.end('unknown_session (stream error frame)');
        conn.terminate(); // resumes through onClose: attach answers unknown_session, then enter again
        return;
      }
      this.session.event(e);
    };
    conn.onClose = () => {
      if (conn !== this.conn || this.stopped) return;
      this.connected = false;
      this.resuming = this.resume();
    };
  }

  /** Cuts the connection (the client resumes by itself). */
  cut() {
    this.conn?.terminate();
  }

  async resume() {
    const deadline = Date.now() + RESUME_BOUND_MS;
    while (!this.stopped) {
      for (const server of this.fleet.preference(this.home, { sticky: this.sticky })) {
        if (this.stopped) return;
        let conn;
        try {
          conn = await WsConn.open(server);
        } catch {
          continue;
        }
        this.bind(conn);
        const s = this.session;
        if (!s.ended) {
          const r = await conn.call('attach', { session: s.id, cursor: s.lastEid });
          this.resumeAnswers.push({ session: s.id, node: conn.node, answer: r.result ? 'attached' : replyText(r) });
          if (r.result) {
            this.connected = true;
            return;
          }
          if (r.error?.code !== 'unknown_session') {
            conn.terminate();
            continue;
          }
          s.end(`unknown_session (attach through ${conn.node})`);
        }
        if (await this.reenter(conn)) {
          this.connected = true;
          return;
        }
        conn.terminate();
      }
      if (Date.now() > deadline) {
        this.problem = `${this.name}: could not resume within ${RESUME_BOUND_MS} ms; answers: ${JSON.stringify(this.resumeAnswers.slice(-6))}`;
        return;
      }
      await delay(RETRY_PAUSE_MS);
    }
  }

  /** Enters again on `conn` and joins every group with since; false when that failed. */
  async reenter(conn) {
    const sinceOf = new Map(this.groups.map((g) => [g, this.log.since(g)]));
    const e = await conn.call('enter', { user: this.user }, { onReply: (f) => f.result && this.log.session(f.result.session, conn.node) });
    if (!e.result) return false;
    const entry = { node: conn.node, session: e.result.session, joins: [] };
    this.reentries.push(entry);
    const retried = new Map(this.groups.map((g) => [g, []]));
    const answers = await Promise.all(
      this.groups.map((g) =>
        retryUnavailable(
          () => conn.call('join', { session: e.result.session, group: g, since: sinceOf.get(g) }, { onReply: (f) => this.recordJoin(g, f, sinceOf.get(g)) }),
          (r) => retried.get(g).push(r.error.message),
        ),
      ),
    );
    answers.forEach((a, i) => {
      const g = this.groups[i];
      entry.joins.push({ group: g, since: sinceOf.get(g), answer: a.result ?? replyText(a), ...(retried.get(g).length ? { unavailableBefore: retried.get(g) } : {}) });
    });
    return answers.every((a) => a.result);
  }

  async stop() {
    this.stopped = true;
    this.conn?.terminate();
  }
}

/** One GET /v1/listen that the test can cut: {done: Promise<{status, body}|{error}>, cut()}. */
function listenOnce(server, session, cursor, timeout) {
  let req;
  const q = new URLSearchParams({ session, cursor: String(cursor), timeout: String(timeout) });
  const done = new Promise((resolve) => {
    req = http.request({ host: server.host, port: server.port, path: `/v1/listen?${q}`, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', (err) => resolve({ error: err.message }));
      res.on('aborted', () => resolve({ error: 'aborted' }));
      res.on('end', () => {
        let body;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode, body });
      });
    });
    req.on('error', (err) => resolve({ error: err.message }));
    req.end();
  });
  const timer = setTimeout(() => req.destroy(new Error('no answer in time')), timeout * 1000 + 10_000);
  return { done: done.finally(() => clearTimeout(timer)), cut: () => req.destroy(new Error('cut by the test')) };
}

class LongPollSubscriber extends Subscriber {
  async start() {
    const server = this.fleet.node(this.home);
    const r = await rpc(server.url, { id: 1, method: 'enter', params: { user: this.user, groups: this.groups } });
    assert.ok(r.body?.result, `${this.name}: enter on ${this.home}: HTTP ${r.status} ${r.text}`);
    this.log.session(r.body.result.session, this.home);
    for (const [g, info] of Object.entries(r.body.result.groups)) this.session.joined(g, info);
    this.connected = true;
    this.loop = this.run();
  }

  cut() {
    this.current?.cut();
  }

  async run() {
    let failingSince = null;
    let target = 0; // index into the preference list
    while (!this.stopped) {
      const list = this.fleet.preference(this.home, { sticky: this.sticky });
      const server = list[target % list.length];
      const s = this.session;
      this.current = listenOnce(server, s.id, s.lastEid, 1);
      const r = await this.current.done;
      if (this.stopped) return;
      if (r.status === 200 && Array.isArray(r.body?.events)) {
        if (failingSince !== null) this.resumeAnswers.push({ session: s.id, node: nodeName(server), answer: 'listened' });
        failingSince = null;
        this.connected = true;
        for (const e of r.body.events) s.event(e);
        continue;
      }
      if (r.status === 404 && r.body?.error?.code === 'unknown_session') {
        this.resumeAnswers.push({ session: s.id, node: nodeName(server), answer: 'unknown_session' });
        s.end(`unknown_session (listen through ${nodeName(server)})`);
        this.connected = false;
        if (await this.reenter(server)) {
          failingSince = null;
          continue;
        }
      } else if (r.error === 'cut by the test') {
        this.connected = false;
        failingSince ??= Date.now();
        continue; // resume at once, same node, same cursor
      }
      // Unreachable, refused or unavailable: the next node, after a pause.
      this.connected = false;
      failingSince ??= Date.now();
      if (Date.now() - failingSince > RESUME_BOUND_MS) {
        this.problem = `${this.name}: no listen answered within ${RESUME_BOUND_MS} ms; last: ${JSON.stringify(r).slice(0, 300)}`;
        return;
      }
      target += 1;
      await delay(RETRY_PAUSE_MS);
    }
  }

  /** enter + join since over POST /v1/rpc through `server`; false when that failed. */
  async reenter(server) {
    const sinceOf = new Map(this.groups.map((g) => [g, this.log.since(g)]));
    let e;
    try {
      e = await rpc(server.url, { id: 1, method: 'enter', params: { user: this.user } });
    } catch {
      return false;
    }
    if (!e.body?.result) return false;
    const session = e.body.result.session;
    this.log.session(session, nodeName(server));
    const entry = { node: nodeName(server), session, joins: [] };
    this.reentries.push(entry);
    for (const g of this.groups) {
      const retried = [];
      const a = await retryUnavailable(
        async () => {
          try {
            return (await rpc(server.url, { id: 1, method: 'join', params: { session, group: g, since: sinceOf.get(g) } })).body;
          } catch (err) {
            return { error: { code: 'request failed', message: err.message } };
          }
        },
        (r) => retried.push(r.error.message),
      );
      this.recordJoin(g, a, sinceOf.get(g));
      entry.joins.push({ group: g, since: sinceOf.get(g), answer: a.result ?? a.error, ...(retried.length ? { unavailableBefore: retried } : {}) });
      if (!a.result) return false;
    }
    return true;
  }

  async stop() {
    this.stopped = true;
    this.current?.cut();
    await bounded(this.loop ?? Promise.resolve(), 15_000, `${this.name}'s listen loop to end`).catch(() => {});
  }
}

// --- publishers -----------------------------------------------------------------------------------

class WsPublisher {
  constructor(checker, fleet, { name, home, groups, rate, sticky = false }) {
    this.log = checker.publisher(name);
    this.fleet = fleet;
    this.name = name;
    this.user = uniq(name);
    this.home = home;
    this.groups = groups;
    this.rate = rate; // speaks per second offered
    this.sticky = sticky;
    this.n = 0;
    this.stopped = false;
    this.conn = null;
    this.session = null;
    this.ready = false;
    this.inFlight = new Set();
    this.errors = new Map(); // reason → count
    this.unanswered = []; // attempts that got no answer within SPEAK_BOUND_MS
    this.problem = null;
  }

  async start() {
    await this.connect(this.fleet.node(this.home));
    this.t0 = Date.now();
    this.offered = 0;
    this.timer = setInterval(() => this.tick(), 10);
  }

  /** Opens a socket on `server`, attaches its session (or enters anew); throws on failure. */
  async connect(server) {
    const conn = await WsConn.open(server);
    conn.onEvent = () => {};
    conn.onClose = () => {
      if (conn !== this.conn || this.stopped) return;
      this.ready = false;
      this.reconnecting = this.reconnect();
    };
    this.conn = conn;
    if (this.session) {
      const a = await conn.call('attach', { session: this.session, cursor: 0 });
      if (a.result) {
        this.ready = true;
        return;
      }
      if (a.error?.code !== 'unknown_session') {
        conn.terminate();
        throw new Error(`attach: ${replyText(a)}`);
      }
    }
    const e = await conn.call('enter', { user: this.user });
    if (!e.result) {
      conn.terminate();
      throw new Error(`enter: ${replyText(e)}`);
    }
    this.session = e.result.session;
    this.ready = true;
  }

  async reconnect() {
    const deadline = Date.now() + RESUME_BOUND_MS;
    while (!this.stopped) {
      for (const server of this.fleet.preference(this.home, { sticky: this.sticky })) {
        if (this.stopped) return;
        try {
          await this.connect(server);
          return;
        } catch {
          /* the next node */
        }
      }
      if (Date.now() > deadline) {
        this.problem = `${this.name}: could not reconnect within ${RESUME_BOUND_MS} ms`;
        return;
      }
      await delay(RETRY_PAUSE_MS);
    }
  }

  cut() {
    this.conn?.terminate();
  }

  tick() {
    const due = Math.floor(((Date.now() - this.t0) * this.rate) / 1000);
    // Offer at the rate; what could not go out while disconnected or saturated is skipped, not burst.
    if (due - this.offered > this.rate / 10) this.offered = due - Math.ceil(this.rate / 10);
    while (this.offered < due && this.ready && this.conn.inFlight < MAX_IN_FLIGHT && !this.stopped) {
      this.offered += 1;
      this.speak();
    }
  }

  speak() {
    const conn = this.conn;
    const k = this.n++;
    const group = this.groups[k % this.groups.length];
    const data = { p: this.name, n: k };
    const a = this.log.attempt(group, data, conn.node);
    const p = conn.call('speak', { session: this.session, group, data }, { boundMs: SPEAK_BOUND_MS }).then((r) => {
      const seq = r.result?.groups?.[group]?.seq;
      if (typeof seq === 'number') this.log.acked(a, seq);
      else {
        if (r.timeout) {
          this.unanswered.push(a);
          if (conn === this.conn) conn.terminate(); // the frames behind it wait for it: resume on a new socket
        }
        const reason = r.error?.code ?? replyText(r);
        this.errors.set(reason, (this.errors.get(reason) ?? 0) + 1);
        this.log.failed(a, reason);
      }
    });
    this.inFlight.add(p);
    p.finally(() => this.inFlight.delete(p));
  }

  /** Stops offering and waits (bounded) for the answers still due. */
  async stop() {
    this.stopped = true;
    clearInterval(this.timer);
    await bounded(Promise.all([...this.inFlight]), SPEAK_BOUND_MS + 5_000, `${this.name}'s last answers`).catch(() => {});
    this.conn?.terminate();
  }
}

// --- a scenario: clients, load phases, drain, check ---------------------------------------------

class Scenario {
  constructor(servers, groups) {
    this.checker = new HistoryChecker();
    this.fleet = new Fleet(servers);
    this.groups = groups;
    this.subscribers = [];
    this.publishers = [];
  }

  /** Subscribers: `spec` = {node: {ws, lp}} counts. */
  async addSubscribers(spec, { sticky = false } = {}) {
    for (const [home, { ws = 0, lp = 0 }] of Object.entries(spec)) {
      for (let i = 0; i < ws; i++) this.subscribers.push(new WsSubscriber(this.checker, this.fleet, { name: `ws${i}@${home}`, home, groups: this.groups, sticky }));
      for (let i = 0; i < lp; i++) this.subscribers.push(new LongPollSubscriber(this.checker, this.fleet, { name: `lp${i}@${home}`, home, groups: this.groups, sticky }));
    }
    await Promise.all(this.subscribers.filter((s) => !s.log.current).map((s) => s.start()));
  }

  /** Publishers: `spec` = {node: count}, each offering `rate` speaks/s. */
  async addPublishers(spec, rate) {
    for (const [home, count] of Object.entries(spec)) {
      for (let i = 0; i < count; i++) this.publishers.push(new WsPublisher(this.checker, this.fleet, { name: `pub${i}@${home}`, home, groups: this.groups, rate }));
    }
    await Promise.all(this.publishers.filter((p) => !p.timer).map((p) => p.start()));
  }

  on(node) {
    return {
      subscribers: this.subscribers.filter((s) => s.home === node),
      publishers: this.publishers.filter((p) => p.home === node),
    };
  }

  acked(group) {
    return this.publishers.reduce((n, p) => n + p.log.ackedCount(group), 0);
  }

  /** Waits until every group has `more` further acknowledged publishes (by `publishers`, default all). */
  async untilMoreAcked(more, { publishers = this.publishers, what = '', boundMs = 60_000 } = {}) {
    const count = (g) => publishers.reduce((n, p) => n + p.log.ackedCount(g), 0);
    const base = new Map(this.groups.map((g) => [g, count(g)]));
    await until(() => this.clientProblem() ?? this.groups.every((g) => count(g) - base.get(g) >= more), {
      boundMs,
      what: `${more} more acknowledged publishes in every group${what ? ` (${what})` : ''}`,
      describe: () => `${JSON.stringify(this.groups.map((g) => count(g) - base.get(g)))}; publisher errors ${this.errorSummary()}`,
    });
    const problem = this.clientProblem();
    if (typeof problem === 'string') assert.fail(problem);
  }

  /** A client-side failure (a client that could not reconnect), or undefined. */
  clientProblem() {
    return [...this.subscribers, ...this.publishers].map((c) => c.problem).find(Boolean) ?? undefined;
  }

  errorSummary() {
    const all = {};
    for (const p of this.publishers) for (const [k, v] of p.errors) all[k] = (all[k] ?? 0) + v;
    return JSON.stringify(all);
  }

  /** Waits until every subscriber (of `list`) is connected again. */
  async untilConnected(list = this.subscribers, { boundMs = RESUME_BOUND_MS } = {}) {
    await until(() => this.clientProblem() ?? list.every((s) => s.connected), {
      boundMs,
      what: 'every subscriber to be connected again',
      describe: () => JSON.stringify(list.filter((s) => !s.connected).map((s) => ({ s: s.name, answers: s.resumeAnswers.slice(-3) }))),
    });
    const problem = this.clientProblem();
    if (typeof problem === 'string') assert.fail(problem);
  }

  /**
   * Stops the publishers (their last answers awaited), waits until every live subscriber
   * caught up with every group's last seq (bounded: what is still missing then is for the
   * checker to name), stops the subscribers and runs the checker.
   */
  async finish(t, options) {
    await Promise.all(this.publishers.map((p) => p.stop()));
    let lag = [];
    try {
      await until(
        () => {
          lag = this.checker.lagging();
          return lag.length === 0;
        },
        { boundMs: DRAIN_BOUND_MS, what: 'every live subscriber to catch up', describe: () => JSON.stringify(lag.slice(0, 10)) },
      );
    } catch (err) {
      t.diagnostic(`drain: ${err.message.slice(0, 1500)}`);
    }
    await Promise.all(this.subscribers.map((s) => s.stop()));
    const hung = this.publishers.reduce((n, p) => n + p.unanswered.length, 0);
    if (hung) t.diagnostic(`speaks without any answer within ${SPEAK_BOUND_MS} ms: ${hung}`);
    const stats = this.checker.check(options);
    t.diagnostic(`checker: ${JSON.stringify({ ...stats, recoveredJoins: undefined })}; recovered answers: ${JSON.stringify(countValues(stats.recoveredJoins))}; publisher errors ${this.errorSummary()}`);
    return stats;
  }

  /** Stops every client without checking (after a failure). */
  async abandon() {
    for (const p of this.publishers) {
      p.stopped = true;
      clearInterval(p.timer);
      p.conn?.terminate();
    }
    await Promise.all(this.subscribers.map((s) => s.stop()));
  }
}

/**
 * Asserts that every speak got an answer (a result or an error) within SPEAK_BOUND_MS:
 * docs/cluster.md says a publish in flight when its home died is answered with an error.
 */
function assertAnswered(sc) {
  const hung = sc.publishers.flatMap((p) => p.unanswered.map((a) => ({ p: p.name, group: a.group, via: a.via, n: a.data.n })));
  if (!hung.length) return;
  const byGroup = countValues(hung.map((h) => h.group));
  assert.fail(
    `${hung.length} speak(s) got no answer at all within ${SPEAK_BOUND_MS} ms (neither a result nor an error; each blocked its socket): per group ${JSON.stringify(byGroup)}; ` +
      `first: ${JSON.stringify(hung.slice(0, 5))}`,
  );
}

function countValues(list) {
  const out = {};
  for (const v of list) out[String(v)] = (out[String(v)] ?? 0) + 1;
  return out;
}

/** Runs `fn(scenario)` and always stops the scenario's clients. */
async function withScenario(servers, groups, fn) {
  const sc = new Scenario(servers, groups);
  try {
    return await fn(sc);
  } finally {
    await sc.abandon();
  }
}

/** The joins with since of the re-entries of `subscribers`, as {who, group, since, answer}. */
const sinceJoins = (subscribers) =>
  subscribers.flatMap((s) => s.reentries.flatMap((r) => r.joins.map((j) => ({ who: `${s.name} → ${r.node}`, ...j }))));

// --- the scenarios ----------------------------------------------------------------------------------

test('SIGKILL of a group home under ~1,000 msg/s: members stay in order, the victim\'s clients re-enter elsewhere and recover every group (checker)', { timeout: 120_000 }, (t) =>
  withCluster(3, BASE, async (servers) => {
    const { groups, role } = pickGroups('kill', 'n3', 2);
    t.diagnostic(`groups and n3's role: ${JSON.stringify([...role])}`);
    await withScenario(servers, groups, async (sc) => {
      await sc.addSubscribers({ n1: { ws: 1, lp: 1 }, n2: { ws: 1, lp: 1 }, n3: { ws: 2, lp: 1 } });
      await sc.addPublishers({ n1: 4, n2: 4, n3: 2 }, 100); // 10 × 100 = 1,000 speaks/s offered
      const t0 = Date.now();
      await sc.untilMoreAcked(200, { what: 'before the kill' });
      const ratePre = (sc.checker.stats().acked / ((Date.now() - t0) / 1000)).toFixed(0);

      sc.fleet.down.add('n3');
      await killNode(servers[2]);
      const victims = sc.on('n3').subscribers;
      const survivors = sc.publishers.filter((p) => p.home !== 'n3');
      await untilNodes([servers[0], servers[1]], 2, { boundMs: HEAL_BOUND_MS });
      await sc.untilConnected(victims);
      // Publishing goes on in every group, the victim's homes included, then the victims' publishers too.
      await sc.untilMoreAcked(300, { publishers: survivors, what: 'after the kill, by the survivors\' publishers' });
      await sc.untilMoreAcked(20, { publishers: sc.on('n3').publishers, what: 'after the kill, by the victim\'s publishers, reconnected' });

      const joins = sinceJoins(victims);
      t.diagnostic(`rate before the kill ≈ ${ratePre} acknowledged/s; victims' joins with since: ${JSON.stringify(countValues(joins.map((j) => j.answer?.recovered)))}`);
      assert.ok(victims.every((s) => s.reentries.length >= 1), `every client of n3 re-entered elsewhere: ${JSON.stringify(victims.map((s) => [s.name, s.resumeAnswers]))}`);
      const notRecovered = joins.filter((j) => j.answer?.recovered !== true).map((j) => `${j.group} (n3 was its ${role.get(j.group)}): ${j.who} since ${JSON.stringify(j.since)} → ${JSON.stringify(j.answer)}`);
      if (notRecovered.length) t.diagnostic(`joins with since not recovered: ${notRecovered.slice(0, 6).join(' ;; ')}`);
      const retriedJoins = joins.filter((j) => j.unavailableBefore);
      if (retriedJoins.length) t.diagnostic(`joins with since answered unavailable first, then retried (same since): ${JSON.stringify(retriedJoins.map((j) => ({ g: j.group, who: j.who, since: j.since, tries: j.unavailableBefore.length, final: j.answer })))}`);
      // The checker judges every join with since (requireRecovered) along with the rest.
      await sc.finish(t, { stableEpochs: true, requireRecovered: true });
      assertAnswered(sc);
    });
  }));

test('SIGSTOP of a node past --peer-timeout, then SIGCONT: the others drop it, it forks no group\'s order, and nothing acknowledged is lost for members that resume (checker)', { timeout: 150_000 }, (t) =>
  withCluster(3, BASE, async (servers) => {
    const [n1, n2, n3] = servers;
    const { groups, role } = pickGroups('stop', 'n3', 1);
    t.diagnostic(`groups and n3's role: ${JSON.stringify([...role])}`);
    await withScenario(servers, groups, async (sc) => {
      await sc.addSubscribers({ n1: { ws: 1, lp: 1 }, n2: { ws: 1 }, n3: { ws: 2, lp: 1 } });
      await sc.addPublishers({ n1: 2, n2: 2, n3: 2 }, 50);
      await sc.untilMoreAcked(100, { what: 'before SIGSTOP' });

      const resume = freezeNode(n3);
      try {
        // Past --peer-timeout: both others dropped it; publishing on them goes on meanwhile.
        await untilNodes([n1, n2], 2, { boundMs: HEAL_BOUND_MS });
        await sc.untilMoreAcked(100, { publishers: sc.publishers.filter((p) => p.home !== 'n3'), what: 'with n3 frozen, by the publishers of n1 and n2' });
      } finally {
        resume();
      }
      // n3 comes back: it sees the cluster again and the others count it in.
      await untilFormed(servers, 3, { boundMs: 30_000 });
      await sc.untilConnected();
      await sc.untilMoreAcked(20, { publishers: sc.on('n3').publishers, what: 'after SIGCONT, by the publishers of n3' });
      await sc.untilMoreAcked(50, { what: 'after SIGCONT' });

      const n3subs = sc.on('n3').subscribers;
      t.diagnostic(`n3's subscribers after SIGCONT: ${JSON.stringify(n3subs.map((s) => ({ s: s.name, sessions: s.log.sessions.length, lost: s.log.sessions.filter((x) => x.ended).map((x) => x.ended), resumed: s.resumeAnswers.map((a) => a.answer) })))}`);
      // One history per group, whichever node answers.
      const reader = n3subs.find((s) => s.session && !s.session.ended) ?? sc.subscribers.find((s) => !s.session.ended);
      await sc.finish(t, { stableEpochs: true, requireRecovered: true });
      const byNode = [];
      for (const server of servers) {
        for (const g of groups) {
          const r = await rpc(server.url, { id: 1, method: 'history', params: { session: reader.session.id, group: g } });
          assert.ok(r.body?.result, `history of ${g} through ${nodeName(server)}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
          sc.checker.observeHistory(nodeName(server), g, r.body.result);
          byNode.push({ node: nodeName(server), g, epoch: r.body.result.epoch, seqs: r.body.result.messages.map((m) => m.seq) });
        }
      }
      for (const g of groups) {
        const views = byNode.filter((v) => v.g === g);
        for (const v of views.slice(1)) {
          assert.equal(v.epoch, views[0].epoch, `group ${g}: history through ${v.node} has epoch ${v.epoch}, through ${views[0].node} ${views[0].epoch}`);
          assert.deepEqual(v.seqs, views[0].seqs, `group ${g}: history through ${v.node} and through ${views[0].node} differ`);
        }
      }
      sc.checker.check({ stableEpochs: true, requireRecovered: true });
      assertAnswered(sc);
    });
  }));

test('a node SIGKILLed and restarted at once under the same --node: a new incarnation, old sessions unknown_session, the groups\' histories come back (checker)', { timeout: 120_000 }, (t) =>
  withCluster(3, BASE, async (servers) => {
    const [n1, n2, n3] = servers;
    const { groups, role } = pickGroups('restart', 'n3', 1);
    t.diagnostic(`groups and n3's role: ${JSON.stringify([...role])}`);
    let again = null;
    try {
      await withScenario(servers, groups, async (sc) => {
        await sc.addSubscribers({ n1: { ws: 1, lp: 1 }, n2: { ws: 1 } });
        await sc.addSubscribers({ n3: { ws: 1, lp: 1 } }, { sticky: true }); // they come back to n3 only
        await sc.addPublishers({ n1: 2, n2: 2 }, 75);
        await sc.untilMoreAcked(100, { what: 'before the kill' });
        const oldSessions = sc.on('n3').subscribers.map((s) => s.session.id);

        sc.fleet.down.add('n3');
        await killNode(n3);
        again = await startClusterNode(2, [n1.clusterAddr, n2.clusterAddr], { args: BASE });
        sc.fleet.replace('n3', again);
        await untilFormed([n1, n2, again], 3, { boundMs: 30_000 });
        await sc.untilConnected();
        await sc.untilMoreAcked(100, { what: 'after the restart' });

        // The old sessions are gone for good, through every node.
        for (const server of [n1, n2, again]) {
          for (const session of oldSessions) {
            const r = await rpc(server.url, { id: 1, method: 'ping', params: { session } });
            assert.equal(r.body?.error?.code, 'unknown_session', `old n3 session ${session} through ${nodeName(server)} after the restart: HTTP ${r.status} ${r.text}`);
          }
        }
        for (const s of sc.on('n3').subscribers) {
          assert.ok(s.resumeAnswers.every((a) => a.answer !== 'attached' && a.answer !== 'listened'), `${s.name} resumed its old session on the new n3: ${JSON.stringify(s.resumeAnswers)}`);
          assert.ok(s.reentries.length >= 1 && s.reentries.every((r) => r.node === 'n3'), `${s.name} re-entered on the new n3: ${JSON.stringify(s.reentries)}`);
        }
        await sc.finish(t, { stableEpochs: true, requireRecovered: true });

        // History through the restarted node: every message of every group, from seq 1, as the members saw it.
        const reader = sc.on('n3').subscribers[0].session.id;
        const member = sc.on('n1').subscribers[0].log;
        for (const g of groups) {
          const r = await rpc(again.url, { id: 1, method: 'history', params: { session: reader, group: g } });
          assert.ok(r.body?.result, `history of ${g} through the new n3: HTTP ${r.status} ${r.text.slice(0, 300)}`);
          sc.checker.observeHistory('the new n3', g, r.body.result);
          const seen = member.sessions[0].entries.filter((e) => e.kind === 'message' && e.group === g);
          const last = seen.at(-1);
          assert.equal(r.body.result.epoch, last.epoch, `group ${g} (n3 was its ${role.get(g)}): history through the new n3 has another epoch`);
          const seqs = r.body.result.messages.map((m) => m.seq);
          assert.deepEqual(seqs, Array.from({ length: last.seq }, (_, i) => i + 1), `group ${g} (n3 was its ${role.get(g)}): history through the new n3 must hold seq 1..${last.seq}`);
        }
        sc.checker.check({ stableEpochs: true, requireRecovered: true });
        assertAnswered(sc);
      });
    } finally {
      if (again) await stopAll([again]);
    }
  }));

test('disconnect storm: every client of n2 cut at once, five times, while messages flow; all resume by eid/cursor: 0 gaps, 0 duplicates (checker)', { timeout: 120_000 }, (t) =>
  withCluster(3, BASE, async (servers) => {
    const { groups } = pickGroups('storm', 'n2', 1);
    await withScenario(servers, groups, async (sc) => {
      await sc.addSubscribers({ n1: { ws: 1 }, n2: { ws: 3, lp: 2 }, n3: { lp: 1 } }, { sticky: true });
      await sc.addPublishers({ n1: 2, n2: 2, n3: 2 }, 60);
      await sc.untilMoreAcked(50, { what: 'before the first storm' });
      const stormed = sc.on('n2');
      for (let round = 1; round <= 5; round++) {
        for (const c of [...stormed.subscribers, ...stormed.publishers]) c.cut();
        await sc.untilConnected(stormed.subscribers);
        await sc.untilMoreAcked(40, { what: `after storm ${round}` });
      }
      const answers = stormed.subscribers.flatMap((s) => s.resumeAnswers.map((a) => a.answer));
      t.diagnostic(`resume answers of n2's subscribers: ${JSON.stringify(countValues(answers))}`);
      for (const s of stormed.subscribers) assert.equal(s.log.sessions.length, 1, `${s.name} had to enter again: ${JSON.stringify(s.resumeAnswers)}`);
      await sc.finish(t, { stableEpochs: true, allowOverflow: false, allowSessionLoss: false });
      assertAnswered(sc);
    });
  }));
