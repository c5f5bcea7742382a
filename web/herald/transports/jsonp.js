// JSONP: long-poll and commands by <script> requests the server answers by calling a page
// function, for cross-domain servers without CORS. Also home of the global callback registry
// the forever-frame uses.

import { HeraldError, endpoint, within } from '../helpers.js';
import { LongPollTransport } from './http.js';

// JSONP callbacks live on one global object so that their names fit the server's callback rule
// (^[A-Za-z_$][A-Za-z0-9_$.]{0,63}$) and survive the module/classic difference.
let callbackCounter = 0;
export function callbackRegistry(name) {
  if (!globalThis[name]) Object.defineProperty(globalThis, name, { value: {}, configurable: true });
  return globalThis[name];
}

/** A callback name not used before in this page: `prefix` and a counter shared by both registries. */
export function nextCallbackKey(prefix) {
  callbackCounter += 1;
  return prefix + callbackCounter;
}

/**
 * GET `url` + `&callback=…` as a <script>; resolves with the argument the server called back
 * with. A refused request (HTTP 403 without --jsonp, a network error) fires the script's error.
 */
function jsonpRequest(url, timeoutMs) {
  const registry = callbackRegistry('__heraldJsonp');
  const key = nextCallbackKey('c');
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

export class JsonpTransport extends LongPollTransport {
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
