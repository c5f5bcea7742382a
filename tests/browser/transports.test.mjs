// herald.js in headless Chromium against a real herald: both ways of loading it, every
// transport forced in turn (messages and direct messages both ways), and the fallback order.

import assert from 'node:assert/strict';
import {
  after,
  before,
  call,
  describe,
  enter,
  launchBrowser,
  openLibraryPage,
  publishJson,
  request,
  startServer,
  TcpProxy,
  test,
  uniq,
  waitInPage,
} from './lib/browser.mjs';

/** A node-side session that long-polls, to check what a browser client sends. */
async function nodeListener(url, user, group) {
  const session = await enter(url, user, [group]);
  let cursor = 0;
  const events = [];
  return {
    session,
    events,
    /** Polls until `pred(events)` holds; bounded by the number of polls (each ≤ 2 s). */
    async until(pred, what) {
      for (let i = 0; i < 10 && !pred(events); i++) {
        const r = await request(url, { path: `/v1/listen?session=${session}&cursor=${cursor}&timeout=2`, boundMs: 15_000 });
        assert.equal(r.status, 200, r.text);
        events.push(...r.body.events);
        cursor = r.body.cursor;
      }
      assert.ok(pred(events), `node listener never saw ${what}: ${JSON.stringify(events)}`);
    },
  };
}

describe('herald.js in Chromium', () => {
  let herald;
  let browser;
  before(async () => {
    herald = await startServer(['--jsonp']);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await herald?.stop();
  });

  for (const mode of ['classic', 'module']) {
    test(`loads as a ${mode} script and round-trips a message`, async () => {
      const context = await browser.newContext();
      try {
        const page = await openLibraryPage(context, herald.url, { mode });
        assert.equal(await page.evaluate(() => window.loadedAs), `${mode}:function`);
        const group = uniq('load');
        await page.evaluate(([group]) => T.connect('a', { user: 'ann', groups: [group] }), [group]);
        await waitInPage(page, () => T.clients.a.state === 'open', undefined, 'the client to open');
        const reply = await page.evaluate(([group]) => T.clients.a.speak(group, { n: 1 }), [group]);
        assert.equal(typeof reply.groups[group].seq, 'number');
        await waitInPage(page, ([group]) => T.messages('a', group).length === 1, [group], 'its own message');
        assert.deepEqual(page.problems, []);
      } finally {
        await context.close();
      }
    });
  }

  for (const transport of ['ws', 'sse', 'longpoll', 'jsonp', 'frame']) {
    test(`transport ${transport} forced: delivers messages and direct messages both ways`, async () => {
      const context = await browser.newContext();
      try {
        const page = await openLibraryPage(context, herald.url);
        const group = uniq(transport);
        const browserUser = uniq('web');
        const nodeUser = uniq('node');
        const other = await nodeListener(herald.url, nodeUser, group);
        await page.evaluate(([group, user, transport]) => T.connect('c', { user, groups: [group], transports: [transport] }), [group, browserUser, transport]);
        await waitInPage(page, () => T.clients.c.state === 'open', undefined, 'the client to open');
        assert.equal(await page.evaluate(() => T.clients.c.transport), transport);

        // server → browser: a message to the group and a direct message
        for (let i = 1; i <= 3; i++) await call(herald.url, 'speak', { session: other.session, group, data: { i } });
        await call(herald.url, 'send', { session: other.session, to: browserUser, data: 'psst' });
        await waitInPage(page, ([group]) => T.messages('c', group).length === 3 && T.directs('c').length === 1, [group], 'three messages and a direct one');
        assert.deepEqual(await page.evaluate(([group]) => T.messages('c', group), [group]), [{ i: 1 }, { i: 2 }, { i: 3 }]);
        assert.deepEqual(await page.evaluate(() => T.directs('c')), [{ from: nodeUser, data: 'psst' }]);

        // browser → server: speak and send, seen by the node session
        await page.evaluate(([group]) => T.clients.c.speak(group, 'from the browser'), [group]);
        const sent = await page.evaluate(([to]) => T.clients.c.send(to, 'direct from the browser'), [nodeUser]);
        assert.equal(sent.delivered, 1);
        await other.until(
          (evs) => evs.some((e) => e.type === 'message' && e.data === 'from the browser' && e.from === browserUser) && evs.some((e) => e.type === 'direct' && e.data === 'direct from the browser'),
          'the browser message and direct message',
        );

        // presence and history through the same transport
        const presence = await page.evaluate(([group]) => T.clients.c.presence(group), [group]);
        assert.deepEqual(presence.users, [browserUser, nodeUser].sort());
        const history = await page.evaluate(([group]) => T.clients.c.history(group, { limit: 10 }), [group]);
        assert.equal(history.messages.length, 4);
        assert.equal(await page.evaluate(() => T.clients.c.transport), transport, 'no fallback happened');
        assert.deepEqual(page.problems, []);
      } finally {
        await context.close();
      }
    });
  }

  test('a server that refuses the WebSocket upgrade: the client falls back to SSE', async () => {
    const proxy = await new TcpProxy(herald.port).start();
    const context = await browser.newContext();
    try {
      proxy.block(/^GET \/v1\/ws[ ?]/);
      const page = await openLibraryPage(context, proxy.url, { ignore: [/WebSocket/] });
      const group = uniq('fallback');
      await page.evaluate(([group]) => T.connect('c', { user: 'fay', groups: [group] }), [group]);
      await waitInPage(page, () => T.clients.c.state === 'open', undefined, 'the client to open on some transport');
      assert.equal(await page.evaluate(() => T.clients.c.transport), 'sse');
      const tried = await page.evaluate(() => T.logs.c.states.map((s) => s.transport).filter(Boolean));
      assert.equal(tried[0], 'ws', `tried first: ${tried}`);
      const r = await publishJson(herald, { group, data: 'via sse' });
      assert.equal(r.status, 200, r.text);
      await waitInPage(page, ([group]) => T.messages('c', group).includes('via sse'), [group], 'a message over the fallback');
      assert.ok(proxy.requestLines.some((l) => l.startsWith('GET /v1/ws')), 'the WebSocket was tried');
    } finally {
      await context.close();
      await proxy.close();
    }
  });

  test('without --jsonp on the server, a client forced to jsonp then longpoll ends on longpoll', async () => {
    const plain = await startServer([]);
    const context = await browser.newContext();
    try {
      const page = await openLibraryPage(context, plain.url, { ignore: [/403|Forbidden/] });
      const group = uniq('nojsonp');
      await page.evaluate(([group]) => T.connect('c', { user: 'jo', groups: [group], transports: 'jsonp,longpoll' }), [group]);
      await waitInPage(page, () => T.clients.c.state === 'open', undefined, 'the client to open');
      assert.equal(await page.evaluate(() => T.clients.c.transport), 'longpoll');
      const r = await publishJson(plain, { group, data: 'via longpoll' });
      assert.equal(r.status, 200, r.text);
      await waitInPage(page, ([group]) => T.messages('c', group).includes('via longpoll'), [group], 'a message over long-poll');
    } finally {
      await context.close();
      await plain.stop();
    }
  });
});
