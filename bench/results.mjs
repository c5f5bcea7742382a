// bench/run's report: the Markdown table of every scenario and server, the side-by-side table
// of the ways of publishing, and the raw results (JSON, histograms included) that --append
// adds up.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mergeHistograms, writePlots } from './report.mjs';
import { NOT_YET } from './scenarios.mjs';
import { SERVERS, SERVER_TITLES } from './servers.mjs';

const ms = (v) => (v / 1e6).toFixed(3);

export const METRICS = {
  deliveries_per_s: { label: 'deliveries/s', fmt: (v) => v.toFixed(0) },
  publish_rate: { label: 'publishes/s achieved', fmt: (v) => v.toFixed(0) },
  loss: { label: 'lost+dup', fmt: (v) => String(v) },
  p50: { label: 'latency p50 (ms)', fmt: ms },
  p99: { label: 'latency p99 (ms)', fmt: ms },
  p999: { label: 'latency p999 (ms)', fmt: ms },
  max: { label: 'latency max (ms)', fmt: ms },
  last_p99: { label: 'last subscriber p99 (ms)', fmt: ms },
  pub_p50: { label: 'publish round trip p50 (ms)', fmt: ms },
  pub_p99: { label: 'publish round trip p99 (ms)', fmt: ms },
  cpu_us: { label: 'server CPU µs/delivery', fmt: (v) => v.toFixed(2) },
  deliveries_per_core: { label: 'deliveries per server CPU second (/s per core)', fmt: (v) => v.toFixed(0) },
  reconnects: { label: 'reconnects (resumed)', fmt: (v) => String(v) },
  reconnect_p50: { label: 'reconnect time p50 (ms)', fmt: ms },
  reconnect_p99: { label: 'reconnect time p99 (ms)', fmt: ms },
  rss_mb: { label: 'server RSS (MiB)', fmt: (v) => v.toFixed(1) },
  rss_per_conn_kb: { label: 'RSS per connection (KiB)', fmt: (v) => v.toFixed(2) },
  setup_rate: { label: 'connections set up/s', fmt: (v) => v.toFixed(0) },
  ready: { label: 'subscribers ready', fmt: (v) => String(v) },
  load1: { label: '1-min load average at server start', fmt: (v) => v.toFixed(2) },
};

export const fmt = (m, v) => (typeof v !== 'number' || Number.isNaN(v) ? '–' : METRICS[m].fmt(v));

function cell(r, m) {
  if (!r) return '–';
  if (r.na) return 'n/a';
  return fmt(m, r[m]);
}

function ratio(h, n) {
  if (typeof h !== 'number' || typeof n !== 'number' || Number.isNaN(h) || Number.isNaN(n) || n === 0) return '–';
  return `${(h / n).toFixed(2)}`;
}

/** The servers that have a figure in any result, in SERVERS order. */
function serversIn(results) {
  return SERVERS.filter((name) => results.some(({ by }) => by[name] && !by[name].na));
}

function mainTable(results) {
  const servers = serversIn(results);
  const peers = servers.filter((x) => x !== 'herald');
  const lines = [
    `| scenario | subs | metric | ${servers.map((x) => SERVER_TITLES[x]).join(' | ')} | ${peers.map((x) => `Herald/${SERVER_TITLES[x]}`).join(' | ')} | goal |`,
    `| --- | ---: | --- | ${servers.map(() => '---:').join(' | ')} | ${peers.map(() => '---:').join(' | ')} | --- |`,
  ];
  for (const { s, by } of results) {
    [...s.metrics, 'load1'].forEach((m, i) => {
      const values = servers.map((x) => cell(by[x], m));
      const ratios = peers.map((x) => (m === 'load1' ? '' : ratio(by.herald?.[m], by[x]?.[m])));
      lines.push(`| ${i === 0 ? s.name : ''} | ${i === 0 ? s.subscribers : ''} | ${METRICS[m].label} | ${values.join(' | ')} | ${ratios.join(' | ')} | ${i === 0 ? s.goal : ''} |`);
    });
  }
  return lines;
}

// How a scenario publishes, from its actual settings (a smoke run pipelines less).
function modeOf(s) {
  const k = s.pubConnections ?? 1;
  if (s.spread) return k === 1 ? 'one in flight, 1 connection' : `one in flight on each of ${k} connections`;
  return `pipelined: ${s.pipeline ?? 1} in flight on 1 connection`;
}

