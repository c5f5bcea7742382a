// Two herald-cli processes and a browser page in one room: the same chat from a terminal and
// from the web page, both ways, messages and direct messages, members coming and going.
//
// The CLI is found at $HERALD_CLI, else next to the server binary (dirname(HERALD_BIN)/herald-cli).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, bounded, describe, HERALD_BIN, launchBrowser, PAGE_BOUND_MS, startServer, test, uniq } from './lib/browser.mjs';
import { expectMessage, members, openChat, signIn } from './lib/chat.mjs';

const CLI = process.env.HERALD_CLI || path.join(path.dirname(HERALD_BIN), 'herald-cli');

/** A running herald-cli: `lines` are its stdout JSON objects; `until(pred)` waits (bounded). */
function startCli(args) {
  const proc = spawn(CLI, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const cli = { proc, lines: [], stderr: '', waiters: new Set() };
  createInterface({ input: proc.stdout }).on('line', (line) => {
    try {
      cli.lines.push(JSON.parse(line));
    } catch {
      cli.lines.push({ unparsed: line });
    }
    for (const w of [...cli.waiters]) w();
  });
  proc.stderr.on('data', (d) => (cli.stderr += d));
  cli.exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  cli.say = (command) => proc.stdin.write(command + '\n');
  cli.until = (pred, what) => {
    let waiter;
    const found = new Promise((resolve) => {
      waiter = () => {
        const hit = cli.lines.find(pred);
        if (hit) {
          cli.waiters.delete(waiter);
          resolve(hit);
        }
      };
      cli.waiters.add(waiter);
      waiter();
    });
    return bounded(found, PAGE_BOUND_MS, `herald-cli ${args.join(' ')} to print ${what}`, () => cli.waiters.delete(waiter)).catch((err) => {
      err.message += `\nstdout: ${JSON.stringify(cli.lines).slice(-3000)}\nstderr: ${cli.stderr.slice(-2000)}`;
      throw err;
    });
  };
  return cli;
}

const isMessage = (from, text) => (l) => l.type === 'message' && l.from === from && l.data && l.data.text === text;
const isDirect = (from, text) => (l) => l.type === 'direct' && l.from === from && l.data && l.data.text === text;

describe('herald-cli and the chat page in one room', () => {
  let herald;
  let browser;
  const clis = [];
  before(async () => {
    herald = await startServer([]);
    browser = await launchBrowser();
  });
  after(async () => {
    for (const c of clis) if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
    await browser?.close();
    await herald?.stop();
  });

  test('two CLIs (WebSocket and long-poll) and a browser page chat', async () => {
    // herald-cli is built with the server: its absence is a failure, not a skip.
    assert.ok(fs.existsSync(CLI), `no herald-cli at ${CLI} (build it, or set HERALD_CLI)`);
    const room = uniq('mixed');
    const bob = startCli(['--url', herald.url, '--user', 'bob', '--join', room, '--transport', 'websocket', '-q']);
    const carol = startCli(['--url', herald.url, '--user', 'carol', '--join', room, '--transport', 'longpoll', '-q']);
    clis.push(bob, carol);
    await bob.until((l) => l.type === 'session', 'its session');
    await carol.until((l) => l.type === 'session', 'its session');

    const context = await browser.newContext();
    try {
      const alice = await openChat(context, herald.url);
      await signIn(alice, 'alice', room);
      await members(alice, ['alice', 'bob', 'carol']);
      await bob.until((l) => l.type === 'join' && l.user === 'alice' && l.group === room, 'alice joining');

      // terminal → browser and the other terminal
      bob.say(`say ${room} hello from the terminal`);
      await expectMessage(alice, 'bob', 'hello from the terminal');
      await carol.until(isMessage('bob', 'hello from the terminal'), "bob's message");

      // browser → both terminals
      await alice.getByLabel('Message', { exact: true }).fill('hello terminals');
      await alice.getByRole('button', { name: 'Send' }).click();
      await bob.until(isMessage('alice', 'hello terminals'), "alice's message");
      await carol.until(isMessage('alice', 'hello terminals'), "alice's message");

      // direct messages both ways
      carol.say('send alice a word in private');
      await alice.locator('#rooms [data-room="@direct"] .badge').filter({ hasText: '1' }).waitFor({ timeout: PAGE_BOUND_MS });
      await alice.locator('#rooms [data-room="@direct"]').click();
      await expectMessage(alice, 'carol → alice', 'a word in private');
      await alice.getByRole('button', { name: 'Reply to carol' }).click();
      await alice.getByLabel('Message', { exact: true }).fill('noted');
      await alice.getByRole('button', { name: 'Send' }).click();
      await carol.until(isDirect('alice', 'noted'), "alice's direct reply");

      // presence seen from a terminal; a terminal leaving shows in the page
      bob.say(`who ${room}`);
      const who = await bob.until((l) => l.type === 'reply' && l.method === 'presence', 'the presence reply');
      assert.deepEqual(who.result.users, ['alice', 'bob', 'carol']);
      await alice.locator(`#rooms [data-room="${room}"]`).click();
      carol.say('quit');
      assert.equal((await bounded(carol.exited, PAGE_BOUND_MS, 'carol to exit')).code, 0);
      await members(alice, ['alice', 'bob']);
      bob.say('quit');
      assert.equal((await bounded(bob.exited, PAGE_BOUND_MS, 'bob to exit')).code, 0);
      await members(alice, ['alice']);
      assert.deepEqual(alice.problems, []);
    } finally {
      await context.close();
    }
  });
});
