// The operator-facing metrics assets: metrics/alerts.yml (checked and unit-tested by
// promtool), metrics/grafana/herald.json (structure, variables, PromQL that parses),
// and every metric name used by either, checked against a live scrape of the real
// server: a dashboard or a rule that names a metric Herald does not export fails here,
// naming the panel or the rule.
//
// Needs promtool (Debian package `prometheus`, installed by
// `tools/install-deps.sh --metrics`); PROMTOOL overrides the binary.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, call, describe, enter, listen, REPO, request, test, uniq, useHeralds } from './lib/herald.mjs';

const PROMTOOL = process.env.PROMTOOL || 'promtool';
const PROMTOOL_BOUND_MS = 60_000;
const ALERTS = path.join(REPO, 'metrics', 'alerts.yml');
const ALERT_TESTS = path.join(REPO, 'metrics', 'alerts.test.yml');
const DASHBOARD = path.join(REPO, 'metrics', 'grafana', 'herald.json');

/** The only metric the assets may use that Herald does not export: Prometheus's own. */
const FOREIGN_METRICS_ALLOWED = new Set(['up']);
/**
 * Histograms that are snapshots of the node at each scrape (docs/metrics.md): their
 * buckets go up and down, so rate()/increase() over them is meaningless.
 */
const SNAPSHOT_HISTOGRAMS = ['herald_session_queue_depth_events', 'herald_mailbox_depth_messages'];
const RATE_FUNCTIONS = new Set(['rate', 'irate', 'increase']);

// ---------------------------------------------------------------------------
// promtool

function promtool(args) {
  const r = spawnSync(PROMTOOL, args, { cwd: REPO, encoding: 'utf8', timeout: PROMTOOL_BOUND_MS });
  if (r.error) {
    const hint = r.error.code === 'ENOENT' ? ' (install it: tools/install-deps.sh --metrics, or set PROMTOOL)' : '';
    throw new Error(`cannot run ${PROMTOOL} ${args.join(' ')}: ${r.error.message}${hint}`);
  }
  return { code: r.status, signal: r.signal, out: `${r.stdout}${r.stderr}` };
}

// ---------------------------------------------------------------------------
// A small PromQL scanner: enough to find every metric selector of an expression, its
// label matchers, the function it is the argument of, and the functions called.
// Strings, label matchers {…} and ranges […] are read as units, so label values,
// regexes and Grafana variables inside them are never taken for names.

const AGGREGATIONS = new Set([
  'sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile',
]);
const FUNCTIONS = new Set([
  'abs', 'absent', 'absent_over_time', 'acos', 'acosh', 'asin', 'asinh', 'atan', 'atanh', 'avg_over_time', 'ceil',
  'changes', 'clamp', 'clamp_max', 'clamp_min', 'cos', 'cosh', 'count_over_time', 'day_of_month', 'day_of_week',
  'day_of_year', 'days_in_month', 'deg', 'delta', 'deriv', 'exp', 'floor', 'histogram_count', 'histogram_fraction',
  'histogram_quantile', 'histogram_sum', 'holt_winters', 'hour', 'idelta', 'increase', 'irate', 'label_join',
  'label_replace', 'last_over_time', 'ln', 'log10', 'log2', 'max_over_time', 'min_over_time', 'minute', 'month', 'pi',
  'predict_linear', 'present_over_time', 'quantile_over_time', 'rad', 'rate', 'resets', 'round', 'scalar', 'sgn',
  'sin', 'sinh', 'sort', 'sort_desc', 'sqrt', 'stddev_over_time', 'stdvar_over_time', 'sum_over_time', 'tan', 'tanh',
  'time', 'timestamp', 'vector', 'year',
]);
const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'atan2', 'inf', 'nan']);

