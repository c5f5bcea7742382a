// A history checker for the cluster fault suite (tests/cluster/faults.test.mjs): clients
// record what they saw, then check() judges it against the contract's guarantees
// (protocol-v1.md, Guarantees and Cluster):
//
// - Subscribers record, per session and in the order received, every event with an eid
//   (messages with group, epoch, seq and data; `overflow` markers), every join's answer
//   (its seq and epoch, and `recovered` when it was a join with `since`), and the end of a
//   session (its node lost it: unknown_session).
// - Publishers record every attempt, then its outcome: acknowledged (with the seq the
//   answer gave) or not (an error, a timeout, a connection that closed first). There are no
//   idempotency keys: an unacknowledged publish may have been stored or not.
// - `observeHistory` adds what the `history` method answered (it takes part only in the
//   "one payload per (group, epoch, seq)" rule).
//
// check() asserts, collecting every violation and naming group, epoch, seq and subscriber:
//   1. no (group, epoch, seq) with two payloads, across all subscribers and history reads;
//      no payload at two different (epoch, seq);
//   2. per session: eids increase by exactly 1, except where an `overflow` jumps ahead;
//   3. per subscriber (all its sessions together): within an epoch, seqs strictly increase
//      (no duplicate, no reordering);
//   4. coverage: from each join on (after the join's seq; for a join with since and
//      recovered:true, after since.seq), a subscriber has every seq of the group without a
//      gap until its session ended (then up to the last seq it got) or, for a session alive
//      at the end, up to the group's last seq; gaps are excused only by an `overflow` of
//      that session between the two messages or by a join answering recovered:false;
//   5. every acknowledged publish appears exactly once, at the acknowledged seq, in every
//      subscriber whose coverage includes that seq; an unacknowledged one at most once per
//      subscriber, and at one (epoch, seq) only.
// Options of check(): {stableEpochs: the group's epoch must never change (fewer than
// --group-replicas nodes were lost); requireRecovered: every join with since must answer
// recovered:true; allowOverflow (default true); allowSessionLoss (default true): a session
// may end (unknown_session)}.

import assert from 'node:assert/strict';

/** JSON with sorted object keys: the identity of a payload (publishers make each unique). */
export function payloadKey(data) {
  const norm = (v) => {
    if (Array.isArray(v)) return v.map(norm);
    if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, norm(v[k])]));
    return v;
  };
  return JSON.stringify(norm(data));
}

const short = (s, n = 200) => (s.length > n ? `${s.slice(0, n)}…` : s);

/** One session of a subscriber: its joins and its events, in the order received. */
export class SessionLog {
  constructor(subscriber, id, node) {
    this.subscriber = subscriber;
    this.id = id;
    this.node = node;
    this.joins = new Map(); // group → {epoch, seq, since, recovered, at: index into entries}
    this.entries = []; // {kind: 'message', group, epoch, seq, data, key, eid} | {kind: 'overflow', eid, dropped}
    this.lastEid = 0;
    this.eidProblems = [];
    this.ended = null; // reason, once the session is gone
  }

  get label() {
    return `${this.subscriber.name} (session ${this.id}, entered on ${this.node})`;
  }

  /**
   * A join's answer (or one group of an `enter` answer: {seq, epoch}). `since`: the
   * {seq, epoch} the join named, if any; `recovered` its answer then.
   */
  joined(group, { seq, epoch, recovered }, since) {
    if (this.joins.has(group)) return; // a repeated join answers the current seq: coverage started earlier
    this.joins.set(group, { seq, epoch, since: since ?? null, recovered: since ? recovered : undefined, at: this.entries.length });
  }

  /**
   * An event as received (an object with `eid`; events without eid, e.g. heartbeats, are
   * ignored). Returns false for one at or before the last eid (not recorded: a
   * duplicate delivery, noted as an eid problem).
   */
  event(e) {
    if (typeof e?.eid !== 'number') return true;
    if (e.eid <= this.lastEid) {
      this.eidProblems.push(`eid ${e.eid} (${e.type}) delivered again after eid ${this.lastEid}`);
      return false;
    }
    if (e.type !== 'overflow' && e.eid !== this.lastEid + 1) this.eidProblems.push(`eid jumped from ${this.lastEid} to ${e.eid} without an overflow`);
    this.lastEid = e.eid;
    if (e.type === 'message') {
      this.entries.push({ kind: 'message', group: e.group, epoch: e.epoch, seq: e.seq, data: e.data, key: payloadKey(e.data), eid: e.eid });
    } else if (e.type === 'overflow') {
      this.entries.push({ kind: 'overflow', eid: e.eid, dropped: e.dropped });
    }
    return true;
  }

