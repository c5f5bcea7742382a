// Session ids are credentials (whoever holds one reads and speaks as that session), so no
// log line may carry a whole one (issue 15). Every transport makes and uses sessions here,
// including a slow consumer cut off at info level, and then the whole log is searched for
// the ids' random parts.

import assert from 'node:assert/strict';
import WebSocket from 'ws';
import {
  bounded, call, describe, enter, listen, openSse, rawExchange, test, uniq, withHerald,
} from './lib/herald.mjs';

/** The part of a session id that makes it secret (after the node name). */
const secretOf = (session) => session.slice(session.indexOf('_') + 1);

async function useEveryTransport(herald) {
  const sessions = [];
  const g = uniq('logged');
  const a = await enter(herald.url, uniq('ann'), [g]);
  sessions.push(a);
  await listen(herald.url, a, 0, 0);
  await call(herald.url, 'speak', { session: a, group: g, data: 'x'.repeat(2000) });
  // A malformed request naming a session in its target.
  await rawExchange(herald, `GET /v1/listen?session=${a}&cursor=x HTTP/1.1\r\nHost: h\r\n\r\n`, { responses: 1 });
  await rawExchange(herald, `GET /v1/listen?session=${a} HTTP/1.1\r\nHost: h\r\nBad\r\n\r\n`, { responses: 1 });
  // SSE with an implicit enter, and a resume by Last-Event-ID.
  const sse = await openSse(herald, `user=${uniq('sse')}&groups=${g}`);
  const first = await sse.untilEvent((e) => e.event === 'session');
  const sseSession = first.json.session;
  sessions.push(sseSession);
  sse.close();
  // A WebSocket that attaches, and one that is cut off as a slow consumer (info level).
  const ws = new WebSocket(`ws://${herald.host}:${herald.port}/v1/ws`, ['herald.v1']);
  await bounded(new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  }), 10_000, 'a WebSocket');
  const slow = await enter(herald.url, uniq('slow'), [g]);
  sessions.push(slow);
  const replies = [];
  ws.on('message', (m) => replies.push(JSON.parse(m)));
  ws.send(JSON.stringify({ id: 1, method: 'attach', params: { session: slow, cursor: 0 } }));
  ws._socket.pause(); // read nothing from here on, so that the server's buffer fills
  // Until the kernel's buffers are full too and the server cuts the reader off (bounded).
  const deadline = Date.now() + 30_000;
  while (!herald.logs().includes('slow consumer cut off')) {
    assert.ok(Date.now() < deadline, 'the paused WebSocket was never cut off as a slow consumer');
    await call(herald.url, 'speak', { session: a, group: g, data: 'y'.repeat(30_000) });
  }
  ws.terminate();
  for (const s of sessions) await call(herald.url, 'exit', { session: s }).catch(() => {});
  return sessions;
}

describe('session ids in logs', () => {
  for (const level of ['info', 'debug']) {
    test(`no log line at --log-level ${level} carries a whole session id`, () =>
      withHerald(['--log-level', level, '--max-stream-buffer', '4096', '--max-data', '64KiB'], async (herald) => {
        const sessions = await useEveryTransport(herald);
        const logs = herald.logs();
        for (const s of sessions) {
          assert.equal(logs.includes(secretOf(s).slice(0, 8)), false, `the log shows session ${s}:\n${logs}`);
        }
      }));
  }
});
