// Two tabs of one user share one connection: the tab holding the Web Lock (the leader) opens
// the stream, the other (a follower) talks to it over a BroadcastChannel; when the leader tab
// closes, the follower takes the session over on its own stream, resuming by eid.

import assert from 'node:assert/strict';
import { after, before, describe, launchBrowser, openLibraryPage, publishJson, startServer, test, uniq, waitInPage } from './lib/browser.mjs';

/** Records the streams a page opens: WebSockets and stream/long-poll requests. */
function watchStreams(page) {
  const streams = [];
  page.on('websocket', (ws) => streams.push(`ws ${new URL(ws.url()).pathname}`));
  page.on('request', (req) => {
    const p = new URL(req.url()).pathname;
    if (['/v1/sse', '/v1/listen', '/v1/stream', '/v1/rpc'].includes(p)) streams.push(`${req.method()} ${p}`);
  });
  return streams;
}

describe('tabs of one user share one connection', () => {
  let herald;
  let browser;
  before(async () => {
    herald = await startServer([]);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await herald?.stop();
  });

  for (const transport of ['ws', 'sse']) {
    test(`${transport}: the follower tab opens nothing, receives, speaks; it takes over when the leader closes`, async () => {
      const context = await browser.newContext();
      try {
        const group = uniq('tabs');
        const user = uniq('tina');
        const options = { user, groups: [group], transports: [transport], backoff: { baseMs: 100, capMs: 800 } };

        const first = await openLibraryPage(context, herald.url);
        const firstStreams = watchStreams(first);
        await first.evaluate((o) => T.connect('c', o), options);
        await waitInPage(first, () => T.clients.c.state === 'open' && T.clients.c.role === 'leader', undefined, 'the first tab to lead');

        const second = await openLibraryPage(context, herald.url);
        const secondStreams = watchStreams(second);
        await second.evaluate((o) => T.connect('c', o), options);
        await waitInPage(second, () => T.clients.c.state === 'open' && T.clients.c.role === 'follower', undefined, 'the second tab to follow');
        const session = await first.evaluate(() => T.clients.c.session);
        assert.equal(await second.evaluate(() => T.clients.c.session), session, 'one session for both tabs');
        assert.equal(await second.evaluate(() => T.clients.c.transport), transport, 'the follower shows the leader transport');

        // Server → both tabs.
        const r = await publishJson(herald, { group, data: 'to both' });
        assert.equal(r.status, 200, r.text);
        for (const page of [first, second]) await waitInPage(page, ([g]) => T.messages('c', g).includes('to both'), [group], 'the message in each tab');

        // The follower speaks and asks, through the leader.
        const spoken = await second.evaluate(([g]) => T.clients.c.speak(g, 'from the follower'), [group]);
        assert.equal(typeof spoken.groups[group].seq, 'number');
        for (const page of [first, second]) await waitInPage(page, ([g]) => T.messages('c', g).includes('from the follower'), [group], 'the follower message in each tab');
        assert.deepEqual((await second.evaluate(([g]) => T.clients.c.presence(g), [group])).users, [user]);

        assert.deepEqual(secondStreams, [], 'the follower opened no connection of its own');
        assert.ok(firstStreams.length > 0, 'the leader holds the stream');

        // The leader tab closes: the follower takes the session over, on the same eids.
        await first.close();
        await waitInPage(second, () => T.clients.c.role === 'leader' && T.clients.c.state === 'open', undefined, 'the follower to take over');
        assert.equal(await second.evaluate(() => T.clients.c.session), session, 'the same session, resumed');
        assert.ok(secondStreams.some((s) => (transport === 'ws' ? s === 'ws /v1/ws' : s === 'GET /v1/sse')), `the new leader opened the stream: ${secondStreams}`);
        const after = await publishJson(herald, { group, data: 'after the handover' });
        assert.equal(after.status, 200, after.text);
        await waitInPage(second, ([g]) => T.messages('c', g).includes('after the handover'), [group], 'a message after the handover');
        assert.deepEqual(await second.evaluate(([g]) => T.messages('c', g), [group]), ['to both', 'from the follower', 'after the handover']);
        assert.deepEqual(second.problems, []);
      } finally {
        await context.close();
      }
    });
  }

  test('different users in one browser do not share', async () => {
    const context = await browser.newContext();
    try {
      const group = uniq('apart');
      const a = await openLibraryPage(context, herald.url);
      const b = await openLibraryPage(context, herald.url);
      await a.evaluate(([g]) => T.connect('c', { user: 'ada', groups: [g] }), [group]);
      await b.evaluate(([g]) => T.connect('c', { user: 'bea', groups: [g] }), [group]);
      for (const page of [a, b]) await waitInPage(page, () => T.clients.c.state === 'open' && T.clients.c.role === 'leader', undefined, 'each to lead');
      assert.notEqual(await a.evaluate(() => T.clients.c.session), await b.evaluate(() => T.clients.c.session));
    } finally {
      await context.close();
    }
  });
});
