import type * as tf from '@tensorflow/tfjs';
import type { Classifier } from '../classify/classifier.ts';
import type { ModelMetadata } from '../model/model-format.ts';
import type { Quantization } from './quantize.ts';

export const EXPORT_FORMATS = ['tfjs', 'onnx'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** The trained model being exported, loaded. */
export interface ExportSource {
  readonly model: tf.LayersModel;
  readonly metadata: ModelMetadata;
}

/** One deployment format: how to write it and how to load it back in its own runtime. */
export interface Exporter {
  readonly format: ExportFormat;
  readonly title: string;
  readonly quantizations: readonly Quantization[];
  /** What a runtime opens, relative to the export folder (`model.json`, `model.onnx`). */
  readonly artifact: string;
  /** Writes the artifact (and any file it needs beside it) into `dir`, an empty folder. */
  write(source: ExportSource, dir: string, quantization: Quantization): Promise<void>;
  /** Loads the written artifact in the format's own runtime, as a user of the export would. */
  open(dir: string): Promise<Classifier>;
  /** Markdown for the model card: how to load and call the artifact. */
  usage(info: UsageInfo): string;
}

export interface UsageInfo {
  readonly inputSize: number;
  readonly classes: number;
  /** The resize before the centre crop: the shorter side becomes this many pixels. */
  readonly resizeTo: number;
}
