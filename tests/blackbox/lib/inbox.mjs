// A session's events over long-poll (GET /v1/listen), and predicates to wait for one.

import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { describeResponse, listen } from './http.mjs';

/**
 * A session's view of its event stream over GET /v1/listen. It keeps every event
 * received, advances (and so acknowledges) the cursor, and checks the contract's
 * eid rule on the way: each event's eid is the previous one + 1, except that an
 * `overflow` event may jump ahead.
 */
export class Inbox {
  constructor(url, session, { cursor = 0 } = {}) {
    this.url = url;
    this.session = session;
    this.cursor = cursor;
    this.events = [];
  }

  /** One listen with that server-side timeout (s); returns the new events. */
  async poll(timeout = 1) {
    const r = await listen(this.url, this.session, this.cursor, timeout);
    assert.equal(r.status, 200, `listen failed: ${describeResponse(r)}`);
    assert.ok(Array.isArray(r.body?.events), `listen: no events array in ${r.text}`);
    let prev = this.cursor;
    for (const e of r.body.events) {
      assert.equal(typeof e.eid, 'number', `event without eid: ${JSON.stringify(e)}`);
      if (e.type === 'overflow') assert.ok(e.eid > prev, `overflow eid ${e.eid} not after ${prev}`);
      else assert.equal(e.eid, prev + 1, `eid jumped from ${prev} to ${e.eid} without overflow: ${r.text}`);
      prev = e.eid;
    }
    const expectedCursor = r.body.events.length ? r.body.events.at(-1).eid : this.cursor;
    assert.equal(r.body.cursor, expectedCursor, `listen cursor must be the last eid delivered: ${r.text}`);
    this.events.push(...r.body.events);
    this.cursor = r.body.cursor;
    return r.body.events;
  }

  /**
   * Polls (long-poll `timeout` s each) until an event received so far satisfies
   * `pred`; returns it. Fails after `boundMs`, showing what did arrive.
   */
  async until(pred, { boundMs = 10_000, timeout = 1, what = 'a matching event' } = {}) {
    const deadline = Date.now() + boundMs;
    for (;;) {
      const found = this.events.find(pred);
      if (found) return found;
      if (Date.now() > deadline)
        assert.fail(`no ${what} within ${boundMs} ms; session ${this.session} received: ${JSON.stringify(this.events)}`);
      await this.poll(timeout);
    }
  }

  /** Events received before the first one satisfying `pred` (which must exist). */
  before(pred) {
    const i = this.events.findIndex(pred);
    assert.ok(i >= 0, 'marker event not received');
    return this.events.slice(0, i);
  }
}

/** Predicate helpers for Inbox.until; `data` is compared as JSON values (key order free). */
export const is = {
  message: (group, data) => (e) => e.type === 'message' && e.group === group && (data === undefined || isDeepStrictEqual(e.data, data)),
  join: (group, user) => (e) => e.type === 'join' && e.group === group && e.user === user,
  leave: (group, user, reason) => (e) => e.type === 'leave' && e.group === group && e.user === user && (reason === undefined || e.reason === reason),
  direct: (from, data) => (e) => e.type === 'direct' && e.from === from && (data === undefined || isDeepStrictEqual(e.data, data)),
};
