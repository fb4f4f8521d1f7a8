import { IMAGENET_STD } from './layers.ts';

/**
 * The keras.applications EfficientNet normalisation quirk (efficientnet-facts §1.8; tensorflow
 * issue #49930). Keras' ImageNet files store the ImageNet *std* [0.229, 0.224, 0.225] as the
 * Normalization layer's `variance`, so the layer alone computes (x/255 − mean)/√std. Keras ≥ 2.9
 * (commit 844f60e3da) compensates with an extra `Rescaling(1/√std)` layer, `rescaling_1`, when
 * built with weights='imagenet'; the product is the intended torch normalisation (x/255 − mean)/std.
 *
 * Our Normalization layer has no such companion: it divides by √variance with a true variance. So
 * on import the variance becomes what the Keras model effectively applies:
 *
 * 1. `layer_names` contains `rescaling_1` (saved from a Keras ≥ 2.9 imagenet model): that layer
 *    multiplies by 1/√std, so the effective variance is stored · std (std² for the official values).
 * 2. Otherwise, a stored variance equal to the ImageNet std (to 1e-6) is the official files' (saved
 *    before the fix, without rescaling_1; today's Keras adds rescaling_1 when loading them): std².
 * 3. Otherwise the stored variance is a true variance (e.g. `adapt()`ed data, or a file we wrote) and
 *    is kept as it is.
 *
 * Rule 2 misreads only a true variance that happens to equal the ImageNet std to six decimals.
 */

export type NormalizationQuirk = 'rescaling_1' | 'stored-std' | 'none';

export interface NormalizationImport {
  readonly quirk: NormalizationQuirk;
  readonly storedVariance: readonly number[];
  /** The variance given to our Normalization layer. */
  readonly variance: Float32Array;
}

export const STD_MATCH_TOLERANCE = 1e-6;

export function importedNormalization(stored: Float32Array, layerNames: readonly string[]): NormalizationImport {
  const storedVariance = Array.from(stored);
  const imagenetChannels = stored.length === IMAGENET_STD.length;
  if (imagenetChannels && layerNames.includes('rescaling_1')) {
    return { quirk: 'rescaling_1', storedVariance, variance: Float32Array.from(stored, (v, c) => v * IMAGENET_STD[c]!) };
  }
  if (imagenetChannels && storedVariance.every((v, c) => Math.abs(v - IMAGENET_STD[c]!) <= STD_MATCH_TOLERANCE)) {
    return { quirk: 'stored-std', storedVariance, variance: Float32Array.from(IMAGENET_STD, (std) => std * std) };
  }
  return { quirk: 'none', storedVariance, variance: Float32Array.from(stored) };
}
