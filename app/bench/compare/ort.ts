import * as ort from 'onnxruntime-node';
import { buildOnnxModel, ONNX_INPUT } from '../../export/onnx/onnx-writer.ts';
import { encodeModel, type ModelProto } from '../../export/onnx/proto.ts';
import { randomImages } from '../../export/verification-inputs.ts';
import { buildEfficientNet } from '../../model/builder.ts';
import { median, type BenchRow } from './rows.ts';
import { onnxSessionOptions } from '../../classify/onnx-session.ts';

export interface OrtMeasurement {
  readonly version: string;
  /** Images/s from the median batch time, with the session options below. */
  readonly rate: number;
  readonly batchMs: readonly number[];
  readonly options: ort.InferenceSession.SessionOptions;
  /** The same graph with onnxruntime's default session options. */
  readonly defaultOptionsRate: number;
  /** The graph without its input Transpose, fed NCHW: what an NCHW export would gain. */
  readonly nchwInputRate: number;
  /** One intra-op thread: on a machine busy with other work, fewer threads can be faster. */
  readonly oneThreadRate: number;
  /** Worker threads that sleep instead of spinning while they wait (session.intra_op.allow_spinning 0). */
  readonly noSpinningRate: number;
  /** Node counts by operator in the exported graph. */
  readonly operators: Readonly<Record<string, number>>;
}

/** The benchmark runs exported models exactly as the app does (app/classify/onnx-session.ts). */
export function sessionOptions(threads: number): ort.InferenceSession.SessionOptions {
  return onnxSessionOptions(threads);
}

/** The exported graph with its leading NHWC→NCHW Transpose removed and the input declared NCHW. */
export function withNchwInput(model: ModelProto): ModelProto {
  const copy = structuredClone(model);
  const first = copy.graph.node[0]!;
  if (first.op_type !== 'Transpose' || first.input[0] !== ONNX_INPUT)
    throw new Error('the exported graph does not start with its input Transpose');
  const transposed = first.output[0]!;
  copy.graph.node = copy.graph.node
    .slice(1)
    .map((node) => ({ ...node, input: node.input.map((name) => (name === transposed ? ONNX_INPUT : name)) }));
  const dims = copy.graph.input[0]!.type!.tensor_type!.shape!.dim!;
  copy.graph.input[0]!.type!.tensor_type!.shape!.dim = [dims[0]!, dims[3]!, dims[1]!, dims[2]!];
  return copy;
}

interface Variant {
  readonly bytes: Uint8Array;
  readonly options: ort.InferenceSession.SessionOptions;
  readonly input: ort.Tensor;
}

/**
 * Milliseconds per batch of each variant, their batches interleaved (a, b, c, a, b, c, …) so that a
 * neighbour's load on a shared machine falls on all of them alike. One warm-up batch each, untimed.
 */
async function timeSessions(variants: readonly Variant[], batches: number): Promise<number[][]> {
  const sessions: ort.InferenceSession[] = [];
  try {
    for (const variant of variants) sessions.push(await ort.InferenceSession.create(variant.bytes, variant.options));
    const times = variants.map(() => [] as number[]);
    for (let i = -1; i < batches; i++) {
      for (const [j, session] of sessions.entries()) {
        const started = performance.now();
        await session.run({ [ONNX_INPUT]: variants[j]!.input });
        if (i >= 0) times[j]!.push(performance.now() - started);
      }
    }
    return times;
  } finally {
    for (const session of sessions) await session.release();
  }
}

/**
 * onnxruntime-node inference of `row`'s model exported by app/export's ONNX writer (random weights:
 * speed does not depend on them), one warm-up batch not timed.
 */
export async function measureOrt(row: BenchRow, threads: number, batches: number): Promise<OrtMeasurement> {
  const model = buildEfficientNet(row.spec);
  let proto: ModelProto;
  try {
    proto = buildOnnxModel(model, { quantization: 'none' });
  } finally {
    model.dispose();
  }
  const operators: Record<string, number> = {};
  for (const node of proto.graph.node) operators[node.op_type] = (operators[node.op_type] ?? 0) + 1;
  const pixels = randomImages(row.batch, row.size, 1);
  const nhwc = new ort.Tensor('float32', pixels, [row.batch, row.size, row.size, 3]);
  const bytes = encodeModel(proto);
  const options = sessionOptions(threads);
  // Only the speed matters for the NCHW variant, so the NHWC pixels are fed as if NCHW (same element count).
  const nchw = new ort.Tensor('float32', pixels, [row.batch, 3, row.size, row.size]);
  const [batchMs, defaultMs, nchwMs, oneThreadMs, noSpinningMs] = await timeSessions(
    [
      { bytes, options, input: nhwc },
      { bytes, options: {}, input: nhwc },
      { bytes: encodeModel(withNchwInput(proto)), options, input: nchw },
      { bytes, options: { ...options, intraOpNumThreads: 1 }, input: nhwc },
      { bytes, options: { ...options, extra: { session: { intra_op: { allow_spinning: '0' } } } }, input: nhwc },
    ],
    batches,
  );
  const rate = (times: readonly number[]) => (row.batch * 1000) / median(times);
  return {
    version: ort.env.versions.node ?? ort.env.versions.common ?? '?',
    rate: rate(batchMs!),
    batchMs: batchMs!,
    options,
    defaultOptionsRate: rate(defaultMs!),
    nchwInputRate: rate(nchwMs!),
    oneThreadRate: rate(oneThreadMs!),
    noSpinningRate: rate(noSpinningMs!),
    operators,
  };
}