  /** The session is gone (e.g. `unknown_session`): its coverage ends at what it got. */
  end(reason) {
    if (!this.ended) this.ended = reason;
  }
}

/** A subscriber: one client identity (a user) over one or more sessions, in order. */
export class SubscriberLog {
  constructor(name) {
    this.name = name;
    this.sessions = [];
  }

  session(id, node) {
    const s = new SessionLog(this, id, node);
    this.sessions.push(s);
    return s;
  }

  get current() {
    return this.sessions.at(-1);
  }

  /**
   * The resume point of `group` for a join with since: the last message of the group this
   * subscriber received, else where its coverage began; null when it never joined.
   */
  since(group) {
    for (let i = this.sessions.length - 1; i >= 0; i--) {
      const s = this.sessions[i];
      for (let j = s.entries.length - 1; j >= 0; j--) {
        const en = s.entries[j];
        if (en.kind === 'message' && en.group === group) return { seq: en.seq, epoch: en.epoch };
      }
      const join = s.joins.get(group);
      if (join) return join.since && join.recovered ? { ...join.since } : { seq: join.seq, epoch: join.epoch };
    }
    return null;
  }

  /** Messages received so far (all sessions). */
  get received() {
    return this.sessions.reduce((n, s) => n + s.entries.filter((e) => e.kind === 'message').length, 0);
  }
}

/** A publisher's attempts and their outcomes. */
export class PublisherLog {
  constructor(name) {
    this.name = name;
    this.attempts = []; // {group, data, key, state: 'pending'|'acked'|'failed', seq, reason, via}
  }

  /** Records an attempt before it is sent; returns its handle for acked()/failed(). */
  attempt(group, data, via) {
    const a = { publisher: this.name, group, data, key: payloadKey(data), state: 'pending', seq: null, reason: null, via };
    this.attempts.push(a);
    return a;
  }

  acked(a, seq) {
    a.state = 'acked';
    a.seq = seq;
  }

  /** No acknowledgement (error answer, connection lost, timeout): may or may not be stored. */
  failed(a, reason) {
    if (a.state === 'pending') {
      a.state = 'failed';
      a.reason = reason;
    }
  }

  ackedCount(group) {
    return this.attempts.filter((a) => a.state === 'acked' && (group === undefined || a.group === group)).length;
  }
}

export class HistoryChecker {
  constructor() {
    this.subscribers = [];
    this.publishers = [];
    this.historyReads = []; // {source, group, epoch, messages}
  }

  subscriber(name) {
    const s = new SubscriberLog(name);
    this.subscribers.push(s);
    return s;
  }

  publisher(name) {
    const p = new PublisherLog(name);
    this.publishers.push(p);
    return p;
  }

  /** What `history` answered through some node ({epoch, messages}). */
  observeHistory(source, group, { epoch, messages }) {
    this.historyReads.push({ source, group, epoch, messages });
  }

  /** Acknowledged publishes per group. */
  ackedByGroup() {
    const out = new Map();
    for (const p of this.publishers) for (const a of p.attempts) if (a.state === 'acked') out.set(a.group, (out.get(a.group) ?? 0) + 1);
    return out;
  }

  /** The highest seq known for each (group, epoch): acknowledged or received by anyone. */
  lastSeqs() {
    const last = new Map(); // `${group}\u0000${epoch}` → seq
    const bump = (g, e, seq) => {
      const k = `${g}\u0000${e}`;
      if (!(last.get(k) >= seq)) last.set(k, seq);
    };
    const epochsOf = this.epochs();
    for (const sub of this.subscribers) for (const s of sub.sessions) for (const en of s.entries) if (en.kind === 'message') bump(en.group, en.epoch, en.seq);
    const where = this.placements();
    for (const p of this.publishers) {
      for (const a of p.attempts) {
        if (a.state !== 'acked') continue;
        const seen = where.get(a.key);
        const epoch = seen?.[0]?.epoch ?? (epochsOf.get(a.group)?.size === 1 ? [...epochsOf.get(a.group)][0] : null);
        if (epoch !== null) bump(a.group, epoch, a.seq);
      }
    }
    return last;
  }

  /** group → Set of epochs seen (subscribers' messages and joins). */
  epochs() {
    const out = new Map();
    const add = (g, e) => {
      if (!out.has(g)) out.set(g, new Set());
      out.get(g).add(e);
    };
    for (const sub of this.subscribers) {
      for (const s of sub.sessions) {
        for (const [g, j] of s.joins) add(g, j.epoch);
        for (const en of s.entries) if (en.kind === 'message') add(en.group, en.epoch);
      }
    }
    return out;
  }

