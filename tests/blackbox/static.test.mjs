// The chat page and the browser library: served from the binary, or from
// --web-root for development; GET, HEAD and ETag revalidation.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, REPO, request, test, useHerald } from './lib/herald.mjs';

const page = fs.readFileSync(path.join(REPO, 'web', 'index.html'), 'utf8');
// The binary must serve what cmake/bundle_web.cmake joins from web/herald/ now: a binary
// built before the last edit of a module fails here.
const library = (() => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-bundle-'));
  try {
    execFileSync('cmake', [`-DOUT=${dir}`, '-P', path.join(REPO, 'cmake', 'bundle_web.cmake')], { stdio: 'pipe' });
    return fs.readFileSync(path.join(dir, 'herald.js'), 'utf8');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
})();

describe('static files', () => {
  const herald = useHerald();

  test('GET / is the chat page built into the binary', async () => {
    const r = await request(herald, { path: '/' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.equal(r.text, page);
  });

  test('GET /herald.js is the browser library, joined from web/herald/', async () => {
    const r = await request(herald, { path: '/herald.js' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(r.text, library);
  });

  test('HEAD sends the headers of GET and no body', async () => {
    const r = await request(herald, { method: 'HEAD', path: '/herald.js' });
    assert.equal(r.status, 200);
    assert.equal(Number(r.headers['content-length']), Buffer.byteLength(library));
    assert.equal(r.text, '');
    const health = await request(herald, { method: 'HEAD', path: '/healthz' });
    assert.equal(health.status, 200);
    assert.equal(health.text, '');
  });

  test('a matching If-None-Match is answered 304 without a body', async () => {
    const first = await request(herald, { path: '/' });
    assert.ok(first.headers.etag, 'an ETag is sent');
    const again = await request(herald, { path: '/', headers: { 'If-None-Match': first.headers.etag } });
    assert.equal(again.status, 304);
    assert.equal(again.text, '');
    const head = await request(herald, { method: 'HEAD', path: '/', headers: { 'If-None-Match': first.headers.etag } });
    assert.equal(head.status, 304);
    assert.equal(head.headers['content-length'], undefined, 'a 304 has no body to measure');
    const stale = await request(herald, { path: '/', headers: { 'If-None-Match': '"stale"' } });
    assert.equal(stale.status, 200);
  });

  test('POST / is 405 with Allow: GET, HEAD', async () => {
    const r = await request(herald, { method: 'POST', path: '/', body: '{}' });
    assert.equal(r.status, 405);
    assert.equal(r.headers.allow, 'GET, HEAD');
    assert.equal(r.body.error.code, 'bad_request');
  });

  test('/index.html and other names are 404 not_found', async () => {
    for (const p of ['/index.html', '/web/herald.js', '/herald.js/']) {
      const r = await request(herald, { path: p });
      assert.equal(r.status, 404, p);
      assert.equal(r.body.error.code, 'not_found', p);
    }
  });
});

describe('static files with --web-root', () => {
  let dir;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-web-'));
    fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>dev</title>');
  });
  const herald = useHerald(() => ['--web-root', dir]);
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('files are read from the directory on every request', async () => {
    assert.equal((await request(herald, { path: '/' })).text, '<!doctype html><title>dev</title>');
    fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>edited</title>');
    assert.equal((await request(herald, { path: '/' })).text, '<!doctype html><title>edited</title>');
  });

  test('a file missing from the directory is 404 not_found', async () => {
    const r = await request(herald, { path: '/herald.js' });
    assert.equal(r.status, 404);
    assert.equal(r.body.error.code, 'not_found');
  });
});
