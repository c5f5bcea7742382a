// Aggregation across load generator processes and the gnuplot plots of bench/run.
// Histograms are herald-loadgen's (bench/loadgen/histogram.hpp): 32 sub-buckets per power of
// two, reported as [[index, count], ...]; merging adds counts bucket by bucket.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const SUB_BITS = 5n;
const SUB_COUNT = 1n << SUB_BITS;

/** The largest value of bucket `index` (as histogram::upper_bound_of). */
export function upperBoundOf(index) {
  const i = BigInt(index);
  if (i < 2n * SUB_COUNT) return Number(i);
  const shift = i / SUB_COUNT - 1n;
  const mantissa = (i % SUB_COUNT) + SUB_COUNT;
  return Number(((mantissa + 1n) << shift) - 1n);
}

/** The bucket of a non-negative integer value (as histogram::index_of). */
export function indexOf(value) {
  const v = BigInt(Math.max(0, Math.round(value)));
  if (v < SUB_COUNT) return Number(v);
  let exponent = -1n;
  for (let x = v; x > 0n; x >>= 1n) exponent++;
  const shift = exponent - SUB_BITS;
  const mantissa = v >> shift;
  return Number((shift + 1n) * SUB_COUNT + (mantissa - SUB_COUNT));
}

/** Merges loadgen histograms ({buckets, max}) into {count, max, buckets: Map<index, count>}. */
export function mergeHistograms(list) {
  const merged = { count: 0, max: 0, buckets: new Map() };
  for (const h of list) {
    if (!h) continue;
    for (const [i, c] of h.buckets) {
      merged.buckets.set(i, (merged.buckets.get(i) ?? 0) + c);
      merged.count += c;
    }
    merged.max = Math.max(merged.max, h.max ?? 0);
  }
  return merged;
}

/** The value at quantile q of a merged histogram (bucket upper bound, capped by max); NaN if empty. */
export function percentile(h, q) {
  if (!h.count) return NaN;
  const rank = Math.max(1, Math.ceil(q * h.count));
  let seen = 0;
  for (const i of [...h.buckets.keys()].sort((a, b) => a - b)) {
    seen += h.buckets.get(i);
    if (seen >= rank) return Math.min(upperBoundOf(i), h.max);
  }
  return h.max;
}

/**
 * Reads the --last-out files of every subscriber process ("channel seq max_ns receivers") and
 * returns the histogram of each message's latest delivery, over the messages that reached all
 * `readyByChannel[channel]` subscribers.
 */
export function mergeLastFiles(files, readyByChannel) {
  const messages = new Map();
  for (const file of files) {
    if (!fs.existsSync(file)) continue;
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      if (!line) continue;
      const [ch, seq, max, receivers] = line.split(' ').map(Number);
      const key = ch * 1e9 + seq;
      const m = messages.get(key) ?? { ch, max: 0, receivers: 0 };
      m.max = Math.max(m.max, max);
      m.receivers += receivers;
      messages.set(key, m);
    }
  }
  const h = { count: 0, max: 0, buckets: new Map() };
  for (const m of messages.values()) {
    if (m.receivers < (readyByChannel[m.ch] ?? Infinity)) continue;
    const i = indexOf(m.max);
    h.buckets.set(i, (h.buckets.get(i) ?? 0) + 1);
    h.count++;
    h.max = Math.max(h.max, m.max);
  }
  return h;
}

function cdfRows(h) {
  const rows = [];
  let seen = 0;
  for (const i of [...h.buckets.keys()].sort((a, b) => a - b)) {
    seen += h.buckets.get(i);
    rows.push(`${Math.min(upperBoundOf(i), h.max) / 1e6} ${seen / h.count}`);
  }
  return rows.join('\n');
}

function gnuplot(script) {
  const r = spawnSync('gnuplot', [], { input: script, encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`gnuplot failed: ${r.error?.message ?? r.stderr}`);
}

/**
 * Writes into `dir` a latency CDF per scenario (every server) and deliveries/s by
 * subscriber count for the fan-out scenarios. Returns [{file, title}]; [] without gnuplot.
 */
export function writePlots(dir, results) {
  if (spawnSync('gnuplot', ['--version']).status !== 0) {
    console.warn('bench/run: gnuplot missing (make deps DEPS_FLAGS=--bench): no plots');
    return [];
  }
  fs.mkdirSync(dir, { recursive: true });
  const plots = [];
  for (const { s, by } of results) {
    const series = Object.entries(by).filter(([, r]) => r.latency?.count > 0);
    if (!series.length) continue;
    const data = series.map(([name, r]) => {
      const file = path.join(dir, `${s.name}-${name}.cdf`);
      fs.writeFileSync(file, cdfRows(r.latency) + '\n');
      return `'${file}' using 1:2 with steps lw 2 title '${name}'`;
    });
    const file = `latency-${s.name}.png`;
    gnuplot(`set terminal pngcairo size 800,500
set output '${path.join(dir, file)}'
set title 'Latency CDF: ${s.name} (${s.subscribers} subscribers, ${s.transport})'
set logscale x
set xlabel 'publish to delivery (ms)'
set ylabel 'fraction of deliveries'
set key bottom right
set grid
plot ${data.join(', ')}
`);
    plots.push({ file, title: `latency CDF ${s.name}` });
  }
  const fanout = results.filter(({ s, by }) => s.name.startsWith('fanout') && !s.name.endsWith('hz') && !s.spread
    && Object.values(by).some((r) => Number.isFinite(r.deliveries_per_s)));
  if (fanout.length) {
    // One data block per transport (gnuplot `index`), so that only points of one transport are
    // joined by a line; one column per server.
    const servers = ['herald', 'nchan', 'centrifugo'].filter((x) => fanout.some(({ by }) => Number.isFinite(by[x]?.deliveries_per_s)));
    const transports = [...new Set(fanout.map(({ s }) => s.transport))].sort();
    const blocks = transports.map((t) => fanout
      .filter(({ s }) => s.transport === t)
      .map(({ s, by }) => `${s.subscribers} ${servers.map((x) => by[x]?.deliveries_per_s ?? 'NaN').join(' ')} ${s.name}`)
      .sort((a, b) => Number(a.split(' ')[0]) - Number(b.split(' ')[0]))
      .join('\n'));
    const dat = path.join(dir, 'deliveries.dat');
    fs.writeFileSync(dat, blocks.join('\n\n\n') + '\n');
    const file = 'deliveries-by-subscribers.png';
    const lines = transports.flatMap((t, i) => servers.map((x, k) =>
      `'${dat}' index ${i} using 1:${k + 2} with linespoints pt ${7 - 2 * k} title '${x} ${t}'`));
    gnuplot(`set terminal pngcairo size 800,500
set output '${path.join(dir, file)}'
set title 'Fan-out deliveries/s by subscriber count (pipelined publisher)'
set logscale x
set xlabel 'subscribers'
set ylabel 'deliveries/s'
set offsets graph 0.1, graph 0.1, graph 0.1, 0
set grid
plot ${lines.join(', ')}
`);
    plots.push({ file, title: 'deliveries/s by subscriber count' });
  }
  return plots;
}
