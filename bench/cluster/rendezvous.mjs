// Rendezvous hashing as actors/rendezvous.hpp computes it (FNV-1a over node, NUL, key, then a
// 64-bit mixer), so that the cluster benchmark and the fault suite can pick groups whose home
// (or first replica) is the node they want.

const M64 = (1n << 64n) - 1n;

function weight(node, key) {
  let h = 14695981039346656037n;
  const feed = (bytes) => {
    for (const c of bytes) {
      h ^= BigInt(c);
      h = (h * 1099511628211n) & M64;
    }
  };
  feed(Buffer.from(node, 'utf8'));
  feed([0]);
  feed(Buffer.from(key, 'utf8'));
  h ^= h >> 33n;
  h = (h * 0xff51afd7ed558ccdn) & M64;
  h ^= h >> 33n;
  return h;
}

/** `nodes` ordered by weight for `group`, highest first (ties by name): [0] its home, [1] its first replica. */
export function rank(nodes, group) {
  return [...nodes].sort((a, b) => {
    const wa = weight(a, group);
    const wb = weight(b, group);
    return wa !== wb ? (wa > wb ? -1 : 1) : a < b ? -1 : 1;
  });
}

/** The home of `group` among `nodes`. */
export const homeOf = (nodes, group) => rank(nodes, group)[0];
