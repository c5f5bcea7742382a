// Streaming responses read as they arrive: SSE (GET /v1/sse), forever-frame
// (GET /v1/stream) and any other streamed body. Every wait is a condition re-checked on
// each chunk, bounded, and it fails at once (showing what did arrive) when the response
// ends before the condition holds.

import http from 'node:http';
import { ANSWER_BOUND_MS, bounded } from './bounded.mjs';

/**
 * A streaming HTTP response being read. `text` grows as chunks arrive (the de-chunked
 * body, UTF-8); `ended` resolves to how it stopped: 'end' (the response completed:
 * terminating chunk), 'aborted' (the server closed the connection mid-body) or
 * 'destroyed' (the test closed it).
 */
export class StreamReader {
  constructor(req, res) {
    this.req = req;
    this.res = res;
    this.socket = res.socket;
    this.status = res.statusCode;
    this.headers = res.headers;
    this.text = '';
    this.bytes = 0;
    this.endedHow = null;
    this.waiters = new Set();
    this.decoder = new TextDecoder('utf-8');
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
    res.on('data', (d) => {
      this.bytes += d.length;
      const str = this.decoder.decode(d, { stream: true });
      this.text += str;
      this.parse(str);
      this.wake();
    });
    res.on('error', () => {});
    req.on('error', () => {});
    res.on('end', () => this.finish('end'));
    res.on('close', () => this.finish(res.complete ? 'end' : 'aborted'));
  }

  /** Subclasses parse the text as it arrives (`str`: the new part; '' at the end). */
  parse() {}

  finish(how) {
    if (this.endedHow) return;
    this.endedHow = this.clientClosed ? 'destroyed' : how;
    this.parse('');
    this.resolveEnded(this.endedHow);
    this.wake();
  }

  wake() {
    for (const w of [...this.waiters]) w();
  }

  /** What arrived so far, for failure messages. */
  describe() {
    const t = this.text.length > 3000 ? `…${this.text.slice(-3000)}` : this.text;
    return `HTTP ${this.status}, ended: ${this.endedHow ?? 'no'}, body: ${JSON.stringify(t)}`;
  }

  /**
   * Resolves to the first truthy value of `check()`, evaluated now and on every chunk.
   * Rejects when the response ends first (unless `orEnd`), or after `boundMs`.
   */
  until(check, { boundMs = ANSWER_BOUND_MS, what = 'a condition', orEnd = false } = {}) {
    let waiter;
    const p = new Promise((resolve, reject) => {
      waiter = () => {
        let v;
        try {
          v = check();
        } catch (err) {
          this.waiters.delete(waiter);
          reject(err);
          return;
        }
        if (v || (orEnd && this.endedHow)) {
          this.waiters.delete(waiter);
          resolve(v);
        } else if (this.endedHow) {
          this.waiters.delete(waiter);
          reject(new Error(`stream ended (${this.endedHow}) before ${what}; ${this.describe()}`));
        }
      };
      this.waiters.add(waiter);
      waiter();
    });
    return bounded(p, boundMs, what, () => this.waiters.delete(waiter)).catch((err) => {
      if (/^timed out/.test(err.message)) err.message += `; ${this.describe()}`;
      throw err;
    });
  }

  /** Resolves to how the response ended; bounded. */
  endedWithin(boundMs = ANSWER_BOUND_MS, what = 'the stream to end') {
    return bounded(this.ended, boundMs, what).catch((err) => {
      err.message += `; ${this.describe()}`;
      throw err;
    });
  }

  /** Closes the connection from the client side (like a network drop or a closed tab). */
  close() {
    this.clientClosed = true;
    this.req.destroy();
    this.socket?.destroy();
  }
}

/**
 * Parses a text/event-stream as the HTML standard's EventSource does. `events`:
 * dispatched events {id (the id field of that event, or null), lastEventId, event,
 * data, json (data parsed, or undefined)}; `comments`: comment lines without the
 * colon; `retries`: retry field values.
 */
export class SseReader extends StreamReader {
  constructor(req, res) {
    super(req, res);
    this.events = [];
    this.comments = [];
    this.retries = [];
    this.buf = '';
    this.block = { id: null, event: '', data: [] };
    this.lastEventId = '';
  }

