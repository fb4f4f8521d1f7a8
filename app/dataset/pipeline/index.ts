/** The data pipeline: files in, augmented RGB batches out (see pipeline.ts), and the augmentation preview. */
export { DEFAULT_AUGMENT, EVAL_CROP_FRACTION, NO_AUGMENT, validateAugment, validatePipelineConfig } from './config.ts';
export type { AugmentConfig, PipelineConfig, PipelineMode, ToggleStrength } from './config.ts';
export { DataPipeline, DEFAULT_CACHE_BYTES, DEFAULT_PREFETCH_BATCHES, defaultWorkerCount, streamBatches } from './pipeline.ts';
export type { Batch, PipelineItem, PipelineOptions, PipelineStats, PipelineWarning } from './pipeline.ts';
export { renderPreviewGrid } from './preview.ts';
export type { PreviewCell, PreviewConfig, PreviewItem, PreviewOptions } from './preview.ts';
export { epochOrder } from './seeds.ts';
