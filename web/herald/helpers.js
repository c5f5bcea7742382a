// Small helpers every layer uses: the library's error type, server URLs, timers and an event
// emitter. Nothing here touches the DOM.

/** An error with a protocol `code` (`unknown_session`, `queue_full`, `connection_lost`, …). */
export class HeraldError extends Error {
  constructor(code, message, details) {
    super(message || code);
    this.name = 'HeraldError';
    this.code = code;
    if (details !== undefined) this.details = details;
  }
}

/** The WebSocket URL of a server base URL (http → ws, https → wss). */
export function webSocketUrl(base) {
  const u = new URL('/v1/ws', base);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return u.href;
}

/** Builds `<base><path>?<params>` skipping undefined values. */
export function endpoint(base, path, params = {}) {
  const u = new URL(path, base);
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) u.searchParams.set(k, String(v));
  return u.href;
}

/** Lets the event loop run `fn` after `ms`; returns a cancel function. */
export function later(ms, fn) {
  const t = setTimeout(fn, ms);
  return () => clearTimeout(t);
}

/** Rejects with a `timeout` HeraldError when `promise` has not settled within `ms`. */
export function within(promise, ms, what) {
  let cancel;
  const timeout = new Promise((_, reject) => {
    cancel = later(ms, () => reject(new HeraldError('timeout', `no answer within ${ms} ms: ${what}`)));
  });
  return Promise.race([promise, timeout]).finally(cancel);
}

/** A tiny event emitter: on(type, fn) returns an unsubscribe function; '*' sees everything. */
export class Emitter {
  constructor() {
    this.listeners = new Map();
  }

  on(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(fn);
    return () => this.off(type, fn);
  }

  once(type, fn) {
    const off = this.on(type, (v) => {
      off();
      fn(v);
    });
    return off;
  }

  off(type, fn) {
    this.listeners.get(type)?.delete(fn);
  }

  emit(type, value) {
    for (const key of [type, '*']) {
      for (const fn of [...(this.listeners.get(key) || [])]) {
        try {
          fn(value, type);
        } catch (err) {
          // An app listener that throws must not break delivery to the others, nor the stream.
          setTimeout(() => {
            throw err;
          });
        }
      }
    }
  }
}
