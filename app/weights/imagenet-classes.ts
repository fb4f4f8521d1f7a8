import { readResource, resourcePath } from '../node/resources.ts';

/**
 * The 1000 ImageNet-1k class names in the standard index order (the order of the Keras and
 * torchvision classifiers' outputs), from @tensorflow-models/mobilenet 2.1.1
 * `dist/imagenet_classes.js` (Apache-2.0), in resources/imagenet/classes.json; see the README there.
 */

export const IMAGENET_CLASS_COUNT = 1000;

let loaded: readonly string[] | undefined;

/** Index = class id; each name is the WordNet synonyms, most common first ("tabby, tabby cat"). */
export function imagenetClasses(): readonly string[] {
  if (!loaded) {
    const names: unknown = JSON.parse(readResource('imagenet/classes.json'));
    if (!Array.isArray(names) || names.length !== IMAGENET_CLASS_COUNT || !names.every((name) => typeof name === 'string' && name !== '')) {
      throw new Error(`${resourcePath('imagenet/classes.json')} must be an array of ${IMAGENET_CLASS_COUNT} non-empty strings`);
    }
    loaded = Object.freeze(names as string[]);
  }
  return loaded;
}

/** The first synonym: "tabby" for 281. Not unique: 134 and 517 are both "crane" (bird, machine). */
export function imagenetShortName(index: number): string {
  const name = imagenetClasses()[index];
  if (name === undefined) throw new RangeError(`ImageNet class index must be an integer 0–${IMAGENET_CLASS_COUNT - 1}, got ${index}`);
  return name.split(',')[0]!.trim();
}

export interface NamedPrediction {
  readonly index: number;
  readonly name: string;
  readonly probability: number;
}

/** The k most probable classes of one 1000-way output, named (like Keras `decode_predictions`). */
export function decodeImagenetPredictions(probabilities: ArrayLike<number>, k = 5): NamedPrediction[] {
  if (probabilities.length !== IMAGENET_CLASS_COUNT) {
    throw new RangeError(`An ImageNet prediction has ${IMAGENET_CLASS_COUNT} values, got ${probabilities.length}`);
  }
  const names = imagenetClasses();
  return Array.from(probabilities, (probability, index) => ({ index, probability }))
    .sort((a, b) => b.probability - a.probability || a.index - b.index)
    .slice(0, Math.max(0, k))
    .map(({ index, probability }) => ({ index, name: names[index]!, probability }));
}
