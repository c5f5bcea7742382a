// Connections killed for real (a TCP proxy between Chromium and herald destroys every socket and
// refuses new ones for a while) and nodes lost (the proxy is pointed at a fresh herald): the
// library resumes by eid with nothing lost or repeated, or re-enters and re-joins with `since`
// and tells the app whether the group's messages were recovered.

import assert from 'node:assert/strict';
import {
  after,
  before,
  call,
  describe,
  launchBrowser,
  openLibraryPage,
  publishJson,
  startServer,
  TcpProxy,
  test,
  uniq,
  waitInPage,
} from './lib/browser.mjs';

// Quick retries keep the tests short; the logic is the same as with the defaults. A forever-frame
// cut mid-response is not reported to the page at all (Chromium leaves the frame's document
// "loading"), so only the silence watchdog notices it: the server beats every second
// (--heartbeat 1s) and the client gives up after 2.5 s without a sound.
const FAST = { backoff: { baseMs: 100, capMs: 800 }, silenceMs: 2500 };
const SERVER_ARGS = ['--heartbeat', '1s'];

async function publishAll(server, group, values) {
  for (const data of values) {
    const r = await publishJson(server, { group, data });
    assert.equal(r.status, 200, `publish ${data}: ${r.text}`);
  }
}

const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Opens a page through `proxy`, connects client 'c' on `transport` and waits until it is open. */
async function connectedPage(browser, proxy, transport, group) {
  const context = await browser.newContext();
  // Killed connections make Chromium log failed requests; those are the point of these tests.
  const page = await openLibraryPage(context, proxy.url, { ignore: [/ERR_|Failed to load|WebSocket|EventSource/] });
  await page.evaluate(([group, transport, fast]) => T.connect('c', { user: 'rita', groups: [group], transports: [transport], ...fast }), [group, transport, FAST]);
  await waitInPage(page, () => T.clients.c.state === 'open', undefined, `the client to open on ${transport}`);
  return { context, page };
}

const reconnectingStates = (page) => page.evaluate(() => T.logs.c.states.filter((s) => s.state === 'reconnecting').length);

describe('resume after a killed connection', () => {
  let herald;
  let browser;
  before(async () => {
    herald = await startServer(['--jsonp', ...SERVER_ARGS]);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await herald?.stop();
  });

  for (const transport of ['ws', 'sse', 'longpoll', 'jsonp', 'frame']) {
    test(`${transport}: every message published while the connection was dead arrives once, in order`, async () => {
      const proxy = await new TcpProxy(herald.port).start();
      const group = uniq(`cut-${transport}`);
      const { context, page } = await connectedPage(browser, proxy, transport, group);
      try {
        await publishAll(herald, group, range(1, 5));
        await waitInPage(page, ([g]) => T.messages('c', g).length >= 5, [group], 'messages 1..5');
        const session = await page.evaluate(() => T.clients.c.session);
        const before = await reconnectingStates(page);

        proxy.refuse(true);
        proxy.cut();
        // The client notices the cut, then at least one reconnect is refused.
        await waitInPage(page, ([n]) => T.logs.c.states.filter((s) => s.state === 'reconnecting').length >= n + 2, [before], 'a refused reconnect');
        await publishAll(herald, group, range(6, 10));
        proxy.refuse(false);

        await waitInPage(page, ([g]) => T.messages('c', g).length >= 10 && T.clients.c.state === 'open', [group], 'messages 6..10 after the reconnect');
        await publishAll(herald, group, [11]);
        await waitInPage(page, ([g]) => T.messages('c', g).length >= 11, [group], 'message 11');
        assert.deepEqual(await page.evaluate(([g]) => T.messages('c', g), [group]), range(1, 11));
        assert.equal(await page.evaluate(() => T.clients.c.session), session, 'the same session was resumed');
        assert.equal(await page.evaluate(() => T.clients.c.transport), transport);
        assert.deepEqual(await page.evaluate(() => T.logs.c.recovered), []);
      } finally {
        await context.close();
        await proxy.close();
      }
    });
  }
});

