// Helpers for driving `herald-cli` (tools/cli) from black-box tests: spawn it,
// type commands, wait (bounded) for the JSON lines it prints, and put a TCP
// proxy between it and the server so that a test can cut or hold the network.
//
// HERALD_CLI overrides the binary; by default it sits beside the server
// (`build/herald-cli` next to `build/herald`).

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { bounded } from './bounded.mjs';
import { HERALD_BIN, hermeticEnv } from './process.mjs';

export const HERALD_CLI = process.env.HERALD_CLI || path.join(path.dirname(HERALD_BIN), 'herald-cli');

/** Default bound for one awaited line. */
export const LINE_BOUND_MS = 15_000;

const liveClis = new Set();

/**
 * A running herald-cli. `lines` holds every stdout line parsed as JSON (a line
 * that is not JSON fails the next wait), `stderr` every stderr line. Waits are
 * bounded and fail with everything the CLI printed so far.
 */
export class Cli {
  constructor(args, { env = {} } = {}) {
    this.args = args;
    this.lines = [];
    this.badLines = [];
    this.stderr = [];
    this.waiters = new Set();
    this.exitInfo = null;
    this.proc = spawn(HERALD_CLI, args, { env: hermeticEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
    liveClis.add(this);
    this.proc.stdin.on('error', () => {}); // writing after exit: the exit tells the story
    createInterface({ input: this.proc.stdout }).on('line', (line) => {
      try {
        this.lines.push(JSON.parse(line));
      } catch {
        this.badLines.push(line);
      }
      this.wake();
    });
    createInterface({ input: this.proc.stderr }).on('line', (line) => {
      this.stderr.push(line);
      this.wake();
    });
    this.exited = new Promise((resolve, reject) => {
      this.proc.on('error', (err) =>
        reject(new Error(`cannot start ${HERALD_CLI}: ${err.message} (build it or set HERALD_CLI)`)),
      );
      this.proc.on('close', (code, signal) => {
        this.exitInfo = { code, signal };
        liveClis.delete(this);
        this.wake();
        resolve(this.exitInfo);
      });
    });
    this.exited.catch(() => {});
  }

  wake() {
    for (const w of [...this.waiters]) w();
  }

  describe() {
    return (
      `herald-cli ${this.args.join(' ')}\n--- stdout ---\n${this.lines.map((l) => JSON.stringify(l)).join('\n')}` +
      `${this.badLines.length ? `\n--- non-JSON stdout ---\n${this.badLines.join('\n')}` : ''}` +
      `\n--- stderr ---\n${this.stderr.join('\n')}\n--- exit: ${JSON.stringify(this.exitInfo)}`
    );
  }

  /** Types one command line. */
  send(line) {
    this.proc.stdin.write(`${line}\n`);
  }

  /** Writes raw bytes (a Buffer) to stdin. */
  sendBytes(bytes) {
    this.proc.stdin.write(bytes);
  }

  /** Closes stdin (end of input). */
  endInput() {
    this.proc.stdin.end();
  }

  /**
   * Resolves once `check()` returns a truthy value (re-checked on every output
   * line and at exit); fails after `boundMs` or when the CLI exits first.
   */
  until(check, what, boundMs = LINE_BOUND_MS) {
    let waiter;
    const found = new Promise((resolve, reject) => {
      waiter = () => {
        if (this.badLines.length) return reject(new Error(`herald-cli printed a non-JSON line on stdout\n${this.describe()}`));
        const value = check();
        if (value) return resolve(value);
        if (this.exitInfo) reject(new Error(`herald-cli exited before ${what}\n${this.describe()}`));
      };
      this.waiters.add(waiter);
      waiter();
    });
    return bounded(found, boundMs, what)
      .catch((err) => {
        if (!err.message.includes('--- stdout ---')) err.message += `\n${this.describe()}`;
        throw err;
      })
      .finally(() => this.waiters.delete(waiter));
  }

  /** Resolves to the first stdout line (parsed) satisfying `pred`. */
  untilLine(pred, what = 'a matching line', boundMs) {
    return this.until(() => this.lines.find(pred), what, boundMs);
  }

  /** Resolves once `count` stdout lines satisfy `pred`; returns them. */
  untilLines(pred, count, what = `${count} matching lines`, boundMs) {
    return this.until(() => {
      const found = this.lines.filter(pred);
      return found.length >= count ? found : null;
    }, what, boundMs);
  }

  /** Resolves to the first stderr line matching `regex`. */
  untilStderr(regex, what = `a stderr line matching ${regex}`, boundMs) {
    return this.until(() => this.stderr.find((l) => regex.test(l)), what, boundMs);
  }

  /** The reply line to the command typed as `command` (waits for it). */
  reply(command, boundMs) {
    return this.untilLine((l) => l.type === 'reply' && l.command === command, `the reply to '${command}'`, boundMs);
  }

  /** Waits for the CLI to exit by itself; resolves to {code, signal}. */
  async exit(boundMs = LINE_BOUND_MS) {
    try {
      return await bounded(this.exited, boundMs, 'herald-cli to exit');
    } catch (err) {
      err.message += `\n${this.describe()}`;
      throw err;
    }
  }

  /** Event lines (those with an eid). */
  events() {
    return this.lines.filter((l) => typeof l.eid === 'number');
  }

  /** Kills the CLI if it still runs (cleanup). */
  kill() {
    if (this.exitInfo === null) this.proc.kill('SIGKILL');
  }
}

/**
 * Starts a CLI for `user` (null: none, for --token) on `url` with `--quiet` off and a short reconnect cap
 * (tests wait on reconnects, never on fixed delays). `extra` are more flags.
 */
export function startCli(url, user, { join = [], transport = 'websocket', extra = [], env } = {}) {
  // user null: no --user (a token names the user).
  const args = ['--url', url, ...(user === null ? [] : ['--user', user]), '--transport', transport, '--retry-max', '500'];
  for (const g of join) args.push('--join', g);
  return new Cli([...args, ...extra], { env });
}

/** Kills every CLI still running (for `after` hooks and `finally` blocks). */
export function killAllClis() {
  for (const cli of [...liveClis]) cli.kill();
}

/**
 * Asserts the contract's eid rule on everything a CLI printed: each event's eid
 * is the previous one + 1 within one session (a `session` line starts a new
 * one), and no event line is printed twice.
 */
export function assertEidOrder(cli) {
  let prev = 0;
  for (const line of cli.lines) {
    if (line.type === 'session') prev = 0;
    if (typeof line.eid !== 'number') continue;
    if (line.type === 'overflow') assert.ok(line.eid > prev, `overflow eid ${line.eid} not after ${prev}\n${cli.describe()}`);
    else assert.equal(line.eid, prev + 1, `eid jumped from ${prev} to ${line.eid}\n${cli.describe()}`);
    prev = line.eid;
  }
}

/**
 * A loopback TCP proxy to 127.0.0.1:`targetPort`:
 * - `cut()` destroys every open connection, as a network failure would;
 * - `hold()` keeps new connections waiting (not yet connected upstream) until
 *   `release()`; `untilHeld(n)` waits until n connections wait;
 * - `retarget(port)` sends later connections elsewhere (a restarted server);
 * - `close()` stops it.
 * A connection whose upstream cannot be reached is destroyed.
 */
export async function startProxy(targetPort) {
  const sockets = new Set();
  let held = [];
  let holding = false;
  let target = targetPort;
  const heldWaiters = new Set();

  // Connections whose request went upstream and whose answer has not started.
  const awaiting = new Set();
  const connect = (client) => {
    if (client.destroyed) return;
    const upstream = net.connect({ host: '127.0.0.1', port: target });
    sockets.add(upstream);
    client.once('data', () => {
      awaiting.add(client);
      for (const w of [...heldWaiters]) w();
    });
    upstream.once('data', () => awaiting.delete(client));
    client.on('close', () => awaiting.delete(client));
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
    client.on('close', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  };

  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('error', () => {});
    client.on('close', () => sockets.delete(client));
    if (holding) {
      client.pause();
      held.push(client);
      for (const w of [...heldWaiters]) w();
    } else connect(client);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    port: server.address().port,
    url: `http://127.0.0.1:${server.address().port}`,
    cut() {
      for (const s of [...sockets]) s.destroy();
    },
    hold() {
      holding = true;
    },
    release() {
      holding = false;
      const waiting = held;
      held = [];
      for (const c of waiting) connect(c);
    },
    untilHeld(n = 1, boundMs = LINE_BOUND_MS) {
      let waiter;
      const p = new Promise((resolve) => {
        waiter = () => {
          if (held.filter((c) => !c.destroyed).length >= n) resolve();
        };
        heldWaiters.add(waiter);
        waiter();
      });
      return bounded(p, boundMs, `${n} connection(s) held at the proxy`).finally(() => heldWaiters.delete(waiter));
    },
    /** Waits until a request waits for its answer (e.g. a pending long-poll). */
    untilAwaitingAnswer(boundMs = LINE_BOUND_MS) {
      let waiter;
      const p = new Promise((resolve) => {
        waiter = () => {
          if ([...awaiting].some((c) => !c.destroyed)) resolve();
        };
        heldWaiters.add(waiter);
        waiter();
      });
      return bounded(p, boundMs, 'a request waiting for its answer at the proxy').finally(() => heldWaiters.delete(waiter));
    },
    retarget(port) {
      target = port;
    },
    async close() {
      for (const s of [...sockets]) s.destroy();
      for (const c of held) c.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A loopback port with nothing listening on it (bound, then released). */
export async function unusedPort() {
  const probe = net.createServer();
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
