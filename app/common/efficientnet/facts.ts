import { convOutputSize, resolveArchitecture, type ResolvedArchitecture } from './architecture.ts';
import type { ModelSpec } from './spec.ts';

export interface ModelFacts {
  readonly trainableParams: number;
  /** BatchNorm moving statistics, plus the preprocessing layer's mean, variance and count. */
  readonly nonTrainableParams: number;
  readonly totalParams: number;
  /** Multiply-accumulates of every convolution and dense layer for one image (BN, activations, pooling excluded). */
  readonly macs: number;
  readonly resolution: number;
  readonly featureMapSize: number;
  readonly featureChannels: number;
  readonly blocks: number;
  readonly batchNormLayers: number;
}

/** Weights of the preprocessing Normalization layer: mean (3), variance (3), count (1), as Keras stores them. */
export const NORMALIZATION_WEIGHTS = 7;

type FactsSpec = Pick<
  ModelSpec,
  'width' | 'depth' | 'stages' | 'dropConnectRate' | 'resolution' | 'numClasses' | 'includeTop' | 'preprocessing'
>;

/**
 * Parameters and MACs computed from the resolved table alone, without building tensors, so the
 * UI can show them for every variant instantly. Counting follows keras' `count_params()`: BN has
 * γ, β trainable and moving mean/variance non-trainable.
 */
export function modelFacts(spec: FactsSpec, resolution: number = spec.resolution): ModelFacts {
  const arch: ResolvedArchitecture = resolveArchitecture(spec);
  let trainable = 0;
  let movingStats = 0;
  let macs = 0;
  let batchNormLayers = 0;
  const batchNorm = (channels: number) => {
    trainable += 2 * channels;
    movingStats += 2 * channels;
    batchNormLayers += 1;
  };
  const conv = (outSize: number, kernel: number, channelsIn: number, channelsOut: number, bias: boolean) => {
    trainable += kernel * kernel * channelsIn * channelsOut + (bias ? channelsOut : 0);
    macs += outSize * outSize * kernel * kernel * channelsIn * channelsOut;
  };

  let size = convOutputSize(resolution, 2);
  conv(size, 3, 3, arch.stemFilters, false);
  batchNorm(arch.stemFilters);

  for (const block of arch.blocks) {
    const expanded = block.expandedFilters;
    if (block.expandRatio !== 1) {
      conv(size, 1, block.filtersIn, expanded, false);
      batchNorm(expanded);
    }
    size = convOutputSize(size, block.stride);
    // Depthwise: one k×k filter per channel.
    trainable += block.kernelSize * block.kernelSize * expanded;
    macs += size * size * block.kernelSize * block.kernelSize * expanded;
    batchNorm(expanded);
    if (block.seFilters > 0) {
      conv(1, 1, expanded, block.seFilters, true);
      conv(1, 1, block.seFilters, expanded, true);
    }
    conv(size, 1, expanded, block.filtersOut, false);
    batchNorm(block.filtersOut);
  }

  const lastChannels = arch.blocks.at(-1)?.filtersOut ?? arch.stemFilters;
  conv(size, 1, lastChannels, arch.headFilters, false);
  batchNorm(arch.headFilters);

  if (spec.includeTop) {
    trainable += arch.headFilters * spec.numClasses + spec.numClasses;
    macs += arch.headFilters * spec.numClasses;
  }
  const nonTrainable = movingStats + (spec.preprocessing === 'imagenet' ? NORMALIZATION_WEIGHTS : 0);
  return {
    trainableParams: trainable,
    nonTrainableParams: nonTrainable,
    totalParams: trainable + nonTrainable,
    macs,
    resolution,
    featureMapSize: size,
    featureChannels: arch.headFilters,
    blocks: arch.blocks.length,
    batchNormLayers,
  };
}
