import * as tf from '@tensorflow/tfjs';
import { convOutputSize, resolveArchitecture, stridePadding, type ModelSpec, type ResolvedBlock } from '../common/efficientnet/index.ts';
import { Normalization, registerEffnetLayers } from './layers.ts';

/**
 * keras.applications' CONV_KERNEL_INITIALIZER is VarianceScaling(2, fan_out, truncated normal),
 * whose truncated normal is rescaled by 1/0.8796 so the variance stays 2/fan_out. tfjs 4.22 has no
 * such correction, and 'truncatedNormal' silently falls into its *uniform* branch: 'normal' is the
 * truncated one, so the scale carries the correction (efficientnet-facts §1.9).
 */
const TRUNCATED_NORMAL_STDDEV = 0.8796256610342398;
const convInitializer = () =>
  tf.initializers.varianceScaling({ scale: 2 / TRUNCATED_NORMAL_STDDEV ** 2, mode: 'fanOut', distribution: 'normal' });
/** DENSE_KERNEL_INITIALIZER: uniform ±√(1/classes). */
const denseInitializer = () => tf.initializers.varianceScaling({ scale: 1 / 3, mode: 'fanOut', distribution: 'uniform' });

/** tfjs types noiseShape as number[], but its Dropout takes null for "this input's size" (the batch). */
const PER_SAMPLE_NOISE = [null, 1, 1, 1] as unknown as number[];

/** `efficientnetb0`, `efficientnetphi_-1`: keras.applications' model name, made safe for tfjs. */
export function modelName(spec: Pick<ModelSpec, 'variant'>): string {
  return `efficientnet${spec.variant}`.replace(/[^A-Za-z0-9_-]/g, '_');
}

/**
 * EfficientNet as a tfjs LayersModel, layer for layer as keras.applications builds it and with
 * its layer names (efficientnet-facts §1.6; efficientnet-b0-layers.md), so Keras .h5, torchvision
 * and timm weights map by name. One loop over the resolved block table; nothing is variant-specific.
 * Input: [batch, R, R, 3], RGB 0–255 with `preprocessing: 'imagenet'`, already normalised with 'none'.
 */
