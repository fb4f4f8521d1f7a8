import { HEAD_FILTERS, STEM_FILTERS } from './blocks.ts';
import { roundFilters, roundRepeats } from './scaling.ts';
import type { ModelSpec } from './spec.ts';

/** One MBConv block after scaling, with its Keras name prefix (`block2a_`). */
export interface ResolvedBlock {
  /** Keras prefix without the trailing underscore: `block1a`, `block6d`. */
  readonly name: string;
  readonly stage: number;
  readonly indexInStage: number;
  /** 0-based index over all blocks: drives the stochastic-depth rate. */
  readonly globalIndex: number;
  readonly kernelSize: number;
  readonly stride: 1 | 2;
  readonly filtersIn: number;
  readonly filtersOut: number;
  readonly expandRatio: number;
  /** filtersIn·expandRatio, unrounded (keras.applications does not round it). */
  readonly expandedFilters: number;
  /** SE bottleneck width: max(1, ⌊filtersIn·seRatio⌋), from the block *input* channels. */
  readonly seFilters: number;
  /** Residual connection: idSkip, stride 1 and filtersIn == filtersOut. */
  readonly hasSkip: boolean;
  /** Stochastic-depth rate; only meaningful when hasSkip. */
  readonly dropRate: number;
}

export interface ResolvedArchitecture {
  readonly stemFilters: number;
  readonly headFilters: number;
  readonly blocks: readonly ResolvedBlock[];
  readonly stageRepeats: readonly number[];
  readonly stageFilters: readonly number[];
}

/** Keras' block naming: `block{stage}{letter}`, letters a, b, c… within a stage. */
export function blockName(stage: number, indexInStage: number): string {
  return `block${stage}${String.fromCharCode(97 + indexInStage)}`;
}

/**
 * The scaled block list, exactly as keras.applications' EfficientNet loop builds it: only a
 * stage's first block takes its stride and input width; the drop rate rises linearly with the
 * global block index over the *scaled* block count (§1.4 of efficientnet-facts.md).
 */
export function resolveArchitecture(spec: Pick<ModelSpec, 'width' | 'depth' | 'stages' | 'dropConnectRate'>): ResolvedArchitecture {
  const stageRepeats = spec.stages.map((stage) => roundRepeats(stage.repeats, spec.depth));
  const totalBlocks = stageRepeats.reduce((sum, n) => sum + n, 0);
  const blocks: ResolvedBlock[] = [];
  spec.stages.forEach((stage, stageIndex) => {
    const stageIn = roundFilters(stage.filtersIn, spec.width);
    const stageOut = roundFilters(stage.filtersOut, spec.width);
    for (let j = 0; j < stageRepeats[stageIndex]!; j++) {
      const filtersIn = j === 0 ? stageIn : stageOut;
      const stride = j === 0 ? stage.stride : 1;
      const globalIndex = blocks.length;
      blocks.push({
        name: blockName(stageIndex + 1, j),
        stage: stageIndex + 1,
        indexInStage: j,
        globalIndex,
        kernelSize: stage.kernelSize,
        stride,
        filtersIn,
        filtersOut: stageOut,
        expandRatio: stage.expandRatio,
        expandedFilters: filtersIn * stage.expandRatio,
        seFilters: stage.seRatio > 0 ? Math.max(1, Math.floor(filtersIn * stage.seRatio)) : 0,
        hasSkip: stage.idSkip && stride === 1 && filtersIn === stageOut,
        dropRate: (spec.dropConnectRate * globalIndex) / totalBlocks,
      });
    }
  });
  return {
    stemFilters: roundFilters(STEM_FILTERS, spec.width),
    headFilters: roundFilters(HEAD_FILTERS, spec.width),
    blocks,
    stageRepeats,
    stageFilters: spec.stages.map((stage) => roundFilters(stage.filtersOut, spec.width)),
  };
}

/** Output size of a stride-s convolution under TF-SAME or symmetric k//2 padding: both give ⌈n/s⌉. */
export function convOutputSize(size: number, stride: number): number {
  return Math.ceil(size / stride);
}

/**
 * (before, after) zero padding of a stride-2 layer. `same` is keras' `correct_pad`, which equals
 * TF-SAME for a static size: even inputs pad (k//2 − 1, k//2). `symmetric` is torchvision's k//2.
 */
export function stridePadding(inputSize: number, kernelSize: number, padding: ModelSpec['padding']): [number, number] {
  const half = Math.floor(kernelSize / 2);
  if (padding === 'symmetric') return [half, half];
  const adjust = 1 - (inputSize % 2);
  return [half - adjust, half];
}
