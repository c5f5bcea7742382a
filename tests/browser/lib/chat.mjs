// Driving the chat page (web/index.html) as a person would: by labels, roles and visible text.

import assert from 'node:assert/strict';
import { PAGE_BOUND_MS, watchProblems } from './browser.mjs';

/** Opens the chat page of `origin` (with an optional query such as '?transport=sse'). */
export async function openChat(context, origin, query = '') {
  const page = watchProblems(await context.newPage());
  await page.goto(`${origin}/${query}`);
  return page;
}

/** Fills the sign-in form and waits for the chat view with `room` selected. */
export async function signIn(page, name, room) {
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('Rooms to join').fill(room);
  await page.getByRole('button', { name: 'Enter chat' }).click();
  await page.locator('#conversation-title').filter({ hasText: `#${room}` }).waitFor({ timeout: PAGE_BOUND_MS });
}

/** Waits until the member list shows exactly `names` (sorted). */
export async function members(page, names) {
  const list = page.locator('#members li .name');
  try {
    await page.waitForFunction(
      (expected) => JSON.stringify([...document.querySelectorAll('#members li .name')].map((n) => n.textContent)) === JSON.stringify(expected),
      names,
      { timeout: PAGE_BOUND_MS, polling: 50 },
    );
  } catch (err) {
    // Keep the cause: not every failure of waitForFunction is a timeout.
    assert.fail(`members never became ${JSON.stringify(names)}: shown ${JSON.stringify(await list.allTextContents())} (${err.message.split('\n')[0]})`);
  }
}

/** Waits for a message from `from` with exactly `text` in the conversation shown. */
export async function expectMessage(page, from, text) {
  const item = page.locator('#messages li.message').filter({ has: page.locator('.text', { hasText: text }) });
  await item.first().waitFor({ timeout: PAGE_BOUND_MS });
  assert.equal(await item.count(), 1, `"${text}" is shown once`);
  assert.equal(await item.locator('.from').innerText(), from);
}