export function buildEfficientNet(spec: ModelSpec): tf.LayersModel {
  registerEffnetLayers();
  const arch = resolveArchitecture(spec);
  const bn = (name: string) => tf.layers.batchNormalization({ axis: 3, momentum: spec.bnMomentum, epsilon: spec.bnEpsilon, name });
  const swish = (name: string) => tf.layers.activation({ activation: 'swish', name });
  const conv1x1 = (filters: number, name: string) =>
    tf.layers.conv2d({ filters, kernelSize: 1, padding: 'same', useBias: false, kernelInitializer: convInitializer(), name });
  /**
   * Keras pads stride-2 layers explicitly and convolves 'valid'. `same` pads as correct_pad does
   * (TF-SAME: the extra row/column at the bottom/right on even sizes); `symmetric` pads k//2 on
   * each side as torchvision and timm's efficientnet_bX do. The layer exists in both modes so the
   * names and layer count do not depend on the padding.
   */
  const stridePad = (size: number, kernelSize: number, name: string) => {
    const [before, after] = stridePadding(size, kernelSize, spec.padding);
    return tf.layers.zeroPadding2d({
      padding: [
        [before, after],
        [before, after],
      ],
      name,
    });
  };

  const input = tf.input({ shape: [spec.resolution, spec.resolution, 3], name: 'input_layer' });
  let x: tf.SymbolicTensor = input;
  if (spec.preprocessing === 'imagenet') {
    x = apply(tf.layers.rescaling({ scale: 1 / 255, name: 'rescaling' }), x);
    x = apply(new Normalization({ name: 'normalization' }), x);
  }

  x = apply(stridePad(spec.resolution, 3, 'stem_conv_pad'), x);
  x = apply(
    tf.layers.conv2d({
      filters: arch.stemFilters,
      kernelSize: 3,
      strides: 2,
      padding: 'valid',
      useBias: false,
      kernelInitializer: convInitializer(),
      name: 'stem_conv',
    }),
    x,
  );
  x = apply(bn('stem_bn'), x);
  x = apply(swish('stem_activation'), x);

  let size = convOutputSize(spec.resolution, 2);
  for (const block of arch.blocks) {
    x = mbConv(x, block, size);
    size = convOutputSize(size, block.stride);
  }

  x = apply(conv1x1(arch.headFilters, 'top_conv'), x);
  x = apply(bn('top_bn'), x);
  x = apply(swish('top_activation'), x);

  if (spec.includeTop) {
    x = apply(tf.layers.globalAveragePooling2d({ name: 'avg_pool' }), x);
    if (spec.dropout > 0) x = apply(tf.layers.dropout({ rate: spec.dropout, name: 'top_dropout' }), x);
    x = apply(
      tf.layers.dense({
        units: spec.numClasses,
        activation: spec.classifierActivation,
        kernelInitializer: denseInitializer(),
        name: 'predictions',
      }),
      x,
    );
  } else if (spec.pooling === 'avg') {
    x = apply(tf.layers.globalAveragePooling2d({ name: 'avg_pool' }), x);
  } else if (spec.pooling === 'max') {
    x = apply(tf.layers.globalMaxPooling2d({ name: 'max_pool' }), x);
  }
  return tf.model({ inputs: input, outputs: x, name: modelName(spec) });

  /** keras.applications' `block()`: expand → depthwise → squeeze-excite → project → residual. */
  function mbConv(inputs: tf.SymbolicTensor, block: ResolvedBlock, inputSize: number): tf.SymbolicTensor {
    const prefix = `${block.name}_`;
    const filters = block.expandedFilters;
    let h = inputs;
    if (block.expandRatio !== 1) {
      h = apply(conv1x1(filters, `${prefix}expand_conv`), h);
      h = apply(bn(`${prefix}expand_bn`), h);
      h = apply(swish(`${prefix}expand_activation`), h);
    }
    if (block.stride === 2) h = apply(stridePad(inputSize, block.kernelSize, `${prefix}dwconv_pad`), h);
    h = apply(
      tf.layers.depthwiseConv2d({
        kernelSize: block.kernelSize,
        strides: block.stride,
        padding: block.stride === 2 ? 'valid' : 'same',
        useBias: false,
        depthwiseInitializer: convInitializer(),
        name: `${prefix}dwconv`,
      }),
      h,
    );
    h = apply(bn(`${prefix}bn`), h);
    h = apply(swish(`${prefix}activation`), h);

    if (block.seFilters > 0) {
      let se = apply(tf.layers.globalAveragePooling2d({ name: `${prefix}se_squeeze` }), h);
      se = apply(tf.layers.reshape({ targetShape: [1, 1, filters], name: `${prefix}se_reshape` }), se);
      const seConv = (units: number, activation: 'swish' | 'sigmoid', name: string) =>
        tf.layers.conv2d({
          filters: units,
          kernelSize: 1,
          padding: 'same',
          activation,
          useBias: true,
          kernelInitializer: convInitializer(),
          name,
        });
      se = apply(seConv(block.seFilters, 'swish', `${prefix}se_reduce`), se);
      se = apply(seConv(filters, 'sigmoid', `${prefix}se_expand`), se);
      h = tf.layers.multiply({ name: `${prefix}se_excite` }).apply([h, se]) as tf.SymbolicTensor;
    }

    h = apply(conv1x1(block.filtersOut, `${prefix}project_conv`), h);
    h = apply(bn(`${prefix}project_bn`), h);
    if (block.hasSkip) {
      // Stochastic depth: drop the whole residual branch per sample, only while training.
      if (block.dropRate > 0) {
        h = apply(tf.layers.dropout({ rate: block.dropRate, noiseShape: PER_SAMPLE_NOISE, name: `${prefix}drop` }), h);
      }
      h = tf.layers.add({ name: `${prefix}add` }).apply([h, inputs]) as tf.SymbolicTensor;
    }
    return h;
  }
}

function apply(layer: tf.layers.Layer, x: tf.SymbolicTensor): tf.SymbolicTensor {
  return layer.apply(x) as tf.SymbolicTensor;
}