  /** payload key → [{group, epoch, seq, who}] of every copy received. */
  placements() {
    const out = new Map();
    for (const sub of this.subscribers) {
      for (const s of sub.sessions) {
        for (const en of s.entries) {
          if (en.kind !== 'message') continue;
          if (!out.has(en.key)) out.set(en.key, []);
          out.get(en.key).push({ group: en.group, epoch: en.epoch, seq: en.seq, who: s.label });
        }
      }
    }
    return out;
  }

  /**
   * The live coverage that has not caught up yet: [{subscriber, group, have, want}] for
   * every open session whose last seq of a group is below the group's last known seq.
   * A test waits until this is empty before check().
   */
  lagging() {
    const last = this.lastSeqs();
    const out = [];
    for (const sub of this.subscribers) {
      const s = sub.current;
      if (!s || s.ended) continue;
      for (const [g] of s.joins) {
        const since = sub.since(g);
        if (!since) continue;
        const want = last.get(`${g}\u0000${since.epoch}`) ?? since.seq;
        if (since.seq < want) out.push({ subscriber: s.label, group: g, have: since.seq, want });
      }
    }
    return out;
  }

  /** Counts for a report. */
  stats() {
    const attempts = this.publishers.flatMap((p) => p.attempts);
    const where = this.placements();
    const failed = attempts.filter((a) => a.state !== 'acked');
    return {
      attempts: attempts.length,
      acked: attempts.filter((a) => a.state === 'acked').length,
      unacked: failed.length,
      unackedStored: failed.filter((a) => where.has(a.key)).length,
      received: this.subscribers.reduce((n, s) => n + s.received, 0),
      sessions: this.subscribers.reduce((n, s) => n + s.sessions.length, 0),
      sessionsLost: this.subscribers.reduce((n, s) => n + s.sessions.filter((x) => x.ended).length, 0),
      recoveredJoins: this.subscribers.flatMap((s) => s.sessions.flatMap((x) => [...x.joins.values()])).filter((j) => j.since).map((j) => j.recovered),
      overflows: this.subscribers.reduce((n, s) => n + s.sessions.reduce((m, x) => m + x.entries.filter((e) => e.kind === 'overflow').length, 0), 0),
    };
  }

