// Bounded waiting: every wait of the black-box tests is on a condition and has a bound, so
// that a condition that never comes fails the test instead of hanging it. Tests never
// assert durations; a bound only limits how long they wait.

/** Default bound for one HTTP exchange that should be answered at once. */
export const ANSWER_BOUND_MS = 10_000;

/**
 * Resolves like `promise`, or rejects with "timed out after … waiting for <what>"
 * when it has not settled within `ms`. `onTimeout` runs first (e.g. to destroy a
 * socket). The bound only limits waiting; tests never assert on durations.
 */
export function bounded(promise, ms, what, onTimeout) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => {
      try {
        onTimeout?.();
      } finally {
        reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      }
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
