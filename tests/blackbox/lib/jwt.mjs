// Minting JWS compact tokens for the authentication tests, with node:crypto only:
// HS256 (HMAC), RS256 (RSA PKCS#1 v1.5) and ES256 (P-256, raw R||S as JOSE wants).

import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const b64url = (buf) => Buffer.from(buf).toString('base64url');

/** Unix seconds now, as `exp`/`nbf` count them. */
export const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * Signs `claims` as a compact JWS. `key` is the HMAC secret (HS256) or a private
 * KeyObject (RS256, ES256); `alg: 'none'` gives an unsigned token; `header` adds
 * or overrides header fields.
 */
export function signJwt(claims, { alg = 'HS256', key, header = {} } = {}) {
  const head = b64url(JSON.stringify({ alg, typ: 'JWT', ...header }));
  const body = b64url(JSON.stringify(claims));
  const input = `${head}.${body}`;
  let signature;
  if (alg === 'none') signature = Buffer.alloc(0);
  else if (alg === 'HS256') signature = crypto.createHmac('sha256', key).update(input).digest();
  else if (alg === 'RS256') signature = crypto.sign('sha256', Buffer.from(input), key);
  else if (alg === 'ES256') signature = crypto.sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  else throw new Error(`signJwt: unknown alg ${alg}`);
  return `${input}.${b64url(signature)}`;
}

/** Claims for `sub` valid for `seconds` from now, plus `extra`. */
export function claimsFor(sub, seconds = 300, extra = {}) {
  return { sub, exp: nowSeconds() + seconds, iat: nowSeconds(), ...extra };
}

/** A fresh key pair ('rsa' or 'ec' P-256) with its public key written as PEM to a temp file. */
export function keyPairFile(kind) {
  const pair = kind === 'rsa'
    ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
    : crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-jwt-'));
  const file = path.join(dir, `${kind}.pem`);
  const pem = pair.publicKey.export({ type: 'spki', format: 'pem' });
  fs.writeFileSync(file, pem);
  return { ...pair, file, pem, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
