// A small network of "pods" for tests that need real addresses and real DNS, without a
// container runtime: one Linux network namespace per pod, all on one bridge that lives in a
// namespace of its own (the "switch"), and one veth from the test's own namespace into that
// bridge so that the test process (node, in the root namespace) reaches every pod directly.
//
//   const lab = await Lab.create();            // 10.213.N.0/24, N free on this machine
//   const pod = await lab.addPod('herald-0');  // pod.ip, pod.netns
//   spawn('ip', ['netns', 'exec', pod.netns, ...command])
//   await lab.destroy();                       // every namespace and link it made
//
// Needs root (ip netns add). Every name carries the lab's id, so concurrent runs and other
// test suites never meet (a subnet or id some interface, route or namespace already uses is
// skipped); destroy() removes exactly what create() and addPod() made.
// Traffic stays inside these namespaces and the one veth: the subnet is checked to be unused.

import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Runs `ip ARGS…`, rejecting with its stderr on failure. */
async function ip(...args) {
  try {
    const { stdout } = await run('ip', args, { timeout: 10_000 });
    return stdout;
  } catch (e) {
    throw new Error(`ip ${args.join(' ')}: ${e.stderr || e.message}`);
  }
}

/** Runs `ip netns exec NS ip ARGS…`. */
function ipIn(netns, ...args) {
  return ip('netns', 'exec', netns, 'ip', ...args);
}

/** The third octets of 10.213.X.0/24 that some interface or route of this machine already uses. */
async function usedThirdOctets() {
  const used = new Set();
  const text = (await ip('-4', '-o', 'addr', 'show')) + (await ip('-4', 'route', 'show'));
  for (const m of text.matchAll(/\b10\.213\.(\d+)\./g)) used.add(Number(m[1]));
  const names = await ip('netns', 'list');
  for (const m of names.matchAll(/\bhl(\d+)-/g)) used.add(Number(m[1]));
  return used;
}

export class Lab {
  /** @private */
  constructor(octet) {
    this.octet = octet;
    this.id = `hl${octet}`;
    this.subnet = `10.213.${octet}`;
    this.switchNetns = `${this.id}-sw`;
    this.bridge = 'br0';
    this.hostLink = `${this.id}h`;
    this.hostIp = `${this.subnet}.1`;
    this.switchIp = `${this.subnet}.2`;
    this.pods = [];
    this.netnsMade = [];
    this.nextHost = 10;
  }

  /** Makes the switch namespace, its bridge and the test's veth into it. */
  static async create() {
    const used = await usedThirdOctets();
    const free = [];
    for (let x = 1; x < 250; x++) if (!used.has(x)) free.push(x);
    if (free.length === 0) throw new Error('no free 10.213.X.0/24 subnet for a test lab');
    const lab = new Lab(free[process.pid % free.length]);
    try {
      await lab.makeSwitch();
    } catch (e) {
      await lab.destroy();
      throw e;
    }
    return lab;
  }

  /** @private */
  async makeSwitch() {
    const sw = this.switchNetns;
    await ip('netns', 'add', sw);
    this.netnsMade.push(sw);
    await ipIn(sw, 'link', 'set', 'lo', 'up');
    // A fixed (locally administered) address: a bridge left to pick its own takes the lowest
    // of its ports' and changes whenever a pod with a lower one joins, and then the pods'
    // ARP entries for the switch's address (the cluster DNS) point at a MAC that nothing
    // answers for until they expire, seconds or for good.
    const mac = `02:00:0a:d5:${this.octet.toString(16).padStart(2, '0')}:02`;
    await ipIn(sw, 'link', 'add', this.bridge, 'address', mac, 'type', 'bridge');
    await ipIn(sw, 'addr', 'add', `${this.switchIp}/24`, 'dev', this.bridge);
    await ipIn(sw, 'link', 'set', this.bridge, 'up');
    // The test's own end stays in the root namespace; its peer is a bridge port.
    await ip('link', 'add', this.hostLink, 'type', 'veth', 'peer', 'name', `${this.id}hp`, 'netns', sw);
    this.hostLinkMade = true;
    await ipIn(sw, 'link', 'set', `${this.id}hp`, 'master', this.bridge, 'up');
    await ip('addr', 'add', `${this.hostIp}/24`, 'dev', this.hostLink);
    await ip('link', 'set', this.hostLink, 'up');
  }

  /**
   * A pod: a namespace with loopback and one address on the bridge. `resolvConf`, when given,
   * becomes the pod's /etc/resolv.conf under `ip netns exec` (through /etc/netns/NAME/).
   */
  async addPod(name, { resolvConf } = {}) {
    const netns = `${this.id}-${name}`;
    const address = `${this.subnet}.${this.nextHost++}`;
    await ip('netns', 'add', netns);
    this.netnsMade.push(netns);
    await ipIn(netns, 'link', 'set', 'lo', 'up');
    const port = `p${this.nextHost}`;
    await ip('link', 'add', 'eth0', 'netns', netns, 'type', 'veth', 'peer', 'name', port, 'netns', this.switchNetns);
    await ipIn(this.switchNetns, 'link', 'set', port, 'master', this.bridge, 'up');
    await ipIn(netns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
    await ipIn(netns, 'link', 'set', 'eth0', 'up');
    if (resolvConf !== undefined) {
      await mkdir(`/etc/netns/${netns}`, { recursive: true });
      await writeFile(`/etc/netns/${netns}/resolv.conf`, resolvConf);
    }
    const pod = { name, netns, ip: address };
    this.pods.push(pod);
    return pod;
  }

  /** The argv prefix that runs a command inside `netns` (a pod's or the switch's). */
  static exec(netns) {
    return ['ip', 'netns', 'exec', netns];
  }

  /** Removes every namespace, /etc/netns entry and link this lab made. Never throws. */
  async destroy() {
    for (const netns of this.netnsMade.reverse()) {
      await ip('netns', 'del', netns).catch(() => {});
      await rm(`/etc/netns/${netns}`, { recursive: true, force: true }).catch(() => {});
    }
    this.netnsMade = [];
    // Deleting the switch namespace deletes the veth's peer, and with it the root end.
    if (this.hostLinkMade) await ip('link', 'del', this.hostLink).catch(() => {});
    this.hostLinkMade = false;
  }
}