function lex(expr) {
  const tokens = [];
  let i = 0;
  const readQuoted = (start) => {
    const q = expr[start];
    let j = start + 1;
    while (j < expr.length && expr[j] !== q) j += expr[j] === '\\' && q !== '`' ? 2 : 1;
    if (j >= expr.length) throw new Error(`unterminated string at ${start}`);
    return j + 1;
  };
  const readBlock = (open, close) => {
    let depth = 0;
    let j = i;
    while (j < expr.length) {
      const c = expr[j];
      if (c === '"' || c === "'" || c === '`') {
        j = readQuoted(j);
        continue;
      }
      if (c === open) depth++;
      else if (c === close && --depth === 0) return j + 1;
      j++;
    }
    throw new Error(`unbalanced ${open} at ${i}`);
  };
  while (i < expr.length) {
    const c = expr[i];
    const rest = expr.slice(i);
    let m;
    if (/\s/.test(c)) i++;
    else if (c === '#') i = expr.indexOf('\n', i) < 0 ? expr.length : expr.indexOf('\n', i);
    else if (c === '"' || c === "'" || c === '`') {
      const end = readQuoted(i);
      tokens.push({ type: 'string', value: expr.slice(i, end) });
      i = end;
    } else if (c === '{') {
      const end = readBlock('{', '}');
      tokens.push({ type: 'braces', value: expr.slice(i + 1, end - 1) });
      i = end;
    } else if (c === '[') {
      const end = readBlock('[', ']');
      tokens.push({ type: 'range', value: expr.slice(i, end) });
      i = end;
    } else if ((m = /^\$(?:\{[^}]*\}|\w+)/.exec(rest))) {
      tokens.push({ type: 'variable', value: m[0] });
      i += m[0].length;
    } else if ((m = /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(rest))) {
      tokens.push({ type: 'ident', value: m[0] });
      i += m[0].length;
    } else if ((m = /^(?:0x[0-9a-fA-F]+|[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?(?:(?:ms|[smhdwy])(?:[0-9]+(?:ms|[smhdwy]))*)?)/.exec(rest))) {
      tokens.push({ type: 'number', value: m[0] });
      i += m[0].length;
    } else {
      tokens.push({ type: c === '(' || c === ')' ? c : 'op', value: c });
      i++;
    }
  }
  return tokens;
}

/** Index of the ')' matching the '(' at tokens[k]. */
function matchingParen(tokens, k) {
  if (tokens[k]?.type !== '(') throw new Error(`expected ( after ${tokens[k - 1]?.value}`);
  let depth = 0;
  for (let j = k; j < tokens.length; j++) {
    if (tokens[j].type === '(') depth++;
    else if (tokens[j].type === ')' && --depth === 0) return j;
  }
  throw new Error('unbalanced (');
}

/**
 * Returns {selectors: [{name, matchers, within}], calls: [name], problems: [text]}:
 * `name` a metric name (null for a bare {…}), `matchers` the raw text inside its
 * braces, `within` the innermost function or aggregation it is an argument of.
 */
function scanPromQL(expr) {
  const selectors = [];
  const calls = [];
  const problems = [];
  let tokens;
  try {
    tokens = lex(expr);
  } catch (err) {
    return { selectors, calls, problems: [`cannot scan: ${err.message}`] };
  }
  const stack = [];
  const within = () => [...stack].reverse().find((f) => f !== null) ?? null;
  try {
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i];
      if (t.type === 'ident') {
        const word = t.value.toLowerCase();
        if (GROUPING.has(word)) {
          if (tokens[i + 1]?.type === '(') i = matchingParen(tokens, i + 1); // the label list
          continue;
        }
        if (KEYWORDS.has(word)) continue;
        let j = i + 1;
        if (AGGREGATIONS.has(t.value) && tokens[j]?.type === 'ident' && /^(by|without)$/i.test(tokens[j].value))
          j = matchingParen(tokens, j + 1) + 1;
        if (tokens[j]?.type === '(') {
          calls.push(t.value);
          if (!FUNCTIONS.has(t.value) && !AGGREGATIONS.has(t.value)) problems.push(`unknown function ${t.value}()`);
          stack.push(t.value);
          i = j;
          continue;
        }
        const braces = tokens[i + 1]?.type === 'braces' ? tokens[i + 1].value : '';
        if (braces) i++;
        selectors.push({ name: t.value, matchers: braces, within: within() });
      } else if (t.type === 'braces') {
        selectors.push({ name: null, matchers: t.value, within: within() });
        problems.push(`selector without a metric name: {${t.value}}`);
      } else if (t.type === '(') stack.push(null);
      else if (t.type === ')') stack.pop();
    }
  } catch (err) {
    problems.push(`cannot scan: ${err.message}`);
  }
  return { selectors, calls, problems };
}

// ---------------------------------------------------------------------------
// The assets

