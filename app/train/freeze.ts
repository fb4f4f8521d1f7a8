import type * as tf from '@tensorflow/tfjs';
import type { TrainMode } from '../common/train-config.ts';
import type { TrainableWeight } from './optimizer.ts';

/** Layers after the last MBConv block, in keras.applications' names; `top_bn` is a BatchNorm and stays frozen in finetune. */
const HEAD_LAYERS = new Set(['top_conv', 'predictions']);
const BLOCK_NAME = /^(block\d+[a-z]+)_/;

/** The MBConv block names (`block1a` … `block7a`) in graph order. */
export function blockNames(model: tf.LayersModel): string[] {
  const names: string[] = [];
  for (const layer of model.layers) {
    const block = BLOCK_NAME.exec(layer.name)?.[1];
    if (block && names.at(-1) !== block) names.push(block);
  }
  return names;
}

export interface FreezePlan {
  /** Layers whose weights the optimizer updates. */
  readonly trainableLayers: readonly string[];
  /** BatchNorm layers forced into inference mode while training. */
  readonly inferenceBatchNorms: readonly string[];
}

/**
 * Sets which layers train for a mode.
 *
 * `finetune` keeps EVERY BatchNorm in inference mode, as Keras' transfer-learning guide and its
 * EfficientNet fine-tuning example do: with small batches of a new dataset, batch statistics would
 * wreck the ImageNet moving averages the frozen layers were trained with. tfjs-layers differs from
 * Keras here: its BatchNormalization ignores `trainable` and, in a training call, normalises with
 * batch statistics AND updates the moving mean/variance (tf-layers BatchNormalization.call only reads
 * `training`). So a frozen BatchNorm's `call` is wrapped to always run with `training: false`.
 * `head` freezes everything but `predictions` (its backbone only ever runs in inference); `full`
 * trains every layer with BatchNorm in training mode.
 */
export function applyFreezePlan(model: tf.LayersModel, mode: TrainMode, unfreezeBlocks: number): FreezePlan {
  const blocks = blockNames(model);
  const unfrozenBlocks = new Set(blocks.slice(Math.max(0, blocks.length - unfreezeBlocks)));
  const trainableLayers: string[] = [];
  const inferenceBatchNorms: string[] = [];
  for (const layer of model.layers) {
    const isBatchNorm = layer.getClassName() === 'BatchNormalization';
    let trainable: boolean;
    if (mode === 'full') trainable = true;
    else if (mode === 'head') trainable = layer.name === 'predictions';
    else {
      const block = BLOCK_NAME.exec(layer.name)?.[1];
      trainable = !isBatchNorm && (HEAD_LAYERS.has(layer.name) || (block !== undefined && unfrozenBlocks.has(block)));
    }
    layer.trainable = trainable;
    if (layer.trainableWeights.length > 0) trainableLayers.push(layer.name);
    if (isBatchNorm && mode !== 'full') {
      forceInference(layer);
      inferenceBatchNorms.push(layer.name);
    }
  }
  return { trainableLayers, inferenceBatchNorms };
}

const FORCED = Symbol('effnet.forcedInference');

/** Makes the layer ignore `training: true`; idempotent. */
export function forceInference(layer: tf.layers.Layer): void {
  const target = layer as tf.layers.Layer & { [FORCED]?: true };
  if (target[FORCED]) return;
  const call = layer.call.bind(layer);
  layer.call = (inputs, kwargs) => call(inputs, { ...kwargs, training: false });
  target[FORCED] = true;
}

/**
 * The model's trainable weights in graph order, named as checkpoints and optimizer state name them
 * (`originalName`, which tfjs does not uniquify when a second model is built in the same process).
 * Weight decay applies to kernels (rank ≥ 2) only.
 */
export function trainableWeights(model: tf.LayersModel): TrainableWeight[] {
  return model.trainableWeights.map((weight) => ({
    name: weight.originalName,
    variable: weight.read() as tf.Variable,
    decay: weight.shape.length >= 2,
  }));
}
