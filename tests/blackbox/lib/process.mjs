// Herald processes: start a node and wait until it listens, stop it (noticing a crash),
// run the binary to completion, and keep the environment hermetic.
//
// HERALD_BIN overrides the binary (default <repo>/build/herald). Other HERALD_*
// variables of the calling shell are not passed to the server.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bounded } from './bounded.mjs';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const HERALD_BIN = process.env.HERALD_BIN || path.join(REPO, 'build', 'herald');

// Nodes that listen and were neither stopped nor seen to exit: their log tails go into
// a failing test's error (fixture.mjs).
const liveServers = new Set();

/** The nodes started by startHerald that are still running and not yet stopped. */
export function runningServers() {
  return [...liveServers];
}

/**
 * `process.env` without its HERALD_* variables, plus `extra`: what a spawned herald
 * (or herald-cli) gets, so that the caller's shell settings never leak into a test.
 */
export function hermeticEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('HERALD_')) env[k] = v;
  return { ...env, ...extra };
}

function writeConfig(configJson) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-bb-'));
  const file = path.join(dir, 'config.json');
  fs.writeFileSync(file, typeof configJson === 'string' ? configJson : JSON.stringify(configJson, null, 2));
  return { dir, file };
}

/**
 * Spawns herald with `--listen 127.0.0.1:0 --log-level debug` plus `args` (and
 * `--config <tmpfile>` when `configJson` is given) and resolves once a JSON log line
 * with msg "listening" names the bound address. Rejects (with every log line) when
 * the process exits first or nothing is heard within `startBoundMs`.
 *
 * Returns {url, host, port, proc, stop(), terminate(), exited, logs()}:
 * - `terminate()` sends SIGTERM once; `exited` resolves to {code, signal}.
 * - `stop()` terminates and awaits exit (SIGKILL after a bound); it throws when the
 *   server had died on its own before, so a crash never goes unnoticed.
 */
export async function startHerald(args = [], { env = {}, configJson, startBoundMs = 15_000 } = {}) {
  const config = configJson !== undefined ? writeConfig(configJson) : null;
  const fullArgs = ['--listen', '127.0.0.1:0', '--log-level', 'debug'];
  if (config) fullArgs.push('--config', config.file);
  fullArgs.push(...args);

  const lines = [];
  const proc = spawn(HERALD_BIN, fullArgs, { env: hermeticEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  const server = {
    args: fullArgs,
    proc,
    lines,
    logs: () => lines.join('\n'),
    signaled: false,
    exitInfo: null,
  };

  let onListening;
  const listening = new Promise((resolve, reject) => {
    onListening = { resolve, reject };
  });

  server.exited = new Promise((resolve) => {
    proc.on('exit', (code, signal) => {
      server.exitInfo = { code, signal };
      lines.push(`[harness] herald exited code=${code} signal=${signal}`);
      liveServers.delete(server);
      onListening.reject(
        new Error(`herald exited (code=${code} signal=${signal}) before listening; args: ${fullArgs.join(' ')}\n${server.logs()}`),
      );
      resolve({ code, signal });
    });
  });
  proc.on('error', (err) => {
    lines.push(`[harness] spawn error: ${err.message}`);
    onListening.reject(new Error(`cannot start ${HERALD_BIN}: ${err.message} (build it or set HERALD_BIN)`));
  });

  const consume = (stream, tag) => {
    const rl = createInterface({ input: stream });
    rl.on('line', (line) => {
      lines.push(tag + line);
      let entry;
      try {
        entry = JSON.parse(line);
      } catch {
        return;
      }
      if (entry && entry.msg === 'listening' && typeof entry.addr === 'string') onListening.resolve(entry.addr);
    });
  };
  consume(proc.stderr, '');
  consume(proc.stdout, '[stdout] ');

  server.terminate = () => {
    if (!server.signaled && server.exitInfo === null) {
      server.signaled = true;
      proc.kill('SIGTERM');
    }
  };
  server.stop = async () => {
    liveServers.delete(server);
    if (config) fs.rmSync(config.dir, { recursive: true, force: true });
    if (server.exitInfo !== null && !server.signaled) {
      throw new Error(
        `herald died during the test (code=${server.exitInfo.code} signal=${server.exitInfo.signal})\n${logTail(server)}`,
      );
    }
    server.terminate();
    try {
      return await bounded(server.exited, 20_000, 'herald to exit after SIGTERM');
    } catch (err) {
      proc.kill('SIGKILL');
      throw err;
    }
  };

  let addr;
  try {
    addr = await bounded(listening, startBoundMs, `a "listening" log line from ${HERALD_BIN}`);
  } catch (err) {
    if (server.exitInfo === null) proc.kill('SIGKILL');
    if (config) fs.rmSync(config.dir, { recursive: true, force: true });
    err.message += `\n--- herald output ---\n${server.logs()}`;
    throw err;
  }
  const colon = addr.lastIndexOf(':');
  server.host = addr.slice(0, colon).replace(/^\[|\]$/g, '');
  server.port = Number(addr.slice(colon + 1));
  server.url = `http://${server.host}:${server.port}`;
  liveServers.add(server);
  return server;
}

/**
 * Runs herald to completion (e.g. `--help` or a bad flag) and resolves to
 * {code, signal, stdout, stderr}. A process still running after `boundMs` is killed
 * and the promise rejects: such a command was expected to exit by itself.
 */
export async function runHerald(args, { env = {}, boundMs = 10_000 } = {}) {
  const proc = spawn(HERALD_BIN, args, { env: hermeticEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d) => (stdout += d));
  proc.stderr.on('data', (d) => (stderr += d));
  const done = new Promise((resolve, reject) => {
    proc.on('error', reject);
    proc.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  try {
    return await bounded(done, boundMs, `herald ${args.join(' ')} to exit`);
  } catch (err) {
    proc.kill('SIGKILL');
    err.message += `\nstdout: ${stdout}\nstderr: ${stderr}`;
    throw err;
  }
}

/** The last `n` log lines of a node (from startHerald), headed by its address. */
export function logTail(server, n = 80) {
  const shown = server.lines.slice(-n);
  return `--- last ${shown.length} herald log lines (${server.url ?? 'not listening'}) ---\n${shown.join('\n')}`;
}
