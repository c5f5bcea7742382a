// Reading GET /metrics (Prometheus text exposition 0.0.4) in black-box tests.

import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { request } from './http.mjs';

/**
 * Parses an exposition into {families: Map name → {help, type}, samples: [{name, labels, value}]}.
 * Throws on a line that is neither a comment nor a sample, so a malformed scrape fails loudly.
 */
export function parseExposition(text) {
  const families = new Map();
  const samples = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (m) {
      const f = families.get(m[2]) ?? {};
      f[m[1] === 'HELP' ? 'help' : 'type'] = m[3];
      families.set(m[2], f);
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not an exposition line: ${JSON.stringify(line)}`);
    const labels = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k] = v;
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return { families, samples };
}

/** GET /metrics, asserted 200 and parsed; also returns the raw text. */
export async function scrape(server) {
  const r = await request(server, { path: '/metrics' });
  assert.equal(r.status, 200, `GET /metrics: HTTP ${r.status} ${r.text}`);
  return { ...parseExposition(r.text), text: r.text, headers: r.headers };
}

/** The value of the sample `name` whose labels include `labels`; undefined when absent. */
export function valueOf(parsed, name, labels = {}) {
  const s = parsed.samples.find(
    (x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v),
  );
  return s?.value;
}

/**
 * Scrapes until `pred(value)` holds for the sample (a condition, polled), or fails after
 * `boundMs` showing the last value. Returns the last scrape.
 */
export async function untilMetric(server, name, labels, pred, { boundMs = 10_000, what } = {}) {
  const deadline = Date.now() + boundMs;
  let last;
  for (;;) {
    last = await scrape(server);
    const v = valueOf(last, name, labels);
    if (pred(v)) return last;
    if (Date.now() > deadline) {
      assert.fail(`timed out after ${boundMs} ms waiting for ${what ?? `${name}${JSON.stringify(labels)}`}; last value: ${v}`);
    }
    await delay(50); // the next scrape: the server changes the value asynchronously
  }
}
