import { stat } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { isVariantName, makeSpec, type ModelSpec } from '../common/efficientnet/index.ts';
import { AppError } from '../common/errors.ts';
import type { TrainConfig } from '../common/train-config.ts';
import { buildEfficientNet } from '../model/builder.ts';
import { loadKerasH5 } from '../model/keras-h5.ts';
import { loadModel } from '../model/model-format.ts';
import { resolveWeightsFile } from '../weights/store.ts';
import { withSeededRandom } from './seeding.ts';

export interface PreparedModel {
  readonly model: tf.LayersModel;
  readonly spec: ModelSpec;
  /** Where the starting weights came from, e.g. `keras-h5:efficientnetb0_notop.h5` or `random:seed=7`. */
  readonly source: string;
  /** Identifies the starting weights' content, for the embedding cache key (a path alone could be rewritten). */
  readonly weightsIdentity: string;
  readonly messages: readonly string[];
}

/**
 * Builds the model a run starts from: a classifier for `classes` with the configured variant, its
 * weights from Keras' ImageNet file (the `_notop` one: the classifier is new), from an earlier model
 * folder, or random. Random initialisation is seeded, so a run is reproducible from its seed.
 */
export async function prepareModel(
  config: TrainConfig,
  classes: readonly string[],
  seed: number,
  env: NodeJS.ProcessEnv,
): Promise<PreparedModel> {
  const settings = config.model;
  if (settings.initialModel) return fromModelFolder(settings.initialModel, config, classes, seed);
  let spec: ModelSpec;
  try {
    spec = makeSpec(settings.variant, {
      resolution: settings.resolution,
      width: settings.width,
      depth: settings.depth,
      dropout: settings.dropout,
      dropConnectRate: settings.dropConnectRate,
      bnMomentum: settings.bnMomentum,
      numClasses: classes.length,
      includeTop: true,
    });
  } catch (error) {
    throw new AppError('train-config-invalid', `Training config: model: ${(error as Error).message}`, { cause: error });
  }
  const model = withSeededRandom(seed, () => withFreshClassifier(buildEfficientNet(spec)));
  if (settings.weights === 'none') {
    return { model, spec, source: `random:seed=${seed}`, weightsIdentity: `random:${seed}`, messages: [] };
  }
  try {
    if (!isVariantName(settings.variant.trim().toLowerCase()) || settings.width !== undefined || settings.depth !== undefined) {
      throw new AppError(
        'weights-unavailable',
        `There are no ImageNet weights for model ${spec.variant} (width ${spec.width}, depth ${spec.depth}).`,
        {
          hint: 'ImageNet weights exist for b0…b7 at their own width and depth; use one of those, or set model.weights to "none".',
        },
      );
    }
    const file = await resolveWeightsFile(settings.variant, false, env);
    const summary = await loadKerasH5(model, file, { skipMismatchedTop: true });
    const info = await stat(file);
    const messages = [`Loaded ImageNet weights from ${file} into ${summary.assigned.length} layers.`];
    return {
      model,
      spec,
      source: `keras-h5:${path.basename(file)}`,
      weightsIdentity: `keras-h5:${path.basename(file)}:${info.size}:${info.mtimeMs}`,
      messages,
    };
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/**
 * Re-initialises the classifier's kernel with Keras' Dense default, glorot_uniform (the initialiser
 * the new head of Keras' transfer-learning guide gets). keras.applications' DENSE_KERNEL_INITIALIZER
 * is uniform ±1/√classes, sized for ImageNet's 1000 classes (±0.03); for 10 classes it is ±0.32,
 * and on hundreds of BatchNorm-normalised features the first logits have a standard deviation of
 * 3–5 (measured on phi:-4 at 32 px): a confidently wrong start (initial loss 4.5 instead of ln 10 = 2.3)
 * that Adam spends the first epoch undoing. Glorot's ±√(6/(features + classes)) gives logits of
 * about unit scale for any class count. Weights loaded afterwards (ImageNet's 1000-class top, a saved
 * model's classifier) replace it.
 */
function withFreshClassifier(model: tf.LayersModel): tf.LayersModel {
  const predictions = model.layers.find((layer) => layer.name === 'predictions');
  if (!predictions) return model;
  // getWeights returns the layer's own variables (tfjs-layers batchGetValue): not disposed here.
  const [kernel, ...rest] = predictions.getWeights();
  const fresh = tf.initializers.glorotUniform({}).apply(kernel!.shape);
  predictions.setWeights([fresh, ...rest]);
  fresh.dispose();
  return model;
}

async function fromModelFolder(dir: string, config: TrainConfig, classes: readonly string[], seed: number): Promise<PreparedModel> {
  const { model: saved, metadata } = await loadModel(dir);
  const sameClasses =
    metadata.spec.includeTop && metadata.labels.length === classes.length && metadata.labels.every((label, i) => label === classes[i]);
  const spec: ModelSpec = {
    ...metadata.spec,
    includeTop: true,
    numClasses: classes.length,
    ...(config.model.dropout === undefined ? {} : { dropout: config.model.dropout }),
  };
  const model = withSeededRandom(seed, () => withFreshClassifier(buildEfficientNet(spec)));
  try {
    for (const layer of model.layers) {
      if (layer.weights.length === 0) continue;
      if (layer.name === 'predictions' && !sameClasses) continue; // a new classifier for new classes
      const source = saved.layers.find((candidate) => candidate.name === layer.name);
      if (!source)
        throw new AppError('model-metadata-mismatch', `${dir} has no layer ${layer.name}; it is not an EfficientNet saved by this app.`);
      layer.setWeights(source.getWeights());
    }
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    saved.dispose();
  }
  const messages = [`Started from the model in ${dir}${sameClasses ? '' : ' with a new classifier for the dataset\u2019s classes'}.`];
  return {
    model,
    spec,
    source: `model:${path.resolve(dir)}`,
    weightsIdentity: `model:${path.resolve(dir)}:${metadata.createdAt}`,
    messages,
  };
}
