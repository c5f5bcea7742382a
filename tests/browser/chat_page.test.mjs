// The chat page at / in two browsers: names, rooms, live member lists, messages with sender and
// time, direct messages, the connection indicator and the ?transport= override; no console
// errors on any page; screenshots (desktop and phone) saved under tests/artifacts/.

import assert from 'node:assert/strict';
import { after, before, describe, launchBrowser, PAGE_BOUND_MS, screenshot, startServer, test, uniq } from './lib/browser.mjs';
import { expectMessage, members, openChat, signIn } from './lib/chat.mjs';

describe('the chat page', () => {
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

  test('two people chat: members, messages with sender and time, a direct message, a leave', async () => {
    const room = uniq('room');
    const aliceContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const bobContext = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    try {
      const alice = await openChat(aliceContext, herald.url);
      const bob = await openChat(bobContext, herald.url, '?transport=longpoll');

      await signIn(alice, 'alice', room);
      await assertStatus(alice, 'open', 'ws');
      await members(alice, ['alice']);

      await signIn(bob, 'bob', room);
      await assertStatus(bob, 'open', 'longpoll');
      await members(bob, ['alice', 'bob']);
      await members(alice, ['alice', 'bob']); // live join
      await alice.getByText('bob joined').waitFor({ timeout: PAGE_BOUND_MS });

      await send(alice, 'Hello Bob!');
      await expectMessage(bob, 'alice', 'Hello Bob!');
      await expectMessage(alice, 'alice', 'Hello Bob!');
      await send(bob, 'Hi Alice, how are you?');
      await expectMessage(alice, 'bob', 'Hi Alice, how are you?');

      // every message shows its sender and a time
      const first = alice.locator('#messages li.message').first();
      assert.match(await first.locator('time').getAttribute('datetime'), /^\d{4}-\d\d-\d\dT/);
      assert.match(await first.locator('time').innerText(), /\d/);

      // a direct message from alice to bob
      await alice.getByRole('button', { name: 'Direct message to bob' }).click();
      await send(alice, 'Just between us');
      await bob.locator('#rooms [data-room="@direct"] .badge').filter({ hasText: '1' }).waitFor({ timeout: PAGE_BOUND_MS });
      await bob.locator('#rooms [data-room="@direct"]').click();
      await expectMessage(bob, 'alice → bob', 'Just between us');
      await bob.getByRole('button', { name: 'Reply to alice' }).click();
      await send(bob, 'Sure');
      await alice.locator('#rooms [data-room="@direct"] .badge').filter({ hasText: '1' }).waitFor({ timeout: PAGE_BOUND_MS });
      await alice.locator('#rooms [data-room="@direct"]').click();
      await expectMessage(alice, 'bob → alice', 'Sure');
      await expectMessage(alice, 'alice → bob', 'Just between us');
      await alice.locator(`#rooms [data-room="${room}"]`).click();
      await members(alice, ['alice', 'bob']);

      await screenshot(alice, 'chat-desktop.png');
      await screenshot(bob, 'chat-phone.png');

      // bob leaves: alice's member list follows
      await bob.locator(`#rooms [data-room="${room}"]`).click();
      await bob.getByRole('button', { name: 'Leave room' }).click();
      await members(alice, ['alice']);
      await alice.getByText('bob left').waitFor({ timeout: PAGE_BOUND_MS });

      assert.deepEqual(alice.problems, []);
      assert.deepEqual(bob.problems, []);
    } finally {
      await aliceContext.close();
      await bobContext.close();
    }
  });

  test('joining a second room shows its history and members; the room list switches views', async () => {
    const lobby = uniq('lobby');
    const other = uniq('other');
    const context = await browser.newContext();
    const context2 = await browser.newContext();
    try {
      const carol = await openChat(context, herald.url);
      const dave = await openChat(context2, herald.url, '?transport=sse');
      await signIn(dave, 'dave', other);
      await assertStatus(dave, 'open', 'sse');
      await send(dave, 'Earlier message');
      await expectMessage(dave, 'dave', 'Earlier message');

      await signIn(carol, 'carol', lobby);
      await carol.getByLabel('Room to join').fill(other);
      await carol.getByRole('button', { name: 'Join', exact: true }).click();
      await carol.locator('#conversation-title').filter({ hasText: `#${other}` }).waitFor({ timeout: PAGE_BOUND_MS });
      await expectMessage(carol, 'dave', 'Earlier message'); // from the room's history
      await members(carol, ['carol', 'dave']);
      await carol.locator(`#rooms [data-room="${lobby}"]`).click();
      await members(carol, ['carol']);
      assert.deepEqual(carol.problems, []);
      assert.deepEqual(dave.problems, []);
    } finally {
      await context.close();
      await context2.close();
    }
  });

  test('two tabs of one person share the connection and both show the conversation', async () => {
    const room = uniq('shared');
    const context = await browser.newContext();
    try {
      const first = await openChat(context, herald.url);
      await signIn(first, 'erin', room);
      await assertStatus(first, 'open', 'ws');
      const second = await openChat(context, herald.url); // the name is remembered
      assert.equal(await second.getByLabel('Your name').inputValue(), 'erin');
      await signIn(second, 'erin', room);
      await second.locator('#status', { hasText: 'shared with another tab' }).waitFor({ timeout: PAGE_BOUND_MS });
      await send(second, 'typed in the second tab');
      await expectMessage(first, 'erin', 'typed in the second tab');
      await expectMessage(second, 'erin', 'typed in the second tab');
      await members(second, ['erin']);
      assert.deepEqual(first.problems, []);
      assert.deepEqual(second.problems, []);
    } finally {
      await context.close();
    }
  });
});

async function send(page, text) {
  await page.getByLabel('Message', { exact: true }).fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
}

async function assertStatus(page, state, transport) {
  await page.locator(`#status[data-state="${state}"][data-transport="${transport}"]`).waitFor({ timeout: PAGE_BOUND_MS });
}
