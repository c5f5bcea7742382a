// Names for test data: unique group and user names, and session ids that no session has.

import crypto from 'node:crypto';

let uniqCounter = 0;
/** Returns a name unique within this test process, usable as group or user name. */
export function uniq(prefix = 'x') {
  uniqCounter += 1;
  return `${prefix}-${process.pid}-${uniqCounter}-${crypto.randomBytes(3).toString('hex')}`;
}

/**
 * A well-formed session id that no session has: same node prefix and length as a
 * real one, different random part.
 */
export function unknownSessionLike(realSession) {
  const cut = realSession.lastIndexOf('_');
  const prefix = cut >= 0 ? realSession.slice(0, cut + 1) : '';
  const randLen = realSession.length - prefix.length;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let rand = '';
  const bytes = crypto.randomBytes(randLen);
  for (let i = 0; i < randLen; i++) rand += alphabet[bytes[i] % alphabet.length];
  return prefix + rand;
}
