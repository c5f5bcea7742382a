// --tls-cert / --tls-key (protocol-v1 "Transport security and limits"): --listen serves
// HTTPS and WSS only. Real TLS clients (node:https, ws over TLS) against a certificate
// made here with the openssl command line; plain HTTP to the port gets no HTTP answer.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { after, bounded, describe, runHerald, test, uniq, useHerald } from './lib/herald.mjs';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-tls-'));
const file = (name) => path.join(dir, name);

// A P-256 certificate for 127.0.0.1, and a second key that does not match it.
function makeCertificate() {
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    '-keyout', file('key.pem'), '-out', file('cert.pem'),
  ], { stdio: 'ignore' });
  execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file('other.pem')], { stdio: 'ignore' });
}
makeCertificate();
const ca = fs.readFileSync(file('cert.pem'));

// One HTTPS exchange on a fresh connection, trusting only our certificate.
function httpsRequest(node, { method = 'GET', path: reqPath = '/', body, headers = {} } = {}) {
  return bounded(new Promise((resolve, reject) => {
    const req = https.request({ host: node.host, port: node.port, method, path: reqPath, ca, headers, agent: false }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text, socket: res.socket }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  }), 10_000, `https ${method} ${reqPath}`);
}

const rpcOver = async (node, frame) => {
  const r = await httpsRequest(node, { method: 'POST', path: '/v1/rpc', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(frame) });
  return { ...r, body: JSON.parse(r.text) };
};

describe('--tls-cert and --tls-key', () => {
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const herald = useHerald(['--tls-cert', file('cert.pem'), '--tls-key', file('key.pem')]);

  test('HTTPS answers /healthz and commands, with TLS 1.2 or later', async () => {
    const health = await httpsRequest(herald, { path: '/healthz' });
    assert.equal(health.status, 200);
    assert.match(health.socket.getProtocol(), /^TLSv1\.[23]$/);
    const entered = await rpcOver(herald, { id: 1, method: 'enter', params: { user: uniq('tls'), groups: ['g'] } });
    assert.equal(entered.status, 200, entered.text);
    assert.equal(typeof entered.body.result.session, 'string');
  });

  test('a long-poll over HTTPS receives a message spoken over HTTPS', async () => {
    const group = uniq('g');
    const listener = (await rpcOver(herald, { id: 1, method: 'enter', params: { user: uniq('l'), groups: [group] } })).body.result.session;
    const speaker = (await rpcOver(herald, { id: 1, method: 'enter', params: { user: uniq('s') } })).body.result.session;
    const drained = JSON.parse((await httpsRequest(herald, { path: `/v1/listen?session=${listener}&timeout=0` })).text);
    const waiting = httpsRequest(herald, { path: `/v1/listen?session=${listener}&cursor=${drained.cursor}&timeout=20` });
    await rpcOver(herald, { id: 2, method: 'speak', params: { session: speaker, group, data: 'over tls' } });
    const got = JSON.parse((await waiting).text);
    assert.deepEqual(got.events.map((e) => e.data), ['over tls']);
  });

  test('WSS: enter on the socket and receive its own message', async () => {
    const group = uniq('g');
    const ws = new WebSocket(`wss://${herald.host}:${herald.port}/v1/ws`, ['herald.v1'], { ca });
    try {
      const frames = [];
      let wake;
      ws.on('message', (d) => {
        frames.push(JSON.parse(d.toString()));
        wake?.();
      });
      await bounded(new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); }), 10_000, 'wss open');
      const until = (pred) => bounded(new Promise((resolve) => {
        const check = () => (frames.some(pred) ? resolve(frames.find(pred)) : (wake = check));
        check();
      }), 10_000, 'a frame over wss');
      ws.send(JSON.stringify({ id: 1, method: 'enter', params: { user: uniq('w'), groups: [group] } }));
      const session = (await until((f) => f.id === 1)).result.session;
      ws.send(JSON.stringify({ id: 2, method: 'speak', params: { session, group, data: 'secure' } }));
      const message = await until((f) => f.type === 'message');
      assert.equal(message.data, 'secure');
    } finally {
      ws.terminate();
    }
  });

  test('SSE over HTTPS starts with its session event', async () => {
    const user = uniq('sse');
    const res = await bounded(new Promise((resolve, reject) => {
      const req = https.get({ host: herald.host, port: herald.port, path: `/v1/sse?user=${user}&groups=g`, ca, agent: false }, resolve);
      req.on('error', reject);
    }), 10_000, 'the SSE head');
    try {
      assert.equal(res.statusCode, 200);
      let text = '';
      await bounded(new Promise((resolve) => res.on('data', (d) => {
        text += d;
        if (/event: session\n/.test(text)) resolve();
      })), 10_000, 'the session event');
      assert.match(text, new RegExp(`"user":"${user}"`));
    } finally {
      res.destroy();
    }
  });

  test('plain HTTP to the HTTPS port gets no HTTP answer, and the node stays up', async () => {
    const reply = await bounded(new Promise((resolve) => {
      const socket = net.connect(herald.port, herald.host, () => socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'));
      let data = '';
      socket.on('data', (d) => (data += d.toString('latin1')));
      socket.on('error', () => {});
      socket.on('close', () => resolve(data));
    }), 15_000, 'the server to close a plain-text connection');
    assert.doesNotMatch(reply, /^HTTP\/1\.1 200/);
    assert.equal((await httpsRequest(herald, { path: '/healthz' })).status, 200);
  });

  test('a certificate the client does not trust is refused by the client (real verification)', async () => {
    await assert.rejects(
      new Promise((resolve, reject) => {
        const req = https.get({ host: herald.host, port: herald.port, path: '/healthz', agent: false }, resolve);
        req.on('error', reject);
      }),
      /self[- ]signed|unable to verify|certificate/i,
    );
  });
});

describe('bad TLS settings stop the node at start', () => {
  test('a cert without a key, a missing file, and a key that is not the cert\'s exit 2', async () => {
    const local = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-tls-bad-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=x',
        '-keyout', path.join(local, 'k.pem'), '-out', path.join(local, 'c.pem')], { stdio: 'ignore' });
      execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path.join(local, 'o.pem')], { stdio: 'ignore' });
      const cases = [
        [['--tls-cert', path.join(local, 'c.pem')], /tls-key/],
        [['--tls-cert', '/nonexistent.pem', '--tls-key', path.join(local, 'k.pem')], /--tls-cert/],
        [['--tls-cert', path.join(local, 'c.pem'), '--tls-key', path.join(local, 'o.pem')], /--tls-key/],
      ];
      for (const [args, message] of cases) {
        const r = await runHerald(['--listen', '127.0.0.1:0', ...args]);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, message);
      }
    } finally {
      fs.rmSync(local, { recursive: true, force: true });
    }
  });
});
