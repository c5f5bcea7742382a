// Raw TCP connections to a node, for what node:http will not send or parse: pipelined
// requests, malformed bytes, half-closed or half-sent requests, and the responses parsed
// from the bytes as they come. A `server` is anything with `host` and `port`: a server
// from startHerald or a node from useHerald.

import net from 'node:net';
import { ANSWER_BOUND_MS, bounded } from './bounded.mjs';

/**
 * Parses HTTP/1.1 responses out of `buf` (a Buffer). Returns {responses, rest}:
 * complete responses ({status, headers, body}) and the unparsed remainder.
 * `final` treats the end of the buffer as the end of a close-delimited body.
 */
export function parseResponses(buf, final = false) {
  const responses = [];
  let rest = buf;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const head = rest.subarray(0, end).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(head[0]);
    if (!m) throw new Error(`not an HTTP response: ${JSON.stringify(head[0])}`);
    const headers = {};
    for (const line of head.slice(1)) {
      const c = line.indexOf(':');
      if (c > 0) headers[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim();
    }
    const bodyStart = end + 4;
    let body;
    let consumed;
    if (headers['transfer-encoding']?.toLowerCase().includes('chunked')) {
      const parts = [];
      let p = bodyStart;
      let complete = false;
      for (;;) {
        const lineEnd = rest.indexOf('\r\n', p);
        if (lineEnd < 0) break;
        const size = parseInt(rest.subarray(p, lineEnd).toString('latin1'), 16);
        if (Number.isNaN(size)) throw new Error('bad chunk size');
        if (size === 0) {
          const trailerEnd = rest.indexOf('\r\n\r\n', lineEnd);
          if (trailerEnd < 0 && rest.length < lineEnd + 4) break;
          consumed = trailerEnd >= 0 ? trailerEnd + 4 : lineEnd + 4;
          complete = true;
          break;
        }
        if (rest.length < lineEnd + 2 + size + 2) break;
        parts.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
        p = lineEnd + 2 + size + 2;
      }
      if (!complete) break;
      body = Buffer.concat(parts);
    } else if (headers['content-length'] !== undefined) {
      const len = Number(headers['content-length']);
      if (rest.length < bodyStart + len) break;
      body = rest.subarray(bodyStart, bodyStart + len);
      consumed = bodyStart + len;
    } else if (Number(m[1]) === 204 || Number(m[1]) === 304) {
      body = Buffer.alloc(0);
      consumed = bodyStart;
    } else {
      if (!final) break;
      body = rest.subarray(bodyStart);
      consumed = rest.length;
    }
    const text = body.toString('utf8');
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    responses.push({ status: Number(m[1]), headers, text, body: parsed });
    rest = rest.subarray(consumed);
  }
  return { responses, rest };
}

/**
 * Opens a raw TCP connection, writes `bytes` (string or Buffer) at once, and
 * collects responses until `responses` complete ones arrived or the server closed
 * the connection. Resolves to {responses, closed, error}. With `end: true` the
 * client half-closes after writing. Bounded by `boundMs`.
 */
export function rawExchange(server, bytes, { responses: want = 1, end = false, boundMs = ANSWER_BOUND_MS } = {}) {
  let socket;
  const done = new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    let got = [];
    let finished = false;
    const finish = (closed, error) => {
      if (finished) return;
      finished = true;
      if (closed) {
        try {
          got = got.concat(parseResponses(buf, true).responses);
          buf = Buffer.alloc(0);
        } catch {
          /* garbage after the last response */
        }
      }
      socket.destroy();
      resolve({ responses: got, closed, error: error?.code ?? error?.message });
    };
    socket = net.connect({ host: server.host, port: server.port }, () => {
      socket.write(bytes);
      if (end) socket.end();
    });
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const parsed = parseResponses(buf);
      got = got.concat(parsed.responses);
      buf = parsed.rest;
      if (got.length >= want) finish(false);
    });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', (err) => finish(true, err));
  });
  return bounded(done, boundMs, 'a raw-socket exchange', () => socket?.destroy());
}

/**
 * Opens a raw TCP connection and keeps parsing what the server sends. Returns
 * {socket, responses, closed, waitFor(n, boundMs), send(bytes)}: `responses` fills
 * as complete responses arrive; `closed` resolves when the server ends the
 * connection; `waitFor(n)` resolves once n responses arrived (bounded).
 */
export async function connectRaw(server, { boundMs = 5_000 } = {}) {
  const socket = net.connect({ host: server.host, port: server.port });
  const conn = { socket, responses: [] };
  let buf = Buffer.alloc(0);
  const waiters = [];
  const wake = () => {
    for (const w of [...waiters]) if (conn.responses.length >= w.n || conn.isClosed) w.resolve();
  };
  conn.closed = new Promise((resolve) => {
    const done = () => {
      if (conn.isClosed) return;
      conn.isClosed = true;
      try {
        conn.responses.push(...parseResponses(buf, true).responses);
      } catch {
        /* garbage after the last response */
      }
      wake();
      resolve();
    };
    socket.on('end', done);
    socket.on('close', done);
    socket.on('error', done);
  });
  socket.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    const parsed = parseResponses(buf);
    conn.responses.push(...parsed.responses);
    buf = parsed.rest;
    wake();
  });
  conn.send = (bytes) => socket.write(bytes);
  conn.waitFor = (n, ms = ANSWER_BOUND_MS) => {
    const p = new Promise((resolve) => {
      const w = { n, resolve: () => { waiters.splice(waiters.indexOf(w), 1); resolve(); } };
      waiters.push(w);
      wake();
    });
    return bounded(p, ms, `${n} response(s) on a raw connection`).then(() => conn.responses);
  };
  await bounded(new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  }), boundMs, 'a TCP connection to herald');
  return conn;
}

/**
 * Opens `count` raw connections that each completed a GET /healthz, so the node surely
 * counts them as open; pushes them onto `held` (the caller destroys them).
 */
export async function holdAnsweredConnections(server, count, held) {
  for (let i = 0; i < count; i++) {
    const conn = await connectRaw(server);
    held.push(conn);
    conn.send('GET /healthz HTTP/1.1\r\nHost: herald.test\r\n\r\n');
    await conn.waitFor(1);
    if (conn.responses[0]?.status !== 200) throw new Error(`a held connection's /healthz answered ${conn.responses[0]?.status}`);
  }
}
