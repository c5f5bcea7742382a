/*
 * herald.js — the browser client of the Herald v1 protocol: the entry module.
 *
 * The library is written as the ES modules of web/herald/ and served as one classic script,
 * /herald.js, that cmake/bundle_web.cmake joins from them at build time (no dependencies, no
 * node). Either way of loading that file defines `globalThis.Herald`:
 *
 *   <script src="/herald.js"></script>                      → window.Herald
 *   <script type="module">import '/herald.js'; const { Herald } = globalThis; …</script>
 *
 * Nothing touches the DOM until a client connects, so node imports these modules to test
 * their pure parts (tests/web/).
 *
 * Layers, bottom up:
 *   - helpers.js, bookkeeping.js: the error type, URLs, timers, an emitter; backoff, the bounded
 *     command queue, eid/seq resume state, the transport fallback order;
 *   - transports/: ws, sse, longpoll, jsonp, frame — each streams one session's events and
 *     carries command batches (ws on its socket, jsonp by <script>, the others by POST /v1/rpc);
 *   - engine.js: owns the session; connects, resumes by eid, re-enters on node loss, falls back;
 *   - client.js, follower.js: what the app sees. With tab sharing, only the tab holding a Web
 *     Lock runs an Engine (the leader); the other tabs of the same user reach it through a
 *     BroadcastChannel.
 *
 * The wire formats are those of docs/protocol.md; the API is described in docs/web-client.md.
 */

import { ALL_TRANSPORTS } from './bookkeeping.js';
import { Client } from './client.js';
import { HeraldError } from './helpers.js';

const VERSION = '1.0.0';

/** Connects (in the background) and returns the client at once; `await client.ready` to wait. */
function connect(options) {
  return new Client(options);
}

export const Herald = {
  version: VERSION,
  connect,
  Client,
  HeraldError,
  transports: ALL_TRANSPORTS.slice(),
};

globalThis.Herald = Herald;
