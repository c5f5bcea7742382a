// Finds the fields of a rendered object that its Kubernetes type does not have.
//
// The kubernetes-models validators check types, formats and required fields, but let any
// unknown field through (the OpenAPI schemas have no additionalProperties: false), and a
// misspelt or misplaced key (`spec.template.spec.container`, `readinessprobe`) is exactly
// what a chart gets wrong; the API server would drop it or reject it. The same packages ship
// TypeScript declarations generated from the same OpenAPI documents, with every field of
// every type, so this module reads those: a small parser for the subset they use
// (interfaces, type aliases, imports, object literals, Array<>, unions, index signatures),
// then a walk of the object against its type.
//
//   unknownFields(object, declarationFile, typeName) -> ['spec.template.spec.bogus', …]

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const files = new Map(); // absolute .d.ts path -> { imports, interfaces, aliases }

// --- tokenizer ---------------------------------------------------------------------------
function tokenize(text) {
  const tokens = [];
  const re = /\s+|\/\*[\s\S]*?\*\/|\/\/[^\n]*|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[A-Za-z_$][\w$]*|\d+(?:\.\d+)?|\S/gy;
  let m;
  while ((m = re.exec(text)) !== null) {
    const t = m[0];
    if (/^\s/.test(t) || t.startsWith('/*') || t.startsWith('//')) continue;
    tokens.push(t);
  }
  return tokens;
}

class Parser {
  constructor(tokens) {
    this.t = tokens;
    this.i = 0;
  }
  peek(k = 0) {
    return this.t[this.i + k];
  }
  next() {
    return this.t[this.i++];
  }
  eat(tok) {
    if (this.peek() !== tok) throw new Error(`expected ${tok}, got ${this.peek()} at token ${this.i}`);
    return this.next();
  }
  maybe(tok) {
    if (this.peek() === tok) return this.next();
    return undefined;
  }

  // TYPE := PRIMARY ('|' PRIMARY)* ; PRIMARY := POSTFIX ('[]')*
  type() {
    this.maybe('|');
    const options = [this.postfix()];
    while (this.maybe('|')) options.push(this.postfix());
    return options.length === 1 ? options[0] : { kind: 'union', options };
  }
  postfix() {
    let base = this.primary();
    while (this.peek() === '[' ) {
      if (this.peek(1) === ']') {
        this.next();
        this.next();
        base = { kind: 'array', of: base };
      } else {
        // Indexed access (ISubject["kind"]): a literal type, nothing to walk into.
        this.next();
        this.type();
        this.eat(']');
        base = { kind: 'leaf' };
      }
    }
    return base;
  }
  primary() {
    const tok = this.peek();
    if (tok === '{') return this.objectLiteral();
    if (tok === '(') {
      this.next();
      const inner = this.type();
      this.eat(')');
      return inner;
    }
    if (tok.startsWith('"') || tok.startsWith("'") || /^\d/.test(tok) || tok === '-') {
      this.next();
      if (tok === '-') this.next();
      return { kind: 'leaf' };
    }
    this.next();
    if (tok === 'Array' && this.peek() === '<') {
      this.next();
      const of = this.type();
      this.eat('>');
      return { kind: 'array', of };
    }
    if (this.peek() === '<') {
      // A generic we do not model (Record<…>, ModelData<…>): accept anything.
      let depth = 0;
      do {
        const t = this.next();
        if (t === '<') depth++;
        if (t === '>') depth--;
      } while (depth > 0);
      return { kind: 'any' };
    }
    if (['string', 'number', 'boolean', 'null', 'undefined', 'true', 'false', 'bigint'].includes(tok)) return { kind: 'leaf' };
    if (['any', 'unknown', 'object'].includes(tok)) return { kind: 'any' };
    return { kind: 'ref', name: tok };
  }
  objectLiteral() {
    this.eat('{');
    const members = this.members();
    this.eat('}');
    return { kind: 'object', ...members };
  }
  // Members up to the closing brace (not eaten).
  members() {
    const fields = new Map();
    let index = null;
    while (this.peek() !== '}') {
      if (this.peek() === '[') {
        // [key: string]: TYPE
        this.next();
        this.next();
        this.eat(':');
        this.type();
        this.eat(']');
        this.eat(':');
        index = this.type();
      } else {
        let name = this.next();
        if (name === 'static' || name === 'readonly') name = this.next();
        if (name.startsWith('"')) name = JSON.parse(name);
        this.maybe('?');
        if (this.peek() === '(') {
          // A method (classes only): skip to the end of the member.
          while (this.peek() !== ';' && this.peek() !== '}') this.next();
        } else {
          this.eat(':');
          fields.set(name, this.type());
        }
      }
      this.maybe(';') || this.maybe(',');
    }
    return { fields, index };
  }
}

