/**
 * Classification speed of EfficientNet-B0 at 224 px (1000 classes, random weights: speed does not
 * depend on them) through every tfjs backend that loads here and through onnxruntime-node, on the
 * same inputs. Preprocessing is excluded: this is the model's throughput, images per second.
 */
import * as ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendName } from '../backend/ladder.ts';
import { makeSpec } from '../common/efficientnet/index.ts';
import { buildOnnxModel } from '../export/onnx/onnx-writer.ts';
import { encodeModel } from '../export/onnx/proto.ts';
import { randomImages } from '../export/verification-inputs.ts';
import { buildEfficientNet } from '../model/builder.ts';
import type { Benchmark, BenchFigure } from './types.ts';

const SPEC = makeSpec('b0');
const SIZE = SPEC.resolution;
const BATCH = 8;
/** Plain-JavaScript tfjs needs seconds per image at 224 px: one image per batch keeps the run short. */
const BATCH_BY_BACKEND: Partial<Record<string, number>> = { cpu: 1 };
/** Keep measuring until this much time has passed (after one warm-up batch), at least two batches. */
const MEASURE_MS = 4000;

async function imagesPerSecond(run: () => Promise<void>, batch: number): Promise<{ rate: number; batches: number }> {
  await run();
  let batches = 0;
  const started = performance.now();
  while (batches < 2 || performance.now() - started < MEASURE_MS) {
    await run();
    batches++;
  }
  return { rate: (batches * batch * 1000) / (performance.now() - started), batches };
}

export const classifyBenchmark: Benchmark = {
  name: 'classify',
  description: 'EfficientNet-B0 224 px classification, images/s per tfjs backend and onnxruntime-node',
  async run() {
    const figures: BenchFigure[] = [];
    const skipped: string[] = [];
    const pixels = randomImages(BATCH, SIZE, 1);
    let onnx: Uint8Array | undefined;
    for (const rung of ['gpu', 'node', 'wasm', 'cpu'] as BackendName[]) {
      let device: string;
      try {
        device = (await initBackend({ env: { ...process.env, EFFNET_BACKEND: rung } })).device;
      } catch (error) {
        skipped.push(`tfjs ${rung}: ${(error as Error).message.split('\n')[0]}`);
        continue;
      }
      const model = buildEfficientNet(SPEC);
      onnx ??= encodeModel(buildOnnxModel(model, { quantization: 'none' }));
      const batch = BATCH_BY_BACKEND[tf.getBackend()] ?? BATCH;
      const input = tf.tensor4d(pixels.subarray(0, batch * SIZE * SIZE * 3), [batch, SIZE, SIZE, 3]);
      const { rate, batches } = await imagesPerSecond(async () => {
        const y = model.predict(input) as tf.Tensor;
        await y.data();
        y.dispose();
      }, batch);
      figures.push({
        bench: 'classify',
        case: `B0 224px tfjs ${tf.getBackend()} batch ${batch}`,
        value: rate,
        unit: 'images/s',
        note: `${device}; ${batches} batches`,
      });
      input.dispose();
      model.dispose();
    }
    if (!onnx) return { figures, skipped: [...skipped, 'onnxruntime-node: no tfjs backend could build the model to export'] };
    const session = await ort.InferenceSession.create(onnx);
    for (const batch of [BATCH, 1]) {
      const tensor = new ort.Tensor('float32', pixels.subarray(0, batch * SIZE * SIZE * 3), [batch, SIZE, SIZE, 3]);
      const { rate, batches } = await imagesPerSecond(async () => {
        await session.run({ input: tensor });
      }, batch);
      figures.push({
        bench: 'classify',
        case: `B0 224px onnxruntime-node batch ${batch}`,
        value: rate,
        unit: 'images/s',
        note: `${ort.env.versions.node}; ${batches} batches`,
      });
    }
    await session.release();
    return { figures, skipped };
  },
};
