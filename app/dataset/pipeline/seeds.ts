/**
 * Every random choice in the pipeline is a pure function of (seed, epoch, sample index), so a run
 * resumed at epoch 7 sees the same order and the same augmentations as one that never stopped,
 * whichever worker happened to process a sample.
 */
import { createRandom, shuffleInPlace } from '../../common/random.ts';

/** One random stream per augmentation step, so switching one step off leaves the others' draws unchanged. */
export const STREAM = { shuffle: 1, crop: 2, flip: 3, rotation: 4, colorJitter: 5, erasing: 6, preview: 7 } as const;

/** murmur3's 32-bit finaliser: spreads every input bit over the output, so nearby seeds give unrelated streams. */
function mix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A 32-bit seed derived from a list of integers (order matters). */
export function deriveSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    const value = Math.floor(part);
    // Fold numbers above 2^32 (Date.now() seeds) into 32 bits before mixing.
    h = mix32(h ^ mix32((value ^ Math.floor(value / 0x100000000)) >>> 0));
  }
  return h;
}

/** A random stream for one step of one sample in one epoch. */
export function sampleRandom(seed: number, epoch: number, index: number, stream: number): () => number {
  return createRandom(deriveSeed(seed, epoch, index, stream));
}

/** The order in which an epoch visits the items: a permutation that depends only on (seed, epoch). */
export function epochOrder(count: number, seed: number, epoch: number, shuffle: boolean): Int32Array {
  const order = Array.from({ length: count }, (_, i) => i);
  if (shuffle) shuffleInPlace(order, createRandom(deriveSeed(seed, epoch, STREAM.shuffle)));
  return Int32Array.from(order);
}
