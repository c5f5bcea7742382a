// Browser test harness: the real herald (through the black-box harness), real headless
// Chromium (playwright-core, the Debian binary), and a TCP proxy that can cut connections.
//
// Every wait is on a condition and bounded; nothing sleeps for a fixed time; no test asserts a
// duration. HERALD_BIN picks the server; HERALD_WEB_ROOT (optional) serves web/ from disk
// through --web-root instead of the copy compiled into the binary (for development).

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { bounded, REPO, startHerald } from '../../blackbox/lib/herald.mjs';

export { REPO, HERALD_BIN, bounded, uniq, call, enter, request, publishJson, test, describe, before, after } from '../../blackbox/lib/herald.mjs';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const ARTIFACTS = path.join(REPO, 'tests', 'artifacts');

/** How long a page condition may take before the test fails (it normally takes far less). */
export const PAGE_BOUND_MS = 20_000;

/** startHerald, plus --web-root when HERALD_WEB_ROOT is set. */
export function startServer(args = [], options) {
  const webRoot = process.env.HERALD_WEB_ROOT;
  return startHerald([...(webRoot ? ['--web-root', webRoot] : []), ...args], options);
}

export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
}

/**
 * Collects console errors and uncaught page errors of `page` into `page.problems` (strings).
 * `ignore` (regexes) skips expected ones, e.g. the failed WebSocket of a fallback test.
 */
export function watchProblems(page, ignore = []) {
  page.problems = [];
  const keep = (text) => {
    if (!ignore.some((re) => re.test(text))) page.problems.push(text);
  };
  page.on('console', (msg) => {
    if (msg.type() === 'error') keep(`console.error: ${msg.text()} @ ${msg.location()?.url ?? ''}`);
  });
  page.on('pageerror', (err) => keep(`pageerror: ${err.message}`));
  return page;
}

// Installed in library test pages: keeps every client's events, states and notices so that the
// test can wait for them with waitInPage.
const PAGE_HARNESS = `
window.T = {
  clients: {}, logs: {},
  connect(name, options) {
    const client = Herald.connect(options);
    const log = { events: [], states: [], recovered: [], sessions: [], replies: [] };
    client.on('event', (e) => log.events.push(e));
    client.on('state', (s) => log.states.push(s));
    client.on('recovered', (r) => log.recovered.push(r));
    client.on('session', (s) => log.sessions.push(s));
    this.clients[name] = client;
    this.logs[name] = log;
    return true;
  },
  messages(name, group) {
    return this.logs[name].events
      .filter((e) => e.type === 'message' && (!group || e.group === group))
      .map((e) => e.data);
  },
  directs(name) {
    return this.logs[name].events.filter((e) => e.type === 'direct').map((e) => ({ from: e.from, data: e.data }));
  },
};
`;

/**
 * Opens a page of the server at `origin` (a herald or a proxy in front of it) that loads
 * /herald.js as a classic script (`mode: 'classic'`) or by a module import (`'module'`), plus
 * the test harness (window.T). The page is written by the test into a document the server
 * served (/healthz): it keeps that origin, and Chromium's local-network-access checks see a
 * loopback page talking to loopback (a page fulfilled by the test itself would count as public
 * and have its WebSocket to 127.0.0.1 blocked).
 */
export async function openLibraryPage(context, origin, { mode = 'classic', ignore = [] } = {}) {
  // The bare /healthz document makes Chromium ask for /favicon.ico (404): not the library's doing.
  const page = watchProblems(await context.newPage(), [/favicon\.ico/, ...ignore]);
  const loader =
    mode === 'module'
      ? `<script type="module">import '/herald.js'; window.loadedAs = 'module:' + typeof globalThis.Herald.connect;</script>`
      : `<script src="/herald.js"></script><script>window.loadedAs = 'classic:' + typeof Herald.connect;</script>`;
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>library test</title>
<link rel="icon" href="data:,"></head><body>${loader}<script>${PAGE_HARNESS}</script></body></html>`;
  await page.goto(`${origin}/healthz`);
  await page.setContent(html);
  await waitInPage(page, () => typeof window.loadedAs === 'string', undefined, 'the library to load');
  return page;
}

/**
 * Waits (bounded) until `fn(arg)` is truthy in the page; returns its value. On timeout the
 * error says what was awaited and shows the page's client logs.
 */
export async function waitInPage(page, fn, arg, what, boundMs = PAGE_BOUND_MS) {
  try {
    const handle = await page.waitForFunction(fn, arg, { timeout: boundMs, polling: 50 });
    return await handle.jsonValue();
  } catch (err) {
    let logs = '';
    try {
      logs = await page.evaluate(() =>
        JSON.stringify(window.T ? window.T.logs : window.chatDebug?.() ?? null, null, 0).slice(0, 6000),
      );
    } catch {
      logs = '(page not readable)';
    }
    err.message = `waiting for ${what}: ${err.message}\npage logs: ${logs}\npage problems: ${JSON.stringify(page.problems ?? [])}`;
    throw err;
  }
}

/**
 * A TCP proxy on 127.0.0.1 in front of a herald: the browser talks to it as to the server.
 * - cut(): destroys every open connection, both sides (a network failure or a node restart);
 * - refuse(on): while on, new connections are closed at once (the server is unreachable);
 * - block(re): connections whose first request line matches `re` are answered 503 and closed
 *   (e.g. a middlebox that refuses WebSocket upgrades);
 * - retarget(port): later connections go to another herald (a restarted node).
 */
export class TcpProxy {
  constructor(targetPort) {
    this.targetPort = targetPort;
    this.sockets = new Set();
    this.refusing = false;
    this.blocked = null;
    this.requestLines = [];
  }

  async start() {
    this.server = net.createServer((client) => this.accept(client));
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', resolve);
    });
    this.port = this.server.address().port;
    this.url = `http://127.0.0.1:${this.port}`;
    return this;
  }

  accept(client) {
    if (this.refusing) {
      client.destroy();
      return;
    }
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
    client.on('error', () => {});
    let head = Buffer.alloc(0);
    const onFirstData = (chunk) => {
      head = Buffer.concat([head, chunk]);
      const lineEnd = head.indexOf('\r\n');
      if (lineEnd < 0 && head.length < 8192) return;
      client.off('data', onFirstData);
      client.pause();
      const requestLine = head.subarray(0, lineEnd < 0 ? head.length : lineEnd).toString('latin1');
      this.requestLines.push(requestLine);
      if (this.blocked && this.blocked.test(requestLine)) {
        client.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        return;
      }
      const upstream = net.connect(this.targetPort, '127.0.0.1');
      this.sockets.add(upstream);
      upstream.on('close', () => {
        this.sockets.delete(upstream);
        client.destroy();
      });
      client.on('close', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      upstream.write(head);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    };
    client.on('data', onFirstData);
  }

  cut() {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  refuse(on) {
    this.refusing = on;
  }

  block(re) {
    this.blocked = re;
  }

  retarget(port) {
    this.targetPort = port;
  }

  async close() {
    this.cut();
    await bounded(new Promise((resolve) => this.server.close(resolve)), 5_000, 'the proxy to close');
  }
}

/** Saves a screenshot under tests/artifacts/ and prints its path. */
export async function screenshot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, name);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`screenshot saved: ${file}`);
  return file;
}
