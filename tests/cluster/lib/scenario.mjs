// Comparing what a cluster answers with what one node answers: run the same scenario once
// with every call on a single herald, once spread over the nodes of a cluster, and compare
// the answers after normalising what legitimately differs (session ids, unique names,
// epochs, timestamps, the order of presence lists).

import assert from 'node:assert/strict';
import { assertTime } from '../../blackbox/lib/herald.mjs';

/**
 * A normaliser: `name(real, placeholder)` registers a substitution (session ids, unique
 * group and user names); `norm(value)` returns a deep copy where those strings are
 * replaced, `time` fields are checked (ms since the epoch) and replaced by "<time>",
 * `epoch` fields by "<epoch>" (after noting them per group: see `epochs`), and `users`
 * arrays are sorted.
 */
export class Normaliser {
  constructor() {
    this.subs = new Map();
    this.epochs = new Map(); // group (real name) → Set of epochs seen
  }

  name(real, placeholder) {
    this.subs.set(real, placeholder);
    return real;
  }

  noteEpoch(group, epoch, where) {
    if (typeof epoch !== 'string') assert.fail(`epoch of ${this.subs.get(group) ?? group} is not a string in ${where}: ${JSON.stringify(epoch)}`);
    if (!this.epochs.has(group)) this.epochs.set(group, new Map());
    this.epochs.get(group).set(epoch, where);
  }

  /** Notes the epochs an answer or event carries, per group. */
  noteEpochsIn(value, where, group) {
    if (Array.isArray(value)) {
      for (const v of value) this.noteEpochsIn(v, where, group);
      return;
    }
    if (!value || typeof value !== 'object') return;
    const g = typeof value.group === 'string' ? value.group : group;
    if ('epoch' in value && g !== undefined) this.noteEpoch(g, value.epoch, where);
    for (const [k, v] of Object.entries(value)) {
      if (k === 'groups' && v && typeof v === 'object' && !Array.isArray(v)) {
        for (const [name, info] of Object.entries(v)) if (info && typeof info === 'object' && 'epoch' in info) this.noteEpoch(name, info.epoch, where);
      } else if (k === 'messages') this.noteEpochsIn(v, where, g);
    }
  }

  /** Asserts that each group was seen with one epoch only. */
  assertOneEpochPerGroup() {
    for (const [group, seen] of this.epochs) {
      assert.equal(seen.size, 1, `group ${this.subs.get(group) ?? group} answered with several epochs: ${JSON.stringify([...seen])}`);
    }
  }

  norm(value, key) {
    if (Array.isArray(value)) {
      const out = value.map((v) => this.norm(v));
      if (key === 'users') out.sort();
      return out;
    }
    if (value && typeof value === 'object') {
      const out = {};
      for (const [k, v] of Object.entries(value)) out[this.subs.get(k) ?? k] = this.norm(v, k);
      return out;
    }
    if (key === 'time') {
      assertTime(value, 'time');
      return '<time>';
    }
    if (key === 'epoch') return '<epoch>';
    if (typeof value === 'string') return this.subs.get(value) ?? value;
    return value;
  }
}

/** An event normalised for comparison: without eid (the Inbox checked eids). */
export function eventKey(n, e) {
  const rest = { ...e };
  delete rest.eid;
  return JSON.stringify(n.norm(rest));
}

/** Asserts that the messages of each group came in strictly increasing seq order. */
export function assertSeqOrder(events, what) {
  const last = new Map();
  for (const e of events) {
    if (e.type !== 'message') continue;
    const prev = last.get(e.group) ?? -Infinity;
    assert.ok(e.seq > prev, `${what}: seq ${e.seq} of ${e.group} after ${prev}: ${JSON.stringify(events)}`);
    last.set(e.group, e.seq);
  }
}
