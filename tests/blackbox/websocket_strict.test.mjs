// WebSocket hardening (issue 15): a message is bounded in fragments as well as in bytes,
// undefined close codes are refused with 1002, and a frame sent in the same write as the
// upgrade request is read, not dropped. Decisions in docs/security.md ("WebSocket").

import assert from 'node:assert/strict';
import {
  assertAlive, bounded, clientFrame, closeFrame, describe, openRawWebSocket, test, useHerald,
} from './lib/herald.mjs';

const CLOSE_BOUND_MS = 10_000;

/** Waits until the server's close frame came and the connection ended; returns the code. */
async function closeCodeOf(conn, what) {
  await bounded(conn.closed, CLOSE_BOUND_MS, what, () => conn.socket.destroy());
  return conn.closeCode;
}

describe('WebSocket strictness', () => {
  const herald = useHerald(['--ws-max-frame', '1024', '--ws-max-fragments', '64']);

  test('a frame written together with the upgrade request is answered', async () => {
    const ping = clientFrame(0x1, JSON.stringify({ id: 'early', method: 'ping' }));
    const conn = await openRawWebSocket(herald, { early: ping });
    try {
      assert.equal(conn.status, 101);
      await conn.until(() => conn.texts.some((f) => f.id === 'early'), 'the reply to the early frame');
      assert.ok(conn.texts.find((f) => f.id === 'early').result.time > 0);
    } finally {
      conn.socket.destroy();
    }
  });

  test('a message of more than --ws-max-fragments empty fragments is closed with 1009', async () => {
    const conn = await openRawWebSocket(herald);
    const frames = [clientFrame(0x1, '{', { fin: false })];
    for (let i = 0; i < 200; i++) frames.push(clientFrame(0x0, '', { fin: false }));
    conn.send(Buffer.concat(frames));
    assert.equal(await closeCodeOf(conn, 'the server to close the fragment flood'), 1009);
    await assertAlive(herald);
  });

  test('a message fragmented within --ws-max-fragments is read whole', async () => {
    const conn = await openRawWebSocket(herald);
    try {
      const text = JSON.stringify({ id: 'pieces', method: 'ping' });
      const frames = [...text].map((c, i) => clientFrame(i === 0 ? 0x1 : 0x0, c, { fin: i === text.length - 1 }));
      conn.send(Buffer.concat(frames));
      await conn.until(() => conn.texts.some((f) => f.id === 'pieces'), 'the reply to a fragmented message');
    } finally {
      conn.socket.destroy();
    }
  });

  test('--ws-max-frame bounds the whole message across its fragments: 1009', async () => {
    const conn = await openRawWebSocket(herald);
    const frames = [clientFrame(0x1, 'x'.repeat(100), { fin: false })];
    for (let i = 0; i < 20; i++) frames.push(clientFrame(0x0, 'x'.repeat(100), { fin: false }));
    conn.send(Buffer.concat(frames));
    assert.equal(await closeCodeOf(conn, 'the server to close the oversized message'), 1009);
  });

  test('undefined close codes are answered with 1002 (RFC 6455 7.4)', async () => {
    for (const code of [0, 999, 1004, 1005, 1006, 1012, 1013, 1014, 1015, 1016, 2999, 5000, 65535]) {
      const conn = await openRawWebSocket(herald);
      conn.send(closeFrame(code));
      assert.equal(await closeCodeOf(conn, `the close of code ${code}`), 1002, `close code ${code}`);
    }
    await assertAlive(herald);
  });

  test('defined close codes are accepted and echoed', async () => {
    for (const code of [1000, 1001, 1003, 1007, 1011, 3000, 4999]) {
      const conn = await openRawWebSocket(herald);
      conn.send(closeFrame(code));
      assert.equal(await closeCodeOf(conn, `the close of code ${code}`), code, `close code ${code}`);
    }
  });
});