// --- files ---------------------------------------------------------------------------------
function resolveModule(fromFile, spec) {
  const bare = spec.replace(/\.js$/, '');
  if (spec.startsWith('.')) return path.resolve(path.dirname(fromFile), `${bare}.d.ts`);
  for (let dir = path.dirname(fromFile); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', `${bare}.d.ts`);
    if (existsSync(candidate)) return candidate;
    if (dir === path.dirname(dir)) return null;
  }
}

function load(file) {
  if (files.has(file)) return files.get(file);
  const parsed = { imports: new Map(), interfaces: new Map(), aliases: new Map() };
  files.set(file, parsed);
  const p = new Parser(tokenize(readFileSync(file, 'utf8')));
  while (p.peek() !== undefined) {
    const tok = p.next();
    if (tok === 'import') {
      if (p.peek() !== '{') continue;
      p.next();
      const names = [];
      while (p.peek() !== '}') {
        const name = p.next();
        const local = p.maybe('as') ? p.next() : name;
        names.push([name, local]);
        p.maybe(',');
      }
      p.eat('}');
      p.eat('from');
      const spec = JSON.parse(p.next());
      const target = resolveModule(file, spec);
      for (const [name, local] of names) parsed.imports.set(local, { file: target, name });
    } else if (tok === 'interface') {
      const name = p.next();
      const bases = [];
      if (p.maybe('extends')) {
        do bases.push(p.next());
        while (p.maybe(','));
      }
      p.eat('{');
      const members = p.members();
      p.eat('}');
      parsed.interfaces.set(name, { kind: 'object', ...members, bases });
    } else if (tok === 'type' && p.peek() === '{') {
      // export type { A as B, C };
      p.next();
      while (p.peek() !== '}') {
        const name = p.next();
        const alias = p.maybe('as') ? p.next() : name;
        parsed.aliases.set(alias, { kind: 'ref', name });
        p.maybe(',');
      }
      p.eat('}');
    } else if (tok === 'type' && p.peek(1) === '=') {
      const name = p.next();
      p.eat('=');
      parsed.aliases.set(name, p.type());
    } else if (tok === 'class') {
      // declare class X extends Model<I> implements I { … }: skip its body.
      while (p.peek() !== '{') p.next();
      let depth = 0;
      do {
        const t = p.next();
        if (t === '{') depth++;
        if (t === '}') depth--;
      } while (depth > 0);
    }
  }
  return parsed;
}

/** The type named `name` as seen from `file`: an object type, a leaf, or null (unknown). */
function resolve(file, name, seen = new Set()) {
  const key = `${file}#${name}`;
  if (!file || seen.has(key)) return null;
  seen.add(key);
  const parsed = load(file);
  if (parsed.interfaces.has(name)) return { file, type: parsed.interfaces.get(name) };
  if (parsed.aliases.has(name)) {
    const type = parsed.aliases.get(name);
    if (type.kind === 'ref') return resolve(file, type.name, seen);
    return { file, type };
  }
  if (parsed.imports.has(name)) {
    const imp = parsed.imports.get(name);
    return resolve(imp.file, imp.name, seen);
  }
  return null;
}

/** Every field name an object type allows, including those of its bases. */
function fieldsOf(file, type, into = new Map()) {
  for (const [k, v] of type.fields) into.set(k, { file, type: v });
  for (const base of type.bases ?? []) {
    const r = resolve(file, base);
    if (r?.type.kind === 'object') fieldsOf(r.file, r.type, into);
  }
  return into;
}

function walk(value, file, type, at, out) {
  if (type === null || value === null || typeof value !== 'object') return;
  switch (type.kind) {
    case 'ref': {
      const r = resolve(file, type.name);
      if (r) walk(value, r.file, r.type, at, out);
      return;
    }
    case 'array':
      if (Array.isArray(value)) value.forEach((v, i) => walk(v, file, type.of, `${at}[${i}]`, out));
      return;
    case 'union': {
      // The object options of a union (rare here); a key any of them knows is known.
      const objects = type.options.filter((o) => o.kind !== 'leaf');
      if (objects.length === 1) walk(value, file, objects[0], at, out);
      return;
    }
    case 'object': {
      if (Array.isArray(value)) return;
      const fields = fieldsOf(file, type);
      for (const [k, v] of Object.entries(value)) {
        const where = at ? `${at}.${k}` : k;
        if (fields.has(k)) walk(v, fields.get(k).file, fields.get(k).type, where, out);
        else if (type.index) walk(v, file, type.index, where, out);
        else out.push(where);
      }
      return;
    }
    default:
  }
}

/** Paths (a.b[0].c) of the fields of `object` that type `typeName` of `declarationFile` lacks. */
export function unknownFields(object, declarationFile, typeName) {
  const r = resolve(declarationFile, typeName);
  if (!r) throw new Error(`no type ${typeName} in ${declarationFile}`);
  const out = [];
  walk(object, r.file, r.type, '', out);
  return out;
}
