/**
 * Seeded pseudo-random numbers, so a split or an augmentation run can be reproduced from its seed
 * on any machine. Math.random cannot be seeded; mulberry32 (Tommy Ettinger's 32-bit generator,
 * public domain) is tiny, fast and good enough for shuffling and augmentation, not for crypto.
 */

/** A generator of floats in [0, 1) from a seed; the same seed gives the same sequence everywhere. */
export function createRandom(seed: number): () => number {
  if (!Number.isFinite(seed)) throw new RangeError(`random seed must be a finite number, got ${seed}`);
  // Fold the whole number into 32 bits so seeds above 2^32 (e.g. Date.now()) still differ.
  let state = (Math.floor(seed) ^ Math.floor(seed / 0x100000000)) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [min, max] inclusive. */
export function randomInt(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

/** Fisher–Yates shuffle in place (every permutation equally likely); returns the array. */
export function shuffleInPlace<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const swap = items[i]!;
    items[i] = items[j]!;
    items[j] = swap;
  }
  return items;
}
