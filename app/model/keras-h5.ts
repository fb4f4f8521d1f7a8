import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { AppError } from '../common/errors.ts';
import { setLayerWeights, type WeightValue } from './assign.ts';
import { openKerasWeightFile, writeKerasWeightFile, type KerasLayerEntry, type KerasWeightToWrite } from './keras-h5-file.ts';
import { importedNormalization, type NormalizationImport } from './keras-h5-normalization.ts';

/**
 * Keras .h5 weights ⇄ our EfficientNet: keras.applications' `efficientnetbX[_notop].h5` and any
 * `model.save_weights('x.h5')` of the same architecture. Loading is positional over the layers that
 * have weights, exactly as Keras' `load_weights(by_name=False)` (efficientnet-facts §1.11), so the
 * auto-generated names (`normalization`, `input_1`) do not need to agree; shapes must.
 */

export interface KerasH5LoadOptions {
  /**
   * Leave the classifier (`predictions`) out when it does not fit: a file's 1000-class top into a
   * 5-class model, a `_notop` file into a model with a top (the model's classifier stays as
   * initialised), or a top file into a model without one. Without this, those are errors.
   */
  readonly skipMismatchedTop?: boolean;
}

export interface SkippedLayer {
  readonly layer: string;
  /** Whose layer was left out: the file's (not loaded) or the model's (left as it was). */
  readonly side: 'file' | 'model';
  readonly reason: string;
}

export interface KerasH5LoadSummary {
  readonly file: string;
  readonly fileWeightedLayers: number;
  readonly modelWeightedLayers: number;
  /** Model layers that received weights, in order. */
  readonly assigned: readonly string[];
  readonly skipped: readonly SkippedLayer[];
  /** How the input Normalization's variance was read (null when the model has none or it was skipped). */
  readonly normalization: NormalizationImport | null;
  readonly backend?: string;
  readonly kerasVersion?: string;
}

/**
 * The Keras version written into saved files. Keras reads it only to convert Keras 1 files (it
 * compares with '1'); the layout written is tf.keras 2's, so say so.
 */
export const KERAS_VERSION_WRITTEN = '2.15.0';

const shapeText = (shape: readonly (number | null)[]) => `[${shape.join(', ')}]`;
const baseName = (weightName: string) => weightName.replace(/:\d+$/, '').split('/').at(-1)!;
const isNormalizationEntry = (layer: KerasLayerEntry | undefined) =>
  layer !== undefined && layer.weights.map((w) => baseName(w.name)).join(',') === 'mean,variance,count';
const isDenseEntry = (layer: KerasLayerEntry | undefined) =>
  layer !== undefined && layer.weights.length === 2 && layer.weights[0]!.shape.length === 2 && layer.weights[1]!.shape.length === 1;
const isNormalizationLayer = (layer: tf.layers.Layer | undefined) => layer?.getClassName() === 'Normalization';
const isDenseLayer = (layer: tf.layers.Layer | undefined) => layer?.getClassName() === 'Dense';

/** Loads Keras .h5 weights into `model`. Everything is checked before any weight is written. */
export async function loadKerasH5(model: tf.LayersModel, file: string, options: KerasH5LoadOptions = {}): Promise<KerasH5LoadSummary> {
  const h5 = await openKerasWeightFile(file);
  try {
    const fileLayers = h5.layers.filter((layer) => layer.weights.length > 0);
    const modelLayers = model.layers.filter((layer) => layer.weights.length > 0);
    const { pairs, skipped } = pairLayers(h5.file, fileLayers, modelLayers, options);
    for (const [source, target] of pairs) checkShapes(h5.file, source, target);

    const layerNames = h5.layers.map((layer) => layer.name);
    let normalization: NormalizationImport | null = null;
    for (const [source, target] of pairs) {
      const values: WeightValue[] = source.weights.map((weight) => ({ shape: weight.shape, data: h5.read(weight) }));
      if (isNormalizationLayer(target)) {
        normalization = importedNormalization(values[1]!.data, layerNames);
        values[1] = { shape: values[1]!.shape, data: normalization.variance };
      }
      setLayerWeights(model, target.name, values);
    }
    return {
      file: h5.file,
      fileWeightedLayers: fileLayers.length,
      modelWeightedLayers: modelLayers.length,
      assigned: pairs.map(([, target]) => target.name),
      skipped,
      normalization,
      backend: h5.backend,
      kerasVersion: h5.kerasVersion,
    };
  } finally {
    h5.close();
  }
}

