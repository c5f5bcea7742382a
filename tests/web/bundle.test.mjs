// The join of web/herald/*.js into /herald.js (cmake/bundle_web.cmake): the bundle runs as a
// classic script, as an ES module and under CommonJS and gives the API the modules give; it
// holds every module without its import lines and export words; it is the same bytes every
// time; and the bundler refuses modules that the join would break, naming the problem.
//
//   node --test tests/web/        (needs cmake, as the build does)

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import vm from 'node:vm';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCRIPT = path.join(REPO, 'cmake', 'bundle_web.cmake');
const MODULE_DIR = path.join(REPO, 'web', 'herald');

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-bundle-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** Runs the bundler into a fresh directory; returns that directory (throws when cmake fails). */
function bundle(name, defines = []) {
  const out = path.join(scratch, name);
  execFileSync('cmake', [`-DOUT=${out}`, ...defines, '-P', SCRIPT], { stdio: 'pipe' });
  return out;
}

/** The module files under web/herald/, as paths relative to it ('transports/ws.js'). */
function moduleFiles() {
  return fs
    .readdirSync(MODULE_DIR, { recursive: true })
    .filter((f) => f.endsWith('.js'))
    .map((f) => f.split(path.sep).join('/'))
    .sort();
}

describe('the bundle', () => {
  let dir;
  let source;
  before(() => {
    dir = bundle('bundle');
    source = fs.readFileSync(path.join(dir, 'herald.js'), 'utf8');
  });

  test('runs as a classic script and defines the API of the modules on globalThis', async () => {
    const { Herald: fromModules } = await import('../../web/herald/index.js');
    const context = vm.createContext({ URL, setTimeout, clearTimeout });
    vm.runInContext(source, context, { filename: 'herald.js' });
    const { Herald } = context;
    assert.equal(typeof Herald, 'object');
    assert.deepEqual(Object.keys(Herald), Object.keys(fromModules));
    assert.deepEqual(Object.keys(Herald), ['version', 'connect', 'Client', 'HeraldError', 'transports']);
    assert.equal(Herald.version, fromModules.version);
    assert.deepEqual([...Herald.transports], fromModules.transports);
    assert.throws(() => Herald.connect({ user: 'ann' }), /url is required/);
    const error = new Herald.HeraldError('queue_full', 'full');
    assert.equal(error.code, 'queue_full');
    assert.equal(error.name, 'HeraldError');
  });

  test('runs as an ES module import, which defines globalThis.Herald', async () => {
    const file = path.join(dir, 'herald.mjs');
    fs.copyFileSync(path.join(dir, 'herald.js'), file);
    const { Herald: fromModules } = await import('../../web/herald/index.js');
    delete globalThis.Herald;
    await import(pathToFileURL(file).href);
    assert.equal(typeof globalThis.Herald?.connect, 'function');
    assert.notEqual(globalThis.Herald, fromModules, 'the bundle defined its own copy');
    assert.deepEqual(Object.keys(globalThis.Herald), Object.keys(fromModules));
  });

  test('gives a CommonJS loader the same object as module.exports', () => {
    const module = { exports: {} };
    const context = vm.createContext({ URL, setTimeout, clearTimeout, module });
    vm.runInContext(source, context, { filename: 'herald.js' });
    assert.equal(module.exports, context.Herald);
  });

  test('holds every module once, without its import lines and export words', () => {
    const files = moduleFiles();
    assert.ok(files.includes('index.js') && files.includes('engine.js'), `modules found: ${files}`);
    for (const file of files) {
      const markers = source.split(`\n// web/herald/${file}\n`).length - 1;
      assert.equal(markers, 1, `web/herald/${file} appears ${markers} times`);
      const joined = fs
        .readFileSync(path.join(MODULE_DIR, file), 'utf8')
        .split('\n')
        .filter((line) => !line.startsWith('import '))
        .map((line) => line.replace(/^export /, ''))
        .join('\n')
        .replace(/\n{3,}/g, '\n\n')
        .trim();
      assert.ok(source.includes(joined), `web/herald/${file} is not in the bundle as written`);
    }
    assert.deepEqual(source.split('\n').filter((line) => /^(import|export)\b/.test(line)), []);
  });

  test('is the same bytes from the same sources, and OUT gets index.html too', () => {
    const again = fs.readFileSync(path.join(bundle('again'), 'herald.js'), 'utf8');
    assert.equal(again, source);
    const page = fs.readFileSync(path.join(REPO, 'web', 'index.html'), 'utf8');
    assert.equal(fs.readFileSync(path.join(dir, 'index.html'), 'utf8'), page);
  });
});

