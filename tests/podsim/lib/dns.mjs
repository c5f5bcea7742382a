// Cluster DNS for a Lab: dnsmasq in the lab's switch namespace, answering only for the names
// the test gives it (a headless Service's name with one A record per pod, and each pod's own
// name), from a hosts file it rereads on SIGHUP. Nothing is forwarded anywhere.
//
//   const dns = await ClusterDns.start(lab);
//   await dns.set('chat-herald-headless.realtime.svc.cluster.local', ['10.213.7.10', …]);
//   pod resolv.conf: dns.resolvConf('realtime.svc.cluster.local')
//   await dns.stop();

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bounded } from '../../blackbox/lib/bounded.mjs';
import { Lab } from './netns.mjs';

export class ClusterDns {
  /** @private */
  constructor(lab, dir, proc) {
    this.lab = lab;
    this.dir = dir;
    this.proc = proc;
    this.records = new Map();
    this.hostsFile = path.join(dir, 'hosts');
  }

  /** Starts dnsmasq on the switch's address, port 53, with an empty hosts file. */
  static async start(lab) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-dns-'));
    const hostsFile = path.join(dir, 'hosts');
    writeFileSync(hostsFile, '');
    const args = [
      '--keep-in-foreground',
      '--no-daemon',
      '--log-facility=-',
      '--no-resolv', // answer from the hosts file only, forward nothing
      '--no-hosts',
      '--no-poll',
      `--addn-hosts=${hostsFile}`,
      `--listen-address=${lab.switchIp}`,
      '--bind-interfaces',
      '--port=53',
      '--local-ttl=1', // like a headless Service's short TTL: re-resolution sees changes
      '--neg-ttl=1',
      '--cache-size=0',
      `--pid-file=${path.join(dir, 'pid')}`,
      '--user=root',
    ];
    const proc = spawn(...toSpawn([...Lab.exec(lab.switchNetns), 'dnsmasq', ...args]));
    let log = '';
    proc.stderr.on('data', (d) => (log += d));
    const started = new Promise((resolve, reject) => {
      proc.stderr.on('data', () => {
        if (/started, version/.test(log)) resolve();
      });
      proc.on('exit', (code) => reject(new Error(`dnsmasq exited ${code}: ${log}`)));
    });
    const dns = new ClusterDns(lab, dir, proc);
    dns.exited = new Promise((resolve) => proc.on('exit', resolve));
    try {
      await bounded(started, 10_000, 'dnsmasq to start');
    } catch (e) {
      await dns.stop();
      throw e;
    }
    return dns;
  }

  /** The resolv.conf of a pod in namespace `searchDomain` (e.g. realtime.svc.cluster.local). */
  resolvConf(searchDomain) {
    return `nameserver ${this.lab.switchIp}\nsearch ${searchDomain}\noptions ndots:5\n`;
  }

  /** Sets the A records of `name` (replacing any) and makes dnsmasq reread them. */
  async set(name, addresses) {
    this.records.set(name, [...addresses]);
    const lines = [];
    for (const [n, list] of this.records) for (const a of list) lines.push(`${a} ${n}`);
    writeFileSync(this.hostsFile, lines.join('\n') + '\n');
    this.proc.kill('SIGHUP');
  }

  async stop() {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGTERM');
      await bounded(this.exited, 5_000, 'dnsmasq to exit').catch(() => this.proc.kill('SIGKILL'));
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function toSpawn(argv) {
  return [argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] }];
}