  parse(str) {
    this.buf += str;
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buf);
      if (!m) return;
      if (m[0] === '\r' && m.index === this.buf.length - 1 && !this.endedHow) return; // maybe a split CRLF
      const line = this.buf.slice(0, m.index);
      this.buf = this.buf.slice(m.index + m[0].length);
      this.line(line);
    }
  }

  line(line) {
    const b = this.block;
    if (line === '') {
      if (b.data.length) {
        const data = b.data.join('\n');
        let json;
        try {
          json = JSON.parse(data);
        } catch {
          json = undefined;
        }
        this.events.push({ id: b.id, lastEventId: this.lastEventId, event: b.event || 'message', data, json });
      }
      this.block = { id: null, event: '', data: [] };
      return;
    }
    if (line.startsWith(':')) {
      this.comments.push(line.slice(1));
      return;
    }
    const c = line.indexOf(':');
    const field = c < 0 ? line : line.slice(0, c);
    let value = c < 0 ? '' : line.slice(c + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') b.data.push(value);
    else if (field === 'event') b.event = value;
    else if (field === 'id' && !value.includes('\0')) {
      b.id = value;
      this.lastEventId = value;
    } else if (field === 'retry' && /^\d+$/.test(value)) this.retries.push(Number(value));
  }

  /** Resolves to the first event satisfying `pred` (a function of the event). */
  untilEvent(pred, { boundMs, what = 'a matching SSE event' } = {}) {
    return this.until(() => this.events.find(pred), { boundMs, what });
  }

  /** Events whose id is `<session>.<eid>`, as {eid, ...event}. */
  numbered() {
    return this.events
      .filter((e) => e.id !== null && /\.\d+$/.test(e.id))
      .map((e) => ({ ...e, eid: Number(e.id.slice(e.id.lastIndexOf('.') + 1)) }));
  }
}

/**
 * Parses a forever-frame: `preamble` is everything before the first `<script>`;
 * `calls` are {callback, args (the raw text between the parentheses), json (parsed)}
 * for every complete `<script>parent.<cb>(…);</script>`; `junk` collects anything
 * else between scripts other than whitespace.
 */
export class FrameReader extends StreamReader {
  constructor(req, res) {
    super(req, res);
    this.calls = [];
    this.junk = [];
    this.preamble = null;
    this.buf = '';
  }

  parse(str) {
    this.buf += str;
    if (this.preamble === null) {
      const first = this.buf.indexOf('<script>');
      if (first < 0) return;
      this.preamble = this.buf.slice(0, first);
      this.preambleBytes = Buffer.byteLength(this.preamble);
      this.buf = this.buf.slice(first);
    }
    for (;;) {
      const start = this.buf.indexOf('<script>');
      if (start < 0) {
        if (this.endedHow && this.buf.trim() !== '') this.junk.push(this.buf);
        return;
      }
      const end = this.buf.indexOf('</script>', start);
      if (end < 0) return;
      const between = this.buf.slice(0, start);
      if (between.trim() !== '') this.junk.push(between);
      const inner = this.buf.slice(start + '<script>'.length, end);
      const m = /^parent\.([A-Za-z_$][A-Za-z0-9_$.]*)\(([\s\S]*)\);$/.exec(inner);
      if (!m) this.junk.push(inner);
      else {
        let json;
        try {
          json = JSON.parse(m[2]);
        } catch {
          json = undefined;
        }
        this.calls.push({ callback: m[1], args: m[2], json });
      }
      this.buf = this.buf.slice(end + '</script>'.length);
    }
  }

  /** Resolves to the first call whose parsed argument satisfies `pred`. */
  untilCall(pred, { boundMs, what = 'a matching forever-frame call' } = {}) {
    return this.until(() => this.calls.find((c) => c.json !== undefined && pred(c.json)), { boundMs, what });
  }
}

function openReader(Reader, target, reqPath, { headers = {}, boundMs = ANSWER_BOUND_MS } = {}) {
  const base = new URL(typeof target === 'string' ? target : target.url);
  let req;
  const head = new Promise((resolve, reject) => {
    req = http.request({ host: base.hostname, port: base.port, method: 'GET', path: reqPath, headers, agent: false }, (res) =>
      resolve(new Reader(req, res)),
    );
    req.on('error', reject);
    req.end();
  });
  return bounded(head, boundMs, `the response head of GET ${reqPath}`, () => req?.destroy());
}

/** GET `reqPath` on a fresh connection, read as it streams (StreamReader). */
export const openHttpStream = (target, reqPath, opts) => openReader(StreamReader, target, reqPath, opts);
/** GET /v1/sse?<query> (object or string) on a fresh connection, parsed as SSE (SseReader). */
export const openSse = (target, query = '', opts) =>
  openReader(SseReader, target, `/v1/sse?${typeof query === 'string' ? query : new URLSearchParams(query)}`, opts);
/** GET /v1/stream?<query> (object or string) on a fresh connection, parsed as a forever-frame (FrameReader). */
export const openForeverFrame = (target, query = '', opts) =>
  openReader(FrameReader, target, `/v1/stream?${typeof query === 'string' ? query : new URLSearchParams(query)}`, opts);