/** Positional pairs of (file layer, model layer), after the optional input normalisation and classifier are set aside. */
function pairLayers(
  file: string,
  fileAll: readonly KerasLayerEntry[],
  modelAll: readonly tf.layers.Layer[],
  options: KerasH5LoadOptions,
): { pairs: [KerasLayerEntry, tf.layers.Layer][]; skipped: SkippedLayer[] } {
  const fileLayers = [...fileAll];
  const modelLayers = [...modelAll];
  const skipped: SkippedLayer[] = [];

  // Keras models always normalise inside; ours may not (preprocessing 'none'), and the standalone
  // keras-applications files have no Normalization layer at all.
  if (isNormalizationEntry(fileLayers[0]) && !isNormalizationLayer(modelLayers[0])) {
    const reason = "the model has no input Normalization layer (preprocessing 'none'): feed it normalised inputs";
    skipped.push({ layer: fileLayers.shift()!.name, side: 'file', reason });
  } else if (!isNormalizationEntry(fileLayers[0]) && isNormalizationLayer(modelLayers[0])) {
    const reason = "the file has no Normalization layer: the model's own mean and variance are kept";
    skipped.push({ layer: modelLayers.shift()!.name, side: 'model', reason });
  }

  const fileTop = isDenseEntry(fileLayers.at(-1));
  const modelTop = isDenseLayer(modelLayers.at(-1));
  const describe = `${file} has ${fileAll.length} weighted layers ${fileTop ? 'including a classifier' : 'and no classifier (a _notop file)'}`;
  if (fileTop && !modelTop && fileLayers.length === modelLayers.length + 1) {
    if (!options.skipMismatchedTop) {
      throw new AppError('weights-layer-count-mismatch', `${describe}; the model has ${modelAll.length} and no classifier.`, {
        hint: 'Build the model with includeTop=true, use the _notop file, or pass skipMismatchedTop to ignore the file’s classifier.',
      });
    }
    skipped.push({ layer: fileLayers.pop()!.name, side: 'file', reason: 'the model has no classifier (includeTop false)' });
  } else if (!fileTop && modelTop && modelLayers.length === fileLayers.length + 1) {
    const top = modelLayers.at(-1)!.name;
    if (!options.skipMismatchedTop) {
      throw new AppError(
        'weights-layer-count-mismatch',
        `${describe}; the model has ${modelAll.length} including its classifier '${top}'.`,
        {
          hint: 'Build the model with includeTop=false, use the file with the top, or pass skipMismatchedTop to keep the model’s own classifier.',
        },
      );
    }
    skipped.push({ layer: modelLayers.pop()!.name, side: 'model', reason: 'the file has no classifier: kept as initialised' });
  } else if (fileTop && modelTop && options.skipMismatchedTop && !sameShapes(fileLayers.at(-1)!, modelLayers.at(-1)!)) {
    const source = fileLayers.pop()!;
    const target = modelLayers.pop()!;
    const reason = `the file's classifier has ${source.weights[1]!.shape[0]} classes, the model's ${target.weights[1]!.shape[0]}: kept as initialised`;
    skipped.push({ layer: target.name, side: 'model', reason });
  }

  if (fileLayers.length !== modelLayers.length) {
    throw new AppError('weights-layer-count-mismatch', `${describe}; the model has ${modelAll.length}.`, {
      hint: 'The file is for another architecture: build the variant it was saved from (same width, depth and block table).',
      details: { fileLayers: fileAll.length, modelLayers: modelAll.length },
    });
  }
  return { pairs: fileLayers.map((layer, i) => [layer, modelLayers[i]!]), skipped };
}

function sameShapes(source: KerasLayerEntry, target: tf.layers.Layer): boolean {
  return (
    source.weights.length === target.weights.length &&
    source.weights.every((weight, i) => shapeText(weight.shape) === shapeText(target.weights[i]!.shape))
  );
}

function checkShapes(file: string, source: KerasLayerEntry, target: tf.layers.Layer): void {
  const same = source.weights.length === target.weights.length;
  const index = same ? source.weights.findIndex((weight, i) => shapeText(weight.shape) !== shapeText(target.weights[i]!.shape)) : 0;
  if (same && index < 0) return;
  const fileShapes = source.weights.map((w) => shapeText(w.shape)).join(', ');
  const modelShapes = target.weights.map((w) => shapeText(w.shape)).join(', ');
  const message = same
    ? `Layer '${target.name}': the model's ${baseName(target.weights[index]!.originalName)} has shape ${shapeText(target.weights[index]!.shape)}, ` +
      `but ${file} holds ${shapeText(source.weights[index]!.shape)} at ${source.weights[index]!.path}.`
    : `Layer '${target.name}' has ${target.weights.length} weights (${modelShapes}), but layer '${source.name}' in ${file} has ${source.weights.length} (${fileShapes}).`;
  throw new AppError('weights-shape-mismatch', message, {
    hint:
      isDenseLayer(target) && isDenseEntry(source)
        ? 'The number of classes differs: pass skipMismatchedTop to keep the model’s own classifier.'
        : 'The file is for another variant or width: build the model the file was saved from.',
    details: {
      layer: target.name,
      fileLayer: source.name,
      model: target.weights.map((w) => w.shape),
      file: source.weights.map((w) => w.shape),
    },
  });
}

export interface KerasH5SaveSummary {
  readonly file: string;
  readonly layers: number;
  readonly weightedLayers: number;
  readonly weights: number;
  readonly bytes: number;
}

/**
 * Writes `model`'s weights in Keras' legacy .h5 layout, loadable by Keras' `load_weights` into the
 * same architecture and by loadKerasH5. Normalization's variance is written as it is (a true
 * variance), so a round trip through loadKerasH5 is exact (see keras-h5-normalization.ts).
 */
export async function saveKerasH5(model: tf.LayersModel, file: string): Promise<KerasH5SaveSummary> {
  const layers = await Promise.all(
    model.layers.map(async (layer) => ({
      name: layer.name,
      weights: await Promise.all(
        layer.weights.map(async (weight): Promise<KerasWeightToWrite> => {
          const name = baseName(weight.originalName);
          return {
            name: `${layer.name}/${name}:0`,
            shape: weight.shape.map((d) => d ?? 0),
            data: Float32Array.from(await weight.read().data()),
            dtype: isNormalizationLayer(layer) && name === 'count' ? 'int64' : 'float32',
          };
        }),
      ),
    })),
  );
  const bytes = await writeKerasWeightFile(file, { layers, backend: 'tensorflow', kerasVersion: KERAS_VERSION_WRITTEN });
  return {
    file: path.resolve(file),
    layers: layers.length,
    weightedLayers: layers.filter((layer) => layer.weights.length > 0).length,
    weights: layers.reduce((sum, layer) => sum + layer.weights.length, 0),
    bytes,
  };
}
