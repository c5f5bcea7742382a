// One "pod": a process started in a pod's network namespace as a kubelet would start the
// container: in a PID namespace of its own (so that the container's entrypoint is PID 1 and
// gets the SIGTERM), optionally inside an image's root filesystem mounted read-only, as a
// numeric user, with exactly the environment given.
//
//   const p = await startPod({ netns, argv: ['/usr/bin/tini', '--', '/usr/bin/herald', …],
//                              env: { HERALD_NODE: 'herald-0' }, rootfs, user: '10001:10001' });
//   etcFiles {'herald/config.json': …} puts files under /etc as ConfigMap mounts would: bound
//   over the image's /etc/herald, or (without rootfs: the host's binaries) laid over /etc
//   await p.listening;          // herald's "listening" log line (its JSON log on stderr)
//   p.terminate();              // SIGTERM to the pod's PID 1, as the kubelet sends it
//   await p.exited;             // {code, signal, ms}: ms from SIGTERM to exit
//
// Everything the pod mounts (the read-only root, /proc, /dev) lives in a private mount
// namespace and goes away with its last process; the directory it is mounted on is removed
// by stop().

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

// Runs as PID 1 of the new PID namespace, before the image's entrypoint replaces it (exec).
// The pod's files (its ConfigMap mounts) are bound, read-only, over the image's directories
// under /etc, as volume mounts are: `dirs` names them (herald for /etc/herald).
const ENTER_ROOTFS = `set -eu
root="$1"; image="$2"; user="$3"; files="$4"; dirs="$5"; shift 5
mount --bind "$image" "$root"
mount -o remount,bind,ro "$root"
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
for d in $dirs; do
  mount --bind "$files/$d" "$root/etc/$d"
  mount -o remount,bind,ro "$root/etc/$d"
done
exec chroot --userspec="$user" "$root" "$@"`;

// Without an image: the host's root, with the pod's files (its ConfigMap mounts, its
// resolv.conf) laid over /etc by an overlay that only this mount namespace sees.
const NO_ROOTFS = `set -eu
files="$1"; shift
if [ -n "$files" ]; then
  mount -t overlay overlay -o "lowerdir=/etc,upperdir=$files,workdir=$files/../work" /etc
fi
mount -t proc proc /proc
exec "$@"`;

function childrenOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Starts a pod process; see the file's header. `name` tags its log lines. */
export function startPod({ name, netns, argv, env = {}, rootfs, user = '10001:10001', etcFiles = {} }) {
  const mountDir = mkdtempSync(path.join(os.tmpdir(), 'herald-pod-'));
  const files = path.join(mountDir, 'files');
  for (const [rel, content] of Object.entries(etcFiles)) {
    mkdirSync(path.dirname(path.join(files, rel)), { recursive: true });
    writeFileSync(path.join(files, rel), content);
  }
  const haveFiles = Object.keys(etcFiles).length > 0;
  let inner;
  if (rootfs) {
    const root = path.join(mountDir, 'root');
    mkdirSync(root);
    const dirs = [...new Set(Object.keys(etcFiles).map((rel) => rel.split('/')[0]))];
    if (Object.keys(etcFiles).some((rel) => !rel.includes('/'))) throw new Error('with an image, etcFiles go in directories (herald/config.json)');
    inner = ['sh', '-c', ENTER_ROOTFS, 'pod', root, rootfs, user, files, dirs.join(' '), ...argv];
  } else {
    if (haveFiles) mkdirSync(path.join(mountDir, 'work'));
    inner = ['sh', '-c', NO_ROOTFS, 'pod', haveFiles ? files : '', ...argv];
  }
  const command = ['ip', 'netns', 'exec', netns, 'unshare', '--mount', '--pid', '--fork', '--kill-child', '--', ...inner];
  // PATH is the only variable a kubelet adds that a command needs to be found.
  const proc = spawn(command[0], command.slice(1), {
    env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = [];
  // `dir` (the files and mount points) is removed when the process exits.
  const pod = { name, netns, proc, lines, dir: mountDir, exitInfo: null, logs: () => lines.join('\n') };
  let listeningResolve, listeningReject, terminatedAt;
  pod.listening = new Promise((resolve, reject) => {
    listeningResolve = resolve;
    listeningReject = reject;
  });
  pod.listening.catch(() => {});
  pod.waiters = [];

  const consume = (stream, tag) =>
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(`[${name}]${tag} ${line}`);
      let entry;
      try {
        entry = JSON.parse(line);
      } catch {
        return;
      }
      if (entry?.msg === 'listening') listeningResolve(entry);
      for (const w of pod.waiters) if (w.match(entry)) w.resolve(entry);
    });
  consume(proc.stderr, '');
  consume(proc.stdout, '[stdout]');

  pod.exited = new Promise((resolve) => {
    proc.on('exit', (code, signal) => {
      pod.exitInfo = { code, signal, ms: terminatedAt ? Date.now() - terminatedAt : null };
      lines.push(`[${name}] exited code=${code} signal=${signal}`);
      listeningReject(new Error(`pod ${name} exited (code=${code}, signal=${signal}) before listening\n${pod.logs()}`));
      rmSync(mountDir, { recursive: true, force: true });
      resolve(pod.exitInfo);
    });
  });

  /** The host PID of the pod's PID 1 (the entrypoint), once unshare has forked it. */
  pod.pid1 = () => childrenOf(proc.pid)[0];

  /** Resolves with the first JSON log entry for which match(entry) is true, from now on. */
  pod.waitForLog = (match) => new Promise((resolve) => pod.waiters.push({ match, resolve }));

  /** SIGTERM to PID 1, as the kubelet sends it after preStop. Returns false if none runs. */
  pod.terminate = () => {
    const pid = pod.pid1();
    if (pid === undefined || pod.exitInfo) return false;
    terminatedAt = Date.now();
    process.kill(pid, 'SIGTERM');
    return true;
  };

  /** Ends the pod whatever its state (SIGKILL to the whole PID namespace through unshare). */
  pod.kill = async () => {
    if (!pod.exitInfo) proc.kill('SIGKILL');
    await pod.exited;
  };
  return pod;
}
