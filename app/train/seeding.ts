import type * as tf from '@tensorflow/tfjs';
import { createRandom } from '../common/random.ts';
import { deriveSeed } from '../dataset/pipeline/seeds.ts';

/**
 * Reproducible randomness for the parts of tfjs that take no seed from us.
 *
 * Weight initialisers: app/model/builder.ts creates them without a seed, and tfjs then seeds each
 * from Math.random (tfjs-core rand_util: `seed ? seed : Math.random()`). Building the model inside
 * `withSeededRandom` makes every initial weight a function of the run's seed. The build is
 * synchronous, so no other code can observe the substituted Math.random.
 */
export function withSeededRandom<T>(seed: number, build: () => T): T {
  const original = Math.random;
  Math.random = createRandom(deriveSeed(seed, 0x1417));
  try {
    return build();
  } finally {
    Math.random = original;
  }
}

/** tfjs-layers' Dropout passes its `seed` field to tf.dropout on every call; not part of the public types. */
type SeedableDropout = tf.layers.Layer & { seed?: number };

/**
 * Gives every Dropout layer (top_dropout and the per-block stochastic-depth `*_drop` layers) a seed
 * derived from (run seed, global step, micro-batch, layer), so a run resumed at step k draws the same
 * masks as one that never stopped. Returns a function that puts the layers' own seeds back, so a
 * model saved afterwards carries no step-specific seed in its config.
 */
export function seedDropout(model: tf.LayersModel, seed: number, step: number, micro: number): () => void {
  const layers = model.layers.filter((layer) => layer.getClassName() === 'Dropout') as SeedableDropout[];
  const previous = layers.map((layer) => layer.seed);
  layers.forEach((layer, index) => {
    // tf.dropout treats a seed of 0 as "no seed"; `| 1` keeps it non-zero.
    layer.seed = deriveSeed(seed, step, micro, index) | 1;
  });
  return () => layers.forEach((layer, index) => (layer.seed = previous[index]));
}
