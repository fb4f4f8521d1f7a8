/**
 * tfjs classifiers: the app's own model folder (effnet.json + model.json) and an exported tfjs
 * folder (model.json + labels.json, as `effnet export --format tfjs` writes it), both in whatever
 * tfjs backend is current.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { AppError } from '../common/errors.ts';
import { LABELS_FILE } from '../model/file-names.ts';
import { fileSystemHandler } from '../model/fs-io.ts';
import { registerEffnetLayers } from '../model/layers.ts';
import { loadModel } from '../model/model-format.ts';
import { softmaxRows, type Classifier } from './classifier.ts';

export { LABELS_FILE };

/** Wraps a loaded LayersModel. `outputsLogits`: the last layer is linear, so softmax is applied here. */
export function tfjsClassifier(
  model: tf.LayersModel,
  options: { labels: readonly string[]; outputsLogits: boolean; dispose?: boolean },
): Classifier {
  const inputSize = model.inputs[0]?.shape[1];
  if (typeof inputSize !== 'number') throw new AppError('model-invalid', `The model '${model.name}' has no fixed input size.`);
  return {
    labels: options.labels,
    inputSize,
    runtime: `tfjs (${tf.getBackend()})`,
    async predict(pixels, count) {
      const input = tf.tensor4d(pixels, [count, inputSize, inputSize, 3]);
      const output = model.predict(input) as tf.Tensor;
      try {
        const values = (await output.data()) as Float32Array;
        return options.outputsLogits ? softmaxRows(values, count) : Float32Array.from(values);
      } finally {
        tf.dispose([input, output]);
      }
    },
    async dispose() {
      if (options.dispose !== false) model.dispose();
    },
  };
}

/** The app's model folder (saveModel's layout). */
export async function openModelFolder(dir: string): Promise<Classifier> {
  const { model, metadata } = await loadModel(dir);
  if (!metadata.spec.includeTop) {
    model.dispose();
    throw new AppError('model-no-classifier', `${dir} holds a feature extractor (includeTop false), not a classifier.`, {
      hint: 'Classify and export need a model with a classification head.',
    });
  }
  return tfjsClassifier(model, { labels: metadata.labels, outputsLogits: metadata.spec.classifierActivation === 'linear' });
}

/** A folder written by the tfjs exporter (or any tfjs layers model with a labels.json beside it). */
export async function openExportedTfjs(dir: string): Promise<Classifier> {
  const labels = await readLabels(path.join(dir, LABELS_FILE));
  // Exports need no custom layers; registering ours only helps folders saved by other means.
  registerEffnetLayers();
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(fileSystemHandler(dir));
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError('model-corrupt', `${path.join(dir, 'model.json')} could not be loaded: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const last = model.layers.at(-1)?.getConfig() as { activation?: string } | undefined;
  const classes = model.outputs[0]?.shape.at(-1);
  if (classes !== labels.length) {
    model.dispose();
    throw new AppError(
      'model-metadata-mismatch',
      `${path.join(dir, LABELS_FILE)} lists ${labels.length} labels, but the model has ${classes} outputs.`,
    );
  }
  return tfjsClassifier(model, { labels, outputsLogits: last?.activation !== 'softmax' });
}

export async function readLabels(file: string): Promise<string[]> {
  let value: unknown;
  try {
    value = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new AppError(
      missing ? 'model-not-found' : 'model-metadata-invalid',
      `${file} ${missing ? 'does not exist' : `is not valid JSON: ${(error as Error).message}`}.`,
      {
        hint: 'The labels file lists the class names in output order, e.g. ["cat", "dog"].',
      },
    );
  }
  if (!Array.isArray(value) || value.length === 0 || !value.every((label) => typeof label === 'string')) {
    throw new AppError('model-metadata-invalid', `${file} must be a non-empty JSON list of class names.`);
  }
  return value as string[];
}