function loadDashboard() {
  const text = fs.readFileSync(DASHBOARD, 'utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${DASHBOARD} is not valid JSON: ${err.message}`);
  }
}

/** Every panel, rows included, with the panels nested in collapsed rows. */
function allPanels(dashboard) {
  const out = [];
  const walk = (list) => {
    for (const p of list ?? []) {
      out.push(p);
      if (Array.isArray(p.panels)) walk(p.panels);
    }
  };
  walk(dashboard.panels);
  return out;
}

/** [{where, expr}] for every target of every panel. */
function dashboardQueries(dashboard) {
  const out = [];
  for (const p of allPanels(dashboard)) {
    if (p.type === 'row') continue;
    for (const t of p.targets ?? [])
      out.push({ where: `dashboard panel "${p.title}" (id ${p.id}, query ${t.refId})`, panel: p, target: t, expr: t.expr });
  }
  return out;
}

/**
 * [{rule, expr}] of alerts.yml, read line by line (no YAML library in the project):
 * `expr:` as a plain, quoted or block (| or >) scalar; any other form is an error,
 * and the count is checked against promtool's.
 */
function ruleQueries(text = fs.readFileSync(ALERTS, 'utf8')) {
  const lines = text.split('\n');
  const out = [];
  let rule = null;
  let rules = 0;
  for (let i = 0; i < lines.length; i++) {
    const named = /^\s*-\s+(alert|record):\s*(\S+)\s*$/.exec(lines[i]);
    if (named) {
      rule = named[2];
      rules++;
      continue;
    }
    const m = /^(\s*)expr:\s*(.*?)\s*$/.exec(lines[i]);
    if (!m) continue;
    const indent = m[1].length;
    const value = m[2];
    let expr;
    if (/^[|>][+-]?$/.test(value)) {
      const body = [];
      while (i + 1 < lines.length && (lines[i + 1].trim() === '' || /^\s*/.exec(lines[i + 1])[0].length > indent))
        body.push(lines[++i]);
      expr = body.join('\n').trim();
    } else if (value.startsWith('"')) expr = JSON.parse(value);
    else if (value.startsWith("'")) expr = value.slice(1, -1).replace(/''/g, "'");
    else if (value !== '' && !/^[&*!]/.test(value)) expr = value.replace(/\s+#.*$/, '');
    else throw new Error(`${ALERTS}:${i + 1}: expr in a form this test does not read: ${lines[i]}`);
    out.push({ where: `alert rule ${rule} (${path.basename(ALERTS)}:${i + 1})`, rule, expr });
  }
  assert.equal(out.length, rules, `${ALERTS}: ${rules} rules but ${out.length} expr lines read`);
  return out;
}

/** Replaces Grafana's variables by values Prometheus accepts. */
function grafanaToPromQL(expr) {
  return expr
    .replace(/\$(?:\{__(?:rate_interval|interval|range)\}|__(?:rate_interval|interval|range)\b)/g, '1m')
    .replace(/\$(?:\{(?:job|instance)\}|(?:job|instance)\b)/g, '.+');
}

// ---------------------------------------------------------------------------

describe('metrics/alerts.yml', () => {
  test('promtool check rules passes, and this test reads every rule expression', () => {
    const r = promtool(['check', 'rules', ALERTS]);
    assert.equal(r.code, 0, `promtool check rules ${ALERTS} failed:\n${r.out}`);
    const found = /SUCCESS: (\d+) rules found/.exec(r.out);
    assert.ok(found, `unexpected promtool output:\n${r.out}`);
    assert.equal(ruleQueries().length, Number(found[1]), 'rule expressions read here ≠ rules promtool found');
  });

  test('promtool test rules (metrics/alerts.test.yml) passes', () => {
    const r = promtool(['test', 'rules', ALERT_TESTS]);
    assert.equal(r.code, 0, `promtool test rules ${ALERT_TESTS} failed:\n${r.out}`);
  });

  test('the required alerts exist, each with severity, summary, description and runbook', () => {
    const text = fs.readFileSync(ALERTS, 'utf8');
    const blocks = text.split(/^(?=[ \t]*-[ \t]+alert:)/m).slice(1);
    const names = blocks.map((b) => /alert:\s*(\S+)/.exec(b)[1]);
    for (const required of ['HeraldDeliveryLatencyHigh', 'HeraldOverflowDrops', 'HeraldSlowConsumersSurging', 'HeraldNodeNotReady', 'HeraldScrapeDown'])
      assert.ok(names.includes(required), `alert ${required} missing from ${ALERTS} (has ${names.join(', ')})`);
    for (const [k, b] of blocks.entries()) {
      for (const field of ['severity', 'summary', 'description', 'runbook'])
        assert.match(b, new RegExp(`^\\s+${field}:\\s*\\S`, 'm'), `alert ${names[k]} has no ${field}`);
      assert.match(b, /^\s+severity:\s*(critical|warning|info)\s*$/m, `alert ${names[k]}: severity must be critical, warning or info`);
      // absent() has no series, so no labels to name.
      if (!/expr:.*\babsent\(/.test(b))
        assert.match(b, /\{\{\s*\$labels\.(instance|job)\s*\}\}/, `alert ${names[k]}: annotations should name the instance or job`);
    }
  });
});

describe('metrics/grafana/herald.json', () => {
  test('is a dashboard with datasource, job and instance variables', () => {
    const d = loadDashboard();
    assert.equal(typeof d.title, 'string');
    assert.equal(typeof d.uid, 'string');
    assert.ok(d.schemaVersion >= 36, `schemaVersion ${d.schemaVersion}: expected a current Grafana dashboard`);
    const vars = Object.fromEntries((d.templating?.list ?? []).map((v) => [v.name, v]));
    assert.equal(vars.datasource?.type, 'datasource', 'a variable "datasource" of type datasource');
    assert.equal(vars.datasource.query, 'prometheus');
    for (const name of ['job', 'instance']) {
      const v = vars[name];
      assert.equal(v?.type, 'query', `a query variable "${name}"`);
      assert.match(v.datasource?.uid ?? '', /^\$\{?datasource\}?$/, `variable ${name} must query the \${datasource}`);
      const q = typeof v.query === 'string' ? v.query : v.query?.query;
      assert.match(q, new RegExp(`^label_values\\(herald_build_info.*,\\s*${name}\\)$`), `variable ${name}: ${q}`);
    }
  });

  test('panel ids are unique, panels do not overlap, every panel queries ${datasource}', () => {
    const d = loadDashboard();
    const panels = allPanels(d);
    const ids = panels.map((p) => p.id);
    const dup = ids.filter((id, k) => ids.indexOf(id) !== k);
    assert.deepEqual(dup, [], `duplicate panel ids: ${dup.join(', ')}`);
    assert.ok(ids.every((id) => Number.isInteger(id)), 'every panel has an integer id');

    const placed = panels.filter((p) => p.gridPos);
    for (const [k, a] of placed.entries()) {
      const g = a.gridPos;
      assert.ok(g.x >= 0 && g.w > 0 && g.x + g.w <= 24 && g.h > 0, `panel "${a.title}": gridPos ${JSON.stringify(g)}`);
      for (const b of placed.slice(k + 1)) {
        const h = b.gridPos;
        const overlap = g.x < h.x + h.w && h.x < g.x + g.w && g.y < h.y + h.h && h.y < g.y + g.h;
        assert.ok(!overlap, `panels "${a.title}" and "${b.title}" overlap`);
      }
    }

    const content = panels.filter((p) => p.type !== 'row');
    assert.ok(content.length >= 20, `only ${content.length} panels`);
    const isVar = (ds) => ds && typeof ds === 'object' && /^\$\{?datasource\}?$/.test(ds.uid ?? '');
    for (const p of content) {
      assert.ok(isVar(p.datasource), `panel "${p.title}": datasource ${JSON.stringify(p.datasource)} is not \${datasource}`);
      assert.ok(Array.isArray(p.targets) && p.targets.length > 0, `panel "${p.title}" has no targets`);
      for (const t of p.targets) {
        assert.ok(typeof t.expr === 'string' && t.expr.trim() !== '', `panel "${p.title}" query ${t.refId}: no expr`);
        if (t.datasource !== undefined) assert.ok(isVar(t.datasource), `panel "${p.title}" query ${t.refId}: datasource not \${datasource}`);
      }
      const refIds = p.targets.map((t) => t.refId);
      assert.equal(new Set(refIds).size, refIds.length, `panel "${p.title}": duplicate refIds`);
      if (['timeseries', 'stat'].includes(p.type))
        assert.ok(p.fieldConfig?.defaults?.unit, `panel "${p.title}" has no unit`);
    }
    const rows = panels.filter((p) => p.type === 'row').map((p) => p.title);
    for (const r of ['Overview', 'Traffic', 'Latency', 'Queues', 'Loss and pressure', 'Process'])
      assert.ok(rows.includes(r), `row "${r}" missing (rows: ${rows.join(', ')})`);
  });

  test('every selector filters by $job and $instance', () => {
    const problems = [];
    for (const q of dashboardQueries(loadDashboard())) {
      const scan = scanPromQL(q.expr);
      problems.push(...scan.problems.map((p) => `${q.where}: ${p}`));
      if (scan.selectors.length === 0) problems.push(`${q.where}: no metric selector in ${q.expr}`);
      for (const s of scan.selectors) {
        if (!/\bjob\s*=~\s*"\$job"/.test(s.matchers) || !/\binstance\s*=~\s*"\$instance"/.test(s.matchers))
          problems.push(`${q.where}: ${s.name}{${s.matchers}} lacks job=~"$job", instance=~"$instance"`);
      }
    }
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('every query parses as PromQL (promtool, Grafana variables substituted)', () => {
    const queries = dashboardQueries(loadDashboard());
    const byRecord = new Map();
    let yaml = 'groups:\n  - name: dashboard\n    rules:\n';
    for (const q of queries) {
      const record = `dashboard_panel_${q.panel.id}_${q.target.refId}`;
      byRecord.set(record, q.where);
      yaml += `      - record: ${record}\n        expr: ${JSON.stringify(grafanaToPromQL(q.expr))}\n`;
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-dash-'));
    try {
      const file = path.join(dir, 'dashboard-queries.yml');
      fs.writeFileSync(file, yaml);
      const r = promtool(['check', 'rules', file]);
      const named = [...new Set([...r.out.matchAll(/dashboard_panel_\d+_[A-Z]+/g)].map((m) => byRecord.get(m[0])))];
      assert.equal(r.code, 0, `a dashboard query does not parse${named.length ? ` (${named.join('; ')})` : ''}:\n${r.out}`);
      assert.match(r.out, new RegExp(`SUCCESS: ${queries.length} rules found`), r.out);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** The bound address in a node's "cluster listening" log line. */
function clusterAddress(node) {
  for (const line of node.server.lines) {
    try {
      const entry = JSON.parse(line);
      if (entry.msg === 'cluster listening') return entry.addr;
    } catch {
      /* not a log line */
    }
  }
  throw new Error(`no "cluster listening" line:\n${node.server.logs()}`);
}

describe('the dashboard and the alert rules against a live scrape', () => {
  // Two peered nodes, so that the per-peer cluster series exist too.
  const [herald] = useHeralds(2, (i, nodes) => [
    '--node', `assets${i}`, '--cluster-listen', '127.0.0.1:0',
    ...(i === 0 ? [] : ['--peers', clusterAddress(nodes[0])]),
  ]);
  let exported; // sample names in the scrape
  let types; // metric family name → type

  before(async () => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const m = await request(herald, { path: '/metrics' });
      if (/^herald_cluster_nodes 2$/m.test(m.text)) break;
      assert.ok(Date.now() < deadline, `the two nodes never saw each other:\n${herald.server.logs()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // A little traffic, so that every series the assets use exists (the per-path and
    // per-status request counters appear with their first request).
    const group = uniq('g');
    const session = await enter(herald.url, uniq('a'), [group]);
    await call(herald.url, 'speak', { session, group, data: { hello: 1 } });
    await call(herald.url, 'send', { session, to: 'nobody-here', data: 1 });
    const polled = await listen(herald.url, session, 0, 0);
    assert.equal(polled.status, 200, polled.text);
    assert.ok(polled.body.events.length > 0, `listen returned no events: ${polled.text}`);
    await listen(herald.url, session, polled.body.cursor, 0);
    const missing = await listen(herald.url, 'no-such-session', 0, 0);
    assert.equal(missing.status, 404, missing.text);

    const r = await request(herald, { path: '/metrics' });
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers['content-type'] ?? '', /^text\/plain/);
    exported = new Set();
    types = new Map();
    for (const line of r.text.split('\n')) {
      const type = /^# TYPE (\S+) (\S+)/.exec(line);
      if (type) types.set(type[1], type[2]);
      if (line === '' || line.startsWith('#')) continue;
      const name = /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(line);
      assert.ok(name, `unparsable exposition line: ${line}`);
      exported.add(name[0]);
    }
    assert.ok(exported.has('herald_build_info'), `no herald_build_info in the scrape:\n${r.text.slice(0, 2000)}`);
  });

  function allQueries() {
    return [...dashboardQueries(loadDashboard()), ...ruleQueries()];
  }

  test('every metric named in the dashboard and the alert rules is exported', () => {
    const missing = [];
    let checked = 0;
    for (const q of allQueries()) {
      const scan = scanPromQL(q.expr);
      missing.push(...scan.problems.map((p) => `${q.where}: ${p}`));
      for (const s of scan.selectors) {
        if (s.name === null) continue;
        checked++;
        if (/^herald_/.test(s.name)) {
          if (!exported.has(s.name)) missing.push(`${q.where} uses ${s.name}, which herald does not export`);
        } else if (!FOREIGN_METRICS_ALLOWED.has(s.name)) {
          missing.push(`${q.where} uses ${s.name}, which is not a Herald metric (allowed besides herald_*: ${[...FOREIGN_METRICS_ALLOWED].join(', ')})`);
        }
        if (/__name__/.test(s.matchers)) missing.push(`${q.where}: matching on __name__ cannot be checked`);
      }
    }
    assert.ok(checked > 50, `only ${checked} selectors found: is the scanner broken?`);
    assert.deepEqual(missing, [], `\n${missing.join('\n')}\nexported: ${[...exported].sort().join(' ')}`);
  });

  test('counters and cumulative histograms are rated, snapshot histograms are not', () => {
    const snapshot = new Set(SNAPSHOT_HISTOGRAMS.flatMap((h) => [`${h}_bucket`, `${h}_sum`, `${h}_count`]));
    for (const h of SNAPSHOT_HISTOGRAMS) assert.equal(types.get(h), 'histogram', `${h} should be a histogram`);
    const cumulative = new Set();
    for (const [name, type] of types) {
      if (type === 'counter') cumulative.add(name);
      if (type === 'histogram' && !SNAPSHOT_HISTOGRAMS.includes(name))
        for (const suffix of ['_bucket', '_sum', '_count']) cumulative.add(name + suffix);
    }
    const problems = [];
    for (const q of allQueries()) {
      for (const s of scanPromQL(q.expr).selectors) {
        const rated = RATE_FUNCTIONS.has(s.within);
        if (cumulative.has(s.name) && !rated) problems.push(`${q.where}: ${s.name} is cumulative: use rate() or increase()`);
        if (snapshot.has(s.name) && rated) problems.push(`${q.where}: ${s.name} is a snapshot histogram: no ${s.within}()`);
      }
    }
    assert.deepEqual(problems, [], problems.join('\n'));
  });
});

// The scanner itself: a typo must not slip through because the scanner skipped it.
describe('PromQL scanner', () => {
  test('finds metric names, matchers and the enclosing function, and nothing else', () => {
    const s = scanPromQL(
      'histogram_quantile(0.99, sum by (instance, le) (rate(herald_x_bucket{job=~"$job", path="herald_no"}[$__rate_interval] offset 5m)))' +
        ' / on (instance) group_left(node) herald_build_info and sum(label_replace(up, "c", "${1}", "s", "(.)")) without (c) > bool 0',
    );
    assert.deepEqual(s.problems, []);
    assert.deepEqual(
      s.selectors.map((x) => [x.name, x.matchers, x.within]),
      [
        ['herald_x_bucket', 'job=~"$job", path="herald_no"', 'rate'],
        ['herald_build_info', '', null],
        ['up', '', 'label_replace'],
      ],
    );
    assert.deepEqual(s.calls, ['histogram_quantile', 'sum', 'rate', 'sum', 'label_replace']);
    assert.deepEqual(scanPromQL('rat(herald_y[5m])').problems, ['unknown function rat()']);
    assert.deepEqual(scanPromQL('{job="x"}').problems, ['selector without a metric name: {job="x"}']);
  });
});