describe('queue overflow while disconnected', () => {
  let browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => browser?.close());

  test('ws: the app gets the overflow event, then the newest messages in order, none twice', async () => {
    const herald = await startServer(['--queue-max', '5', ...SERVER_ARGS]);
    const proxy = await new TcpProxy(herald.port).start();
    const group = uniq('overflow');
    const { context, page } = await connectedPage(browser, proxy, 'ws', group);
    try {
      await publishAll(herald, group, [1]);
      await waitInPage(page, ([g]) => T.messages('c', g).length >= 1, [group], 'message 1');
      proxy.refuse(true);
      proxy.cut();
      await waitInPage(page, () => T.clients.c.state !== 'open', undefined, 'the client to notice the cut');
      await publishAll(herald, group, range(2, 20));
      proxy.refuse(false);
      await waitInPage(page, ([g]) => T.messages('c', g).includes(20), [group], 'message 20');
      const events = await page.evaluate(() => T.logs.c.events.map((e) => (e.type === 'message' ? e.data : e.type)));
      const overflowAt = events.indexOf('overflow');
      assert.ok(overflowAt > 0, `an overflow event: ${JSON.stringify(events)}`);
      const after = events.slice(overflowAt + 1);
      assert.deepEqual(after, range(21 - after.length, 20), 'the newest messages, in order, after the overflow');
      const dropped = await page.evaluate(() => T.logs.c.events.find((e) => e.type === 'overflow').dropped);
      assert.ok(dropped > 0);
      const eids = await page.evaluate(() => T.logs.c.events.map((e) => e.eid));
      assert.deepEqual(eids, [...eids].sort((a, b) => a - b), 'eids ascend');
      assert.equal(new Set(eids).size, eids.length, 'no event twice');
    } finally {
      await context.close();
      await proxy.close();
      await herald.stop();
    }
  });
});

describe('session lost', () => {
  let browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => browser?.close());

  for (const transport of ['ws', 'sse', 'longpoll']) {
    test(`${transport}: the session ends while the group lives on → re-join with since, recovered:true, nothing lost`, async () => {
      const herald = await startServer(SERVER_ARGS);
      const proxy = await new TcpProxy(herald.port).start();
      const group = uniq(`lost-${transport}`);
      const { context, page } = await connectedPage(browser, proxy, transport, group);
      try {
        await publishAll(herald, group, range(1, 3));
        await waitInPage(page, ([g]) => T.messages('c', g).length >= 3, [group], 'messages 1..3');
        const session = await page.evaluate(() => T.clients.c.session);

        proxy.refuse(true);
        proxy.cut();
        await call(herald.url, 'exit', { session }); // as if its lease had passed
        await publishAll(herald, group, range(4, 6)); // kept in the group's history only
        proxy.refuse(false);

        await waitInPage(page, () => T.logs.c.recovered.length >= 1, undefined, 'the recovered notice');
        assert.deepEqual(await page.evaluate(() => T.logs.c.recovered.map((r) => [r.group, r.recovered])), [[group, true]]);
        await waitInPage(page, ([g]) => T.messages('c', g).length >= 6, [group], 'messages 4..6 from the history');
        await publishAll(herald, group, [7]);
        await waitInPage(page, ([g]) => T.messages('c', g).length >= 7, [group], 'message 7');
        assert.deepEqual(await page.evaluate(([g]) => T.messages('c', g), [group]), range(1, 7));
        const sessions = await page.evaluate(() => T.logs.c.sessions.map((s) => [s.session, s.previous]));
        assert.equal(sessions.length, 2);
        assert.deepEqual(sessions[1][1], session, 'the new session names the one it replaces');
        assert.notEqual(sessions[1][0], session);
      } finally {
        await context.close();
        await proxy.close();
        await herald.stop();
      }
    });

    test(`${transport}: the node is replaced (unknown_session, new epoch) → re-enter, recovered:false, then works`, async () => {
      const first = await startServer(SERVER_ARGS);
      const proxy = await new TcpProxy(first.port).start();
      const group = uniq(`node-${transport}`);
      const { context, page } = await connectedPage(browser, proxy, transport, group);
      let second;
      try {
        await publishAll(first, group, range(1, 3));
        await waitInPage(page, ([g]) => T.messages('c', g).length >= 3, [group], 'messages 1..3');

        second = await startServer(SERVER_ARGS);
        proxy.retarget(second.port);
        proxy.cut();
        await first.stop();

        await waitInPage(page, () => T.logs.c.recovered.length >= 1 && T.clients.c.state === 'open', undefined, 'the recovered notice');
        assert.deepEqual(await page.evaluate(() => T.logs.c.recovered.map((r) => [r.group, r.recovered])), [[group, false]]);
        await publishAll(second, group, ['after']);
        await waitInPage(page, ([g]) => T.messages('c', g).includes('after'), [group], 'a message on the new node');
        assert.deepEqual(await page.evaluate(([g]) => T.messages('c', g), [group]), [1, 2, 3, 'after']);
        const presence = await page.evaluate(([g]) => T.clients.c.presence(g), [group]);
        assert.deepEqual(presence.users, ['rita']);
      } finally {
        await context.close();
        await proxy.close();
        await second?.stop();
      }
    });
  }
});
