// What a kubelet would run for pod <ordinal> of a rendered StatefulSet: the herald
// container's args with $(VAR) references expanded from its env, its env with the downward
// API (metadata.name, status.podIP) and secret references resolved, the files its volume
// mounts put under /etc (ConfigMap keys), and the lifecycle numbers (preStop sleep, grace
// period, readiness probe). The test runs exactly that, with the host's build/herald in place
// of the image's entrypoint.

/** The herald container's spec of a StatefulSet, and the objects it needs. */
export function podSpecOf(objects, ordinal, { podIp, secrets = {} }) {
  const sts = objects.find((o) => o.kind === 'StatefulSet');
  const podName = `${sts.metadata.name}-${ordinal}`;
  const spec = sts.spec.template.spec;
  const container = spec.containers.find((c) => c.name === 'herald');

  const env = {};
  for (const e of container.env ?? []) {
    if ('value' in e) env[e.name] = expand(String(e.value), env);
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[e.name] = podName;
    else if (e.valueFrom?.fieldRef?.fieldPath === 'status.podIP') env[e.name] = podIp;
    else if (e.valueFrom?.secretKeyRef) {
      const { name, key } = e.valueFrom.secretKeyRef;
      if (secrets[name]?.[key] === undefined) throw new Error(`the test provides no Secret ${name} key ${key}`);
      env[e.name] = secrets[name][key];
    } else throw new Error(`env ${e.name}: ${JSON.stringify(e.valueFrom)} is not simulated`);
  }
  const args = (container.args ?? []).map((a) => expand(a, env));
  if (container.command) throw new Error('the chart sets no command: the image entrypoint runs herald');

  // ConfigMap volumes mounted under /etc, as files.
  const etcFiles = {};
  for (const m of container.volumeMounts ?? []) {
    const volume = spec.volumes.find((v) => v.name === m.name);
    if (!volume.configMap) continue;
    const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === volume.configMap.name);
    if (!m.mountPath.startsWith('/etc/')) throw new Error(`mount ${m.mountPath} is outside /etc`);
    const rel = m.mountPath.slice('/etc/'.length);
    if (m.subPath) etcFiles[rel] = cm.data[m.subPath];
    else for (const [k, v] of Object.entries(cm.data)) etcFiles[`${rel}/${k}`] = v;
  }

  const preStop = container.lifecycle?.preStop;
  return {
    podName,
    args,
    env,
    etcFiles,
    preStopSeconds: preStop?.sleep?.seconds ?? Number(preStop?.exec?.command?.[1] ?? 0),
    graceSeconds: spec.terminationGracePeriodSeconds,
    readiness: container.readinessProbe,
    clientPort: container.ports.find((p) => p.name === 'http').containerPort,
    headlessService: sts.spec.serviceName,
  };
}

/** $(NAME) references, expanded as the kubelet does (unknown ones stay as written). */
function expand(text, env) {
  return text.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name) => (name in env ? env[name] : whole));
}