describe('the bundler refuses what the join would break', () => {
  let fixtures = 0;
  /**
   * Bundles `modules` ({path: source}, in that order) from a scratch web dir; returns
   * {status, output, out}: `output` is cmake's, with its line wrapping undone. `unlisted`
   * files are written but left out of the module list.
   */
  function join(modules, unlisted = {}) {
    const web = path.join(scratch, `fixture-${++fixtures}`);
    for (const [file, text] of Object.entries({ ...modules, ...unlisted })) {
      fs.mkdirSync(path.dirname(path.join(web, 'herald', file)), { recursive: true });
      fs.writeFileSync(path.join(web, 'herald', file), text);
    }
    fs.writeFileSync(path.join(web, 'index.html'), '<!doctype html>');
    const r = spawnSync(
      'cmake',
      [`-DOUT=${path.join(web, 'out')}`, `-DWEB_DIR=${web}`, `-DMODULES=${Object.keys(modules).join(';')}`, '-P', SCRIPT],
      { encoding: 'utf8' },
    );
    assert.equal(r.error, undefined, `cmake could not run: ${r.error}`);
    return { status: r.status, output: (r.stdout + r.stderr).replace(/\s+/g, ' '), out: path.join(web, 'out') };
  }

  const base = "export const a = 1;\nexport function b() {\n  return a;\n}\n";

  test('well-formed modules join (the fixtures themselves are sound)', () => {
    const r = join({ 'a.js': base, 'sub/c.js': "import { a, b } from '../a.js';\n\nexport const c = a + b();\n" });
    assert.equal(r.status, 0, r.output);
    const out = fs.readFileSync(path.join(r.out, 'herald.js'), 'utf8');
    assert.match(out, /\nconst c = a \+ b\(\);\n/);
  });

  test('a module file missing from the list', () => {
    const r = join({ 'a.js': base }, { 'stray.js': 'const s = 1;\n' });
    assert.notEqual(r.status, 0);
    assert.match(r.output, /web\/herald\/stray\.js is not listed/);
  });

  test('two modules declaring the same top-level name', () => {
    const r = join({ 'a.js': base, 'c.js': 'function b() {}\n' });
    assert.notEqual(r.status, 0);
    assert.match(r.output, /c\.js: declares b, as web\/herald\/a\.js does/);
  });

  test('an import renaming what it imports', () => {
    const r = join({ 'a.js': base, 'c.js': "import { a as x } from './a.js';\n" });
    assert.notEqual(r.status, 0);
    assert.match(r.output, /imports must read/);
  });

  test('an import of a module listed after the importer', () => {
    const r = join({ 'c.js': "import { a } from './a.js';\n", 'a.js': base });
    assert.notEqual(r.status, 0);
    assert.match(r.output, /c\.js: imports a\.js, which cmake\/web_modules\.cmake does not list before it/);
  });

  test('an import of a name the module does not export', () => {
    const r = join({ 'a.js': base, 'c.js': "import { z } from './a.js';\n" });
    assert.notEqual(r.status, 0);
    assert.match(r.output, /c\.js: imports z, which a\.js does not export/);
  });

  test('an import from outside web/herald/', () => {
    const r = join({ 'a.js': "import { x } from 'somewhere';\n" });
    assert.notEqual(r.status, 0);
    assert.match(r.output, /only modules of web\/herald\/ can be joined/);
  });

  test('exports other than before a declaration', () => {
    for (const line of ['export default a;', 'export { a };']) {
      const r = join({ 'a.js': `const a = 1;\n${line}\n` });
      assert.notEqual(r.status, 0, line);
      assert.match(r.output, /only `export` before a top-level class, function, const or let/, line);
    }
  });
});
