// A WebSocket client on a raw TCP socket, for frames the `ws` library will not send:
// fragments, invalid close codes, a frame in the same write as the upgrade request.
// A `server` is anything with `host` and `port`.

import crypto from 'node:crypto';
import net from 'node:net';
import { ANSWER_BOUND_MS, bounded } from './bounded.mjs';

/** A masked client frame: `opcode`, FIN unless `fin` is false, any payload length. */
export function clientFrame(opcode, payload = '', { fin = true } = {}) {
  const body = Buffer.from(payload);
  let head;
  if (body.length < 126) head = Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | body.length]);
  else if (body.length <= 0xffff) {
    head = Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 126, 0, 0]);
    head.writeUInt16BE(body.length, 2);
  } else throw new Error('clientFrame: payload too large for this helper');
  const key = crypto.randomBytes(4);
  const masked = Buffer.from(body.map((b, i) => b ^ key[i % 4]));
  return Buffer.concat([head, key, masked]);
}

/** A close frame carrying `code` (and no reason). */
export function closeFrame(code) {
  const payload = Buffer.alloc(2);
  payload.writeUInt16BE(code);
  return clientFrame(0x8, payload);
}

/** The upgrade request for /v1/ws, as a string. */
export function upgradeRequest(server, extraHeaders = '') {
  const key = crypto.randomBytes(16).toString('base64');
  return `GET /v1/ws HTTP/1.1\r\nHost: ${server.host}:${server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`
    + `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: herald.v1\r\n${extraHeaders}\r\n`;
}

/**
 * Connects, writes the upgrade request followed by `early` (bytes in the same write), and
 * resolves once the server answered the upgrade. Returns {socket, status, texts, closeCode,
 * closed, send(bytes), until(pred, what)}: `texts` fills with the text frames received
 * (parsed JSON), `closeCode` is the code of the server's close frame once one came, and
 * `closed` resolves when the TCP connection ends.
 */
export async function openRawWebSocket(server, { early = Buffer.alloc(0), boundMs = ANSWER_BOUND_MS } = {}) {
  const socket = net.connect({ host: server.host, port: server.port });
  const conn = { socket, texts: [], closeCode: undefined, status: undefined };
  let buf = Buffer.alloc(0);
  const waiters = new Set();
  const wake = () => {
    for (const w of waiters) w();
  };
  let onHead;
  const head = new Promise((resolve, reject) => {
    onHead = { resolve, reject };
  });
  conn.closed = new Promise((resolve) => {
    socket.on('close', () => {
      conn.isClosed = true;
      onHead.reject(new Error('closed before the upgrade was answered'));
      wake();
      resolve();
    });
  });
  socket.on('error', () => {});
  const parseFrames = () => {
    while (buf.length >= 2) {
      let len = buf[1] & 0x7f;
      let at = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = buf.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (buf.length < 10) return;
        len = Number(buf.readBigUInt64BE(2));
        at = 10;
      }
      if (buf.length < at + len) return;
      const opcode = buf[0] & 0x0f;
      const payload = buf.subarray(at, at + len);
      if (opcode === 0x1) conn.texts.push(JSON.parse(payload.toString('utf8')));
      if (opcode === 0x8) conn.closeCode = len >= 2 ? payload.readUInt16BE(0) : 1005;
      buf = buf.subarray(at + len);
    }
  };
  socket.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    if (conn.status === undefined) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      conn.status = Number(/^HTTP\/1\.1 (\d{3})/.exec(buf.subarray(0, end).toString('latin1'))?.[1]);
      buf = buf.subarray(end + 4);
      onHead.resolve();
    }
    if (conn.status === 101) parseFrames();
    wake();
  });
  conn.send = (bytes) => socket.write(bytes);
  conn.until = (pred, what, ms = ANSWER_BOUND_MS) => {
    let waiter;
    const p = new Promise((resolve, reject) => {
      waiter = () => {
        if (pred()) resolve();
        else if (conn.isClosed) reject(new Error(`the connection closed before ${what}`));
      };
      waiters.add(waiter);
      waiter();
    });
    return bounded(p, ms, what).finally(() => waiters.delete(waiter));
  };
  socket.on('connect', () => socket.write(Buffer.concat([Buffer.from(upgradeRequest(server)), early])));
  await bounded(head, boundMs, 'the upgrade to be answered', () => socket.destroy());
  return conn;
}
