import * as tf from '@tensorflow/tfjs';
import { AppError } from '../common/errors.ts';

export interface WeightValue {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** A layer by name, or an AppError naming the model and the layer. */
export function findLayer(model: tf.LayersModel, layerName: string): tf.layers.Layer {
  const layer = model.layers.find((candidate) => candidate.name === layerName);
  if (!layer) {
    throw new AppError('weights-layer-missing', `Model '${model.name}' has no layer named '${layerName}'`, {
      hint: 'The weights were made for a different architecture or variant: check the variant, width and depth.',
    });
  }
  return layer;
}

const shapeText = (shape: readonly (number | null)[]) => `[${shape.join(', ')}]`;

/**
 * Sets every weight of one layer, in the layer's own order (tfjs order = Keras order: Conv2D
 * kernel, bias; BatchNormalization gamma, beta, moving_mean, moving_variance; Dense kernel, bias).
 * Shapes are checked before anything is written, so a mismatch leaves the layer unchanged.
 * Shared by every importer (torch safetensors, Keras .h5).
 */
export function setLayerWeights(model: tf.LayersModel, layerName: string, values: readonly WeightValue[]): void {
  const layer = findLayer(model, layerName);
  const weights = layer.weights;
  if (weights.length !== values.length) {
    throw new AppError(
      'weights-count-mismatch',
      `Layer '${layerName}' has ${weights.length} weights (${weights.map((w) => shapeText(w.shape)).join(', ')}) but ${values.length} were given`,
      { details: { layer: layerName, expected: weights.map((w) => w.shape), got: values.map((v) => v.shape) } },
    );
  }
  weights.forEach((weight, index) => {
    const value = values[index]!;
    const expected = weight.shape;
    const size = value.shape.reduce((product, d) => product * d, 1);
    const sameShape = expected.length === value.shape.length && expected.every((d, i) => d === value.shape[i]);
    if (!sameShape || size !== value.data.length) {
      throw new AppError(
        'weights-shape-mismatch',
        `Layer '${layerName}' weight ${index} (${weight.originalName ?? weight.name}) has shape ${shapeText(expected)} but the value has shape ${shapeText(value.shape)}` +
          (sameShape ? ` with ${value.data.length} numbers` : ''),
        {
          hint: 'The weights were made for a different variant, width or number of classes.',
          details: { layer: layerName, index, expected, got: value.shape },
        },
      );
    }
  });
  const tensors = values.map((value) => tf.tensor(value.data, [...value.shape], 'float32'));
  try {
    layer.setWeights(tensors);
  } finally {
    tf.dispose(tensors);
  }
}

/** Transposes a row-major array of `shape` by `permutation` (numpy's `transpose(perm)`). */
export function transposeData(data: Float32Array, shape: readonly number[], permutation: readonly number[]): WeightValue {
  const rank = shape.length;
  const outShape = permutation.map((axis) => shape[axis]!);
  const inStrides = new Array<number>(rank);
  let stride = 1;
  for (let axis = rank - 1; axis >= 0; axis--) {
    inStrides[axis] = stride;
    stride *= shape[axis]!;
  }
  // Stride in the input of each output axis.
  const strides = permutation.map((axis) => inStrides[axis]!);
  const out = new Float32Array(data.length);
  const index = new Array<number>(rank).fill(0);
  let source = 0;
  for (let target = 0; target < out.length; target++) {
    out[target] = data[source]!;
    for (let axis = rank - 1; axis >= 0; axis--) {
      index[axis]! += 1;
      source += strides[axis]!;
      if (index[axis]! < outShape[axis]!) break;
      source -= strides[axis]! * outShape[axis]!;
      index[axis] = 0;
    }
  }
  return { shape: outShape, data: out };
}