  /** Runs every rule; throws one AssertionError listing the violations (see the file comment). */
  check({ stableEpochs = false, requireRecovered = false, allowOverflow = true, allowSessionLoss = true, perBucket = 3, maxLines = 80 } = {}) {
    const problems = [];
    const fail = (kind, msg) => problems.push({ kind, msg, group: /^group (\S+):/.exec(msg)?.[1] ?? '' });
    const ackedAt = new Map(); // `${group}\u0000${seq}` → [attempts acknowledged with that seq]
    const attemptsByKey = new Map();
    for (const p of this.publishers) {
      for (const a of p.attempts) {
        if (attemptsByKey.has(a.key)) fail('payload reused', `publisher ${p.name}: payload ${short(a.key)} attempted twice (the test must make payloads unique)`);
        attemptsByKey.set(a.key, a);
        if (a.state !== 'acked') continue;
        const k = `${a.group}\u0000${a.seq}`;
        if (!ackedAt.has(k)) ackedAt.set(k, []);
        ackedAt.get(k).push(a);
      }
    }
    // 1. One payload per (group, epoch, seq); one (epoch, seq) per payload.
    const bySlot = new Map(); // `${g}\u0000${e}\u0000${seq}` → {key, who}
    const slotOf = new Map(); // key → {group, epoch, seq, who}
    const note = (g, e, seq, key, who) => {
      const slot = `${g}\u0000${e}\u0000${seq}`;
      const had = bySlot.get(slot);
      if (had && had.key !== key) fail('two payloads at one seq', `group ${g}: epoch ${e} seq ${seq} has two payloads: ${short(had.key, 120)} at ${had.who} and ${short(key, 120)} at ${who}`);
      else if (!had) bySlot.set(slot, { key, who });
      const at = slotOf.get(key);
      if (at && (at.group !== g || at.epoch !== e || at.seq !== seq))
        fail('one payload at two seqs', `group ${g}: payload ${short(key, 120)} at epoch ${e} seq ${seq} at ${who} but at group ${at.group} epoch ${at.epoch} seq ${at.seq} at ${at.who}`);
      else if (!at) slotOf.set(key, { group: g, epoch: e, seq, who });
    };
    for (const sub of this.subscribers) for (const s of sub.sessions) for (const en of s.entries) if (en.kind === 'message') note(en.group, en.epoch, en.seq, en.key, s.label);
    for (const h of this.historyReads) for (const m of h.messages) note(h.group, m.epoch ?? h.epoch, m.seq, payloadKey(m.data), `history of ${h.group} through ${h.source}`);

    // Two acknowledgements of one (group, epoch, seq); the epoch of an acknowledgement is where
    // its payload was seen, else the group's only epoch.
    const epochs = this.epochs();
    const ackEpoch = (a) => slotOf.get(a.key)?.epoch ?? (epochs.get(a.group)?.size === 1 ? [...epochs.get(a.group)][0] : '?');
    for (const [k, list] of ackedAt) {
      const [g, seq] = k.split('\u0000');
      const byEpoch = new Map();
      for (const a of list) byEpoch.set(ackEpoch(a), [...(byEpoch.get(ackEpoch(a)) ?? []), a]);
      for (const [e, same] of byEpoch) {
        if (same.length > 1) fail('seq acknowledged twice', `group ${g}: epoch ${e} seq ${seq} acknowledged to ${same.length} publishes: ${same.map((a) => `${a.publisher} ${short(a.key, 80)}`).join('; ')}`);
      }
    }
    // Acknowledged seqs agree with where the payload was seen.
    for (const [key, at] of slotOf) {
      const a = attemptsByKey.get(key);
      if (a && a.state === 'acked' && (a.seq !== at.seq || a.group !== at.group))
        fail('acknowledged seq differs', `group ${a.group}: publish ${short(key, 120)} by ${a.publisher} was acknowledged with seq ${a.seq} but delivered as group ${at.group} seq ${at.seq} at ${at.who}`);
    }

    if (stableEpochs) {
      for (const [g, set] of epochs) if (set.size > 1) fail('epoch changed', `group ${g}: its epoch changed (${[...set].join(', ')}) although fewer than --group-replicas nodes were lost`);
    }
    const last = this.lastSeqs();

    for (const sub of this.subscribers) {
      // 2. Eids per session; session ends and overflows as allowed.
      for (const s of sub.sessions) {
        for (const p of s.eidProblems) fail('eid rule', `subscriber ${s.label}: ${p}`);
        if (s.ended && !allowSessionLoss) fail('session lost', `subscriber ${s.label}: the session was lost (${s.ended})`);
        if (!allowOverflow) for (const en of s.entries) if (en.kind === 'overflow') fail('overflow', `subscriber ${s.label}: overflow at eid ${en.eid} (dropped ${en.dropped})`);
        for (const [g, j] of s.joins) {
          if (!j.since) continue;
          if (j.recovered === true && j.epoch !== j.since.epoch) fail('recovered with another epoch', `group ${g}: subscriber ${s.label} joined since ${JSON.stringify(j.since)} and got recovered:true with another epoch ${j.epoch}`);
          if (j.recovered !== true && requireRecovered) fail('not recovered', `group ${g}: subscriber ${s.label} joined since ${JSON.stringify(j.since)}: recovered ${j.recovered} (epoch now ${j.epoch}, seq ${j.seq}) although the group's history should have been kept`);
        }
      }

      // 3. Per subscriber and epoch, seqs strictly increase across all its sessions.
      const groups = new Set(sub.sessions.flatMap((s) => [...s.joins.keys(), ...s.entries.filter((e) => e.kind === 'message').map((e) => e.group)]));
      for (const g of groups) {
        const lastIn = new Map(); // epoch → {seq, who}
        for (const s of sub.sessions) {
          for (const en of s.entries) {
            if (en.kind !== 'message' || en.group !== g) continue;
            const prev = lastIn.get(en.epoch);
            if (prev && en.seq <= prev.seq) {
              fail('duplicate or out of order', `group ${g}: subscriber ${sub.name} got epoch ${en.epoch} seq ${en.seq} (${en.seq === prev.seq ? 'a duplicate' : 'out of order'}) in session ${s.id} at eid ${en.eid}, after seq ${prev.seq} (session ${prev.who})`);
            }
            if (!prev || en.seq > prev.seq) lastIn.set(en.epoch, { seq: en.seq, who: s.id });
          }
        }
      }

      // 4. Coverage without unexplained gaps, 5. acknowledged publishes exactly once.
      const copies = new Map(); // payload key → count in this subscriber
      for (const s of sub.sessions) for (const en of s.entries) if (en.kind === 'message') copies.set(en.key, (copies.get(en.key) ?? 0) + 1);
      for (const [key, n] of copies) {
        if (n > 1) {
          const a = attemptsByKey.get(key);
          fail('payload received twice', `group ${a?.group ?? slotOf.get(key)?.group}: subscriber ${sub.name} received payload ${short(key, 120)} ${n} times (seq ${slotOf.get(key)?.seq}; ${a ? (a.state === 'acked' ? 'acknowledged' : 'unacknowledged') : 'not published by the test'})`);
        }
      }
      const covered = []; // {group, epoch, from (exclusive), to (inclusive), who}
      for (const s of sub.sessions) {
        for (const [g, j] of s.joins) {
          const recovered = j.since && j.recovered === true;
          let epoch = recovered ? j.since.epoch : j.epoch;
          let prev = recovered ? j.since.seq : j.seq;
          let from = prev;
          let overflowSince = false;
          for (let i = 0; i < s.entries.length; i++) {
            const en = s.entries[i];
            if (en.kind === 'overflow') {
              overflowSince = true;
              continue;
            }
            if (en.group !== g) continue;
            if (en.epoch !== epoch) {
              // A new epoch: the group's history was lost; nothing before it can be asked for.
              covered.push({ group: g, epoch, from, to: prev, who: s.label });
              epoch = en.epoch;
              prev = en.seq - 1;
              from = prev;
            }
            if (en.seq > prev + 1 && !overflowSince) {
              const missing = describeMissing(g, prev + 1, en.seq - 1, ackedAt);
              fail('gap', `group ${g}: subscriber ${s.label} has a gap in epoch ${epoch}: seq ${prev + 1}..${en.seq - 1} missing before seq ${en.seq} (eid ${en.eid}), no overflow or recovered:false announced it${missing}`);
            }
            if (en.seq > prev + 1 && overflowSince) {
              covered.push({ group: g, epoch, from, to: prev, who: s.label });
              from = en.seq - 1;
            }
            if (en.seq > prev) prev = en.seq;
            overflowSince = false;
          }
          let to = prev;
          if (!s.ended && s === sub.current) {
            const want = last.get(`${g}\u0000${epoch}`) ?? prev;
            if (want > prev && !overflowSince) {
              fail('missing at the end', `group ${g}: subscriber ${s.label} (still connected) is missing epoch ${epoch} seq ${prev + 1}..${want}${describeMissing(g, prev + 1, want, ackedAt)}`);
            }
            to = Math.max(prev, want);
          }
          covered.push({ group: g, epoch, from, to, who: s.label });
        }
      }
      for (const [k, list] of ackedAt) {
        const [g, seqText] = k.split('\u0000');
        const seq = Number(seqText);
        for (const a of list) {
          const epoch = ackEpoch(a);
          const cover = covered.find((c) => c.group === g && c.epoch === epoch && c.from < seq && seq <= c.to);
          if (!cover) continue;
          // More than one copy is reported above (a payload received twice).
          if (!copies.has(a.key)) fail('acknowledged publish missing', `group ${g}: acknowledged publish seq ${seq} by ${a.publisher} (${short(a.key, 120)}) is missing at subscriber ${cover.who}, whose history covers epoch ${cover.epoch} seq ${cover.from + 1}..${cover.to}`);
        }
      }
    }

    if (problems.length) {
      // Grouped by kind and group: the first few of each, then how many more.
      const buckets = new Map();
      for (const p of problems) {
        const k = `${p.kind} | ${p.group}`;
        if (!buckets.has(k)) buckets.set(k, []);
        buckets.get(k).push(p);
      }
      const lines = [];
      for (const [k, list] of buckets) {
        lines.push(`  [${k || 'other'}] ${list.length} violation(s):`);
        for (const p of list.slice(0, perBucket)) lines.push(`    - ${p.msg}`);
        if (list.length > perBucket) lines.push(`    … and ${list.length - perBucket} more`);
      }
      const st = this.stats();
      assert.fail(
        `history check: ${problems.length} violation(s) in ${buckets.size} kind(s)/group(s):\n${lines.slice(0, maxLines).join('\n')}${lines.length > maxLines ? '\n  …' : ''}\n` +
          `(recorded: ${JSON.stringify({ ...st, recoveredJoins: undefined })})`,
      );
    }
    return this.stats();
  }
}

function describeMissing(group, from, to, ackedAt) {
  const acked = [];
  for (let seq = from; seq <= to && acked.length < 3; seq++) {
    const list = ackedAt.get(`${group}\u0000${seq}`);
    if (list) acked.push(`seq ${seq} acknowledged to ${list[0].publisher} as ${short(list[0].key, 80)}`);
  }
  return acked.length ? ` (${acked.join('; ')})` : '';
}
