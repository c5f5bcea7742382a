// Values pushed by callbacks (Collector), and a `fetch` for the `eventsource` npm client
// that lets a test see, cut and hold its connections.

import http from 'node:http';
import { ANSWER_BOUND_MS, bounded } from './bounded.mjs';

/**
 * Collects values pushed by callbacks (e.g. EventSource listeners) and waits, bounded,
 * for one satisfying a predicate; re-checked on every push.
 */
export class Collector {
  constructor(what = 'values') {
    this.what = what;
    this.items = [];
    this.waiters = new Set();
  }

  push(item) {
    this.items.push(item);
    for (const w of [...this.waiters]) w();
  }

  until(check, { boundMs = ANSWER_BOUND_MS, what = 'a matching item' } = {}) {
    let waiter;
    const p = new Promise((resolve) => {
      waiter = () => {
        const v = check(this.items);
        if (v) {
          this.waiters.delete(waiter);
          resolve(v);
        }
      };
      this.waiters.add(waiter);
      waiter();
    });
    return bounded(p, boundMs, what, () => this.waiters.delete(waiter)).catch((err) => {
      err.message += `; ${this.what} so far: ${JSON.stringify(this.items.map((i) => i?.describe?.() ?? i)).slice(0, 4000)}`;
      throw err;
    });
  }
}

/**
 * A `fetch` for the `eventsource` package (v4 `new EventSource(url, {fetch})`) that
 * speaks node:http on one fresh connection per request, so that a test can:
 * - see every request the EventSource made (`requests`: {url, headers}; header names
 *   as the library wrote them, e.g. 'Last-Event-ID'), and wait for the n-th
 *   (`untilRequests(n)`);
 * - cut the current connection as a network would (`cut()`): the library sees the body
 *   fail and reconnects by itself with Last-Event-ID;
 * - hold the next request before it reaches the server (`hold()` returns a release
 *   function), to act while the client is disconnected.
 */
export function eventSourceFetch() {
  const requests = new Collector('EventSource requests');
  let gate = null;
  let current = null;
  const fetchFn = async (input, init = {}) => {
    const url = new URL(typeof input === 'string' ? input : input.url ?? String(input));
    const headers = { ...(init.headers ?? {}) };
    const record = { url: url.href, headers };
    requests.push(record);
    if (gate) await gate;
    return new Promise((resolve, reject) => {
      const req = http.request(
        { host: url.hostname, port: url.port, method: 'GET', path: url.pathname + url.search, headers, agent: false },
        (res) => {
          record.status = res.statusCode;
          const hdrs = new Headers();
          for (const [k, v] of Object.entries(res.headers)) hdrs.set(k, Array.isArray(v) ? v.join(', ') : String(v));
          let done = false;
          const body =
            res.statusCode === 204
              ? null
              : new ReadableStream({
                  start(controller) {
                    res.on('data', (d) => !done && controller.enqueue(new Uint8Array(d)));
                    res.on('end', () => {
                      if (!done) {
                        done = true;
                        controller.close();
                      }
                    });
                    res.on('close', () => {
                      if (!done) {
                        done = true;
                        controller.error(new Error('connection closed mid-body'));
                      }
                    });
                    res.on('error', () => {});
                  },
                  cancel() {
                    done = true;
                    req.destroy();
                  },
                });
          resolve(new Response(body, { status: res.statusCode, headers: hdrs }));
        },
      );
      current = req;
      req.on('error', (err) => reject(err));
      init.signal?.addEventListener('abort', () => {
        const err = new Error('aborted');
        err.name = 'AbortError';
        req.destroy(err);
      });
      req.end();
    });
  };
  fetchFn.requests = requests.items;
  fetchFn.untilRequests = (n, opts = {}) =>
    requests.until((items) => items.length >= n, { what: `${n} EventSource request(s)`, ...opts });
  fetchFn.cut = () => {
    current?.socket?.destroy();
    current?.destroy();
  };
  fetchFn.hold = () => {
    let release;
    gate = new Promise((resolve) => (release = resolve));
    return () => {
      gate = null;
      release();
    };
  };
  return fetchFn;
}