// The same subscribers published to in different ways (the scenarios of one `family`): one row
// per way and server.
function modesTable(results) {
  const families = [...new Set(results.filter(({ s }) => s.family).map(({ s }) => s.family))];
  if (!families.length) return [];
  const lines = ['## Ways of publishing side by side', '',
    '| scenarios | publisher | server | deliveries/s | CPU µs/delivery | latency p50 / p99 / max (ms) | publish round trip p50 / p99 (ms) | lost+dup | load |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |'];
  for (const family of families) {
    for (const { s, by } of results.filter((x) => x.s.family === family)) {
      for (const name of SERVERS) {
        const r = by[name];
        if (!r || r.na) continue;
        lines.push(`| ${family} | ${modeOf(s)} | ${SERVER_TITLES[name]} | ${fmt('deliveries_per_s', r.deliveries_per_s)} | ${fmt('cpu_us', r.cpu_us)} | ${fmt('p50', r.p50)} / ${fmt('p99', r.p99)} / ${fmt('max', r.max)} | ${fmt('pub_p50', r.pub_p50)} / ${fmt('pub_p99', r.pub_p99)} | ${fmt('loss', r.loss)} | ${fmt('load1', r.load1)} |`);
      }
    }
  }
  return [...lines, ''];
}

export function writeReport(o, results, date, started) {
  const suffix = o.smoke ? '-smoke' : '';
  const base = `${date}${suffix}`;
  fs.mkdirSync(o.out, { recursive: true });
  let plots = [];
  try {
    plots = writePlots(path.join(o.out, base), results);
  } catch (err) {
    console.warn(`bench/run: no plots: ${err.message.split('\n')[0]}`);
  }
  const lines = [];
  lines.push(`# Benchmark ${o.smoke ? 'SMOKE run' : 'run'} of ${date}`, '');
  if (o.smoke)
    lines.push('**Smoke run**: tiny counts for seconds (1 or 20 subscribers, ≤ 200 msg/s, 2 s; chat-mix 40) on a machine busy',
      'with other work. It proves the harness runs end to end; its figures measure nothing.', '');
  lines.push(`Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, ${os.release()}; load average at start ${started.load}`,
    '(and per scenario and server in the last row of each: a figure taken with a load above 1 shared the cores with other work).',
    `Herald ${o.herald} (commit ${started.commit}); nginx+nchan per bench/nchan.conf${started.centrifugo ? `; Centrifugo ${started.centrifugo} per bench/centrifugo.json (memory engine, one node)` : ''}.`,
    'Servers on CPU 0, load on CPU 1. Ratio = Herald / peer. Latency is publish-to-delivery (CLOCK_MONOTONIC, one host);',
    'the publish round trip is from writing a publish request to reading its response. n/a: the server has no such transport.', '');
  lines.push(...mainTable(results), '');
  lines.push(...modesTable(results));
  if (NOT_YET.length) lines.push('Not implemented yet: ' + NOT_YET.join('; ') + '.', '');
  const problems = results.flatMap(({ s, by }) => Object.entries(by).flatMap(([srv, r]) => (r.errors ?? []).map((e) => `- ${s.name} / ${srv}: ${e}`)));
  if (problems.length) lines.push('## Errors (server start, load generator)', '', ...problems, '');
  if (plots.length) lines.push('## Plots', '', ...plots.map((p) => `![${p.title}](${base}/${p.file})`), '');
  const file = path.join(o.out, `${base}.md`);
  fs.writeFileSync(file, lines.join('\n'));
  return file;
}

// --- raw results, so that runs of a few scenarios each add up to one report -----------------

const HISTOGRAMS = ['latency', 'last', 'roundTrip'];
const histToJson = (h) => ({ count: h.count, max: h.max, buckets: [...h.buckets] });
const histFromJson = (h) => (h ? { count: h.count, max: h.max, buckets: new Map(h.buckets) } : mergeHistograms([]));

function mapHistograms(r, f) {
  if (r.na) return r;
  return { ...r, ...Object.fromEntries(HISTOGRAMS.map((k) => [k, f(r[k])])) };
}

export function saveRaw(file, results, meta) {
  const rows = results.map(({ s, by }) => ({
    s,
    by: Object.fromEntries(Object.entries(by).map(([k, r]) => [k, mapHistograms(r, (h) => histToJson(h ?? mergeHistograms([])))])),
  }));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ meta, results: rows }) + '\n');
}

export function loadRaw(file) {
  if (!fs.existsSync(file)) return { meta: null, results: [] };
  const raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  return {
    meta: raw.meta,
    results: raw.results.map(({ s, by }) => ({
      s,
      by: Object.fromEntries(Object.entries(by).map(([k, r]) => [k, mapHistograms(r, histFromJson)])),
    })),
  };
}
