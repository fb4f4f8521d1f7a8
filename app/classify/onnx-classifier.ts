/**
 * An exported ONNX model in onnxruntime-node (native, multi-threaded: classify's fast path). The
 * labels come from the model's own metadata_props, so the .onnx file alone is enough.
 */
import fs from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { AppError } from '../common/errors.ts';
import { decodeModel } from '../export/onnx/proto.ts';
import { ONNX_INPUT, ONNX_PROBABILITIES } from '../export/onnx/onnx-writer.ts';
import type { Classifier } from './classifier.ts';
import { onnxSessionOptions } from './onnx-session.ts';

export interface OnnxFileInfo {
  readonly labels: string[];
  readonly inputSize: number;
  readonly metadata: Record<string, string>;
}

/** Labels, input size and metadata_props of an .onnx file written by the exporter. */
export function readOnnxInfo(bytes: Uint8Array, file: string): OnnxFileInfo {
  let model;
  try {
    model = decodeModel(bytes);
  } catch (error) {
    throw new AppError('model-corrupt', `${file} is not an ONNX model: ${(error as Error).message}`, { hint: 'Export the model again.' });
  }
  const metadata = Object.fromEntries(model.metadata_props.map((entry) => [entry.key, entry.value]));
  let labels: unknown;
  try {
    labels = JSON.parse(metadata.labels ?? 'null');
  } catch {
    labels = null;
  }
  if (!Array.isArray(labels) || !labels.every((label) => typeof label === 'string')) {
    throw new AppError('model-metadata-invalid', `${file} has no class labels in its metadata_props.`, {
      hint: 'Only ONNX files written by `effnet export --format onnx` can be used here.',
    });
  }
  const input = model.graph.input.find((value) => value.name === ONNX_INPUT);
  const dims = input?.type.tensor_type.shape.dim ?? [];
  const size = Number(dims[1]?.dim_value ?? 0);
  if (dims.length !== 4 || !(size > 0) || Number(dims[3]?.dim_value) !== 3) {
    throw new AppError('model-invalid', `${file}: the input '${ONNX_INPUT}' is not NHWC RGB with a fixed size.`);
  }
  return { labels: labels as string[], inputSize: size, metadata };
}

export async function openOnnxFile(file: string): Promise<Classifier> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(file);
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new AppError(missing ? 'model-not-found' : 'model-unreadable', `${file} ${missing ? 'does not exist' : 'cannot be read'}.`, {
      cause: error,
    });
  }
  const info = readOnnxInfo(bytes, file);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, onnxSessionOptions());
  } catch (error) {
    throw new AppError('model-corrupt', `onnxruntime could not load ${file}: ${(error as Error).message}`, { cause: error });
  }
  const size = info.inputSize;
  return {
    labels: info.labels,
    inputSize: size,
    runtime: `onnxruntime-node ${ort.env.versions.node ?? ''}`.trim(),
    async predict(pixels, count) {
      const input = new ort.Tensor('float32', pixels, [count, size, size, 3]);
      const outputs = await session.run({ [ONNX_INPUT]: input }, [ONNX_PROBABILITIES]);
      const probabilities = outputs[ONNX_PROBABILITIES]!;
      const values = Float32Array.from(probabilities.data as Float32Array);
      probabilities.dispose();
      return values;
    },
    async dispose() {
      await session.release();
    },
  };
}
