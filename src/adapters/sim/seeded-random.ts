/**
 * A deterministic pseudo-random number generator (mulberry32) seeded from a string, so a choice the clearing house
 * makes (how many of the account's shorts are assigned) is the same on every run of a scenario and independent of the
 * order in which other choices were made: each choice hashes its own key (seed, contract, date).
 *
 * @example seededRandom('1|OPT:SPY:2026-01-30:P:440|2026-01-27')() // the same number in [0, 1) every time
 */
export function seededRandom(key: string): () => number {
  // FNV-1a over the key's UTF-16 code units gives the 32-bit seed.
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mulberry32(h);
}

/** mulberry32: a small, fast, seeded generator of numbers in [0, 1); good enough to pick simulated choices and faults. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
