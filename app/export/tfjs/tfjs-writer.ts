/**
 * The tfjs export: a LayersModel folder (model.json + 4 MiB weight shards) that plain
 * `@tensorflow/tfjs` loads in a browser or in Node with no custom code. The app's model holds its
 * preprocessing in a custom `Normalization` layer, which plain tfjs cannot deserialize — the
 * "Unknown layer: Normalization" failure of Keras EfficientNets in tfjs (product-landscape §3.3.7,
 * [TFJS#7639][TFJS#3728]). So the export folds `rescaling` (x·1/255) and `normalization`
 * ((x − mean)/std) into ONE standard layer: a 1×1 DepthwiseConv2D named `normalization` with
 * kernel 1/(255·std) and bias −mean/std per channel. The input contract is unchanged (RGB 0–255),
 * no registration file is needed, and every tfjs version since 1.0 knows DepthwiseConv2D.
 *
 * Quantization uses tfjs' own weights-manifest quantization (`quantization: {dtype, min, scale}`,
 * decoded by tfjs-core's `decodeWeights` on load, the format tfjs-converter's --quantize_* writes).
 * Only convolution and dense kernels are quantized; BatchNorm statistics and biases (about 2% of
 * the bytes) stay float32, because a variance near zero amplifies any rounding of itself.
 */
import * as tf from '@tensorflow/tfjs';
import { AppError } from '../../common/errors.ts';
import { APP_VERSION } from '../../common/version.ts';
import { fileSystemHandler } from '../../model/fs-io.ts';
import { affineUint8, toFloat16, type Quantization } from '../quantize.ts';

export const TFJS_LABELS_FILE = 'labels.json';
const FOLDED_LAYER = 'normalization';

interface LayerJson {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  inbound_nodes: [string, number, number, Record<string, unknown>][][];
}

interface Topology {
  class_name: string;
  config: { name: string; layers: LayerJson[]; input_layers: unknown; output_layers: unknown };
}

export interface TfjsWriteOptions {
  readonly quantization: Quantization;
  readonly labels: readonly string[];
  /** Stored as model.json's userDefinedMetadata (tfjs: `model.getUserDefinedMetadata()`). */
  readonly userMetadata?: Record<string, unknown>;
}

/** Writes the export into `dir` (a new or empty folder). */
export async function writeTfjsExport(model: tf.LayersModel, dir: string, options: TfjsWriteOptions): Promise<void> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (saved) => {
      artifacts = saved;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!artifacts?.modelTopology || artifacts.modelTopology instanceof ArrayBuffer) throw new Error('tfjs did not return a JSON topology');
  const topology = structuredClone(artifacts.modelTopology) as unknown as Topology;
  const weights = readWeights(artifacts);
  foldPreprocessing(topology, weights);

  const specs: tf.io.WeightsManifestEntry[] = [];
  const chunks: Uint8Array[] = [];
  for (const [name, { shape, data }] of weights) {
    const spec: tf.io.WeightsManifestEntry = { name, shape: [...shape], dtype: 'float32' };
    const quantize = options.quantization !== 'none' && /\/(depthwise_)?kernel$/.test(name) && !name.startsWith(`${FOLDED_LAYER}/`);
    if (quantize && options.quantization === 'float16') {
      spec.quantization = { dtype: 'float16' };
      chunks.push(bytesOf(toFloat16(data)));
    } else if (quantize && options.quantization === 'uint8') {
      const q = affineUint8(data);
      spec.quantization = { dtype: 'uint8', min: q.min, scale: q.scale };
      chunks.push(q.data);
    } else {
      chunks.push(bytesOf(data));
    }
    specs.push(spec);
  }
  const weightData = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0));
  chunks.reduce((offset, chunk) => (weightData.set(chunk, offset), offset + chunk.byteLength), 0);

  const labels = `${JSON.stringify(options.labels, null, 2)}\n`;
  const handler = fileSystemHandler(dir, { extraFiles: { [TFJS_LABELS_FILE]: labels } });
  const result = await handler.save!({
    modelTopology: topology as unknown as tf.io.ModelArtifacts['modelTopology'],
    weightSpecs: specs,
    weightData: weightData.buffer,
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
    convertedBy: `EffNet Studio ${APP_VERSION}`,
    ...(options.userMetadata ? { userDefinedMetadata: options.userMetadata as Record<string, object> } : {}),
  });
  if (result.errors?.length) throw new AppError('export-failed', `Writing the tfjs model failed: ${result.errors.join('; ')}`);
}

type WeightMap = Map<string, { shape: number[]; data: Float32Array }>;

function readWeights(artifacts: tf.io.ModelArtifacts): WeightMap {
  const buffer = tf.io.CompositeArrayBuffer.join(artifacts.weightData ?? []);
  const weights: WeightMap = new Map();
  let offset = 0;
  for (const spec of artifacts.weightSpecs ?? []) {
    if (spec.dtype !== 'float32' || spec.quantization)
      throw new Error(`weight ${spec.name} is ${spec.dtype}; only float32 weights are exported`);
    const bytes = spec.shape.reduce((a, b) => a * b, 1) * 4;
    weights.set(spec.name, { shape: spec.shape, data: new Float32Array(buffer.slice(offset, offset + bytes)) });
    offset += bytes;
  }
  return weights;
}

/**
 * Replaces [Rescaling →] Normalization by one 1×1 DepthwiseConv2D: y = x·(s/σ) + (o − μ)/σ with
 * Rescaling's scale s and offset o, and σ = max(√variance, 1e-7) as the Normalization layer uses.
 */
export function foldPreprocessing(topology: Topology, weights: WeightMap): void {
  const layers = topology.config.layers;
  const index = layers.findIndex((layer) => layer.class_name === 'Normalization');
  if (index < 0) return;
  const normalization = layers[index]!;
  const mean = weights.get(`${normalization.name}/mean`)?.data;
  const variance = weights.get(`${normalization.name}/variance`)?.data;
  if (!mean || !variance) throw new Error(`the ${normalization.name} layer has no mean/variance weights`);
  let scale = 1;
  let offset = 0;
  const from = normalization.inbound_nodes[0]?.[0]?.[0];
  const rescaling = layers.find((layer) => layer.name === from && layer.class_name === 'Rescaling');
  const rescalingConsumers = layers.filter((layer) => layer.inbound_nodes.some((node) => node.some((entry) => entry[0] === from)));
  if (rescaling && rescalingConsumers.length === 1) {
    scale = rescaling.config.scale as number;
    offset = (rescaling.config.offset as number) ?? 0;
    normalization.inbound_nodes = rescaling.inbound_nodes;
    layers.splice(layers.indexOf(rescaling), 1);
  }
  const std = Array.from(variance, (v) => Math.max(Math.sqrt(v), 1e-7));
  const kernel = Float32Array.from(std, (s) => scale / s);
  const bias = Float32Array.from(std, (s, c) => (offset - mean[c]!) / s);
  normalization.class_name = 'DepthwiseConv2D';
  normalization.config = {
    name: normalization.name,
    trainable: false,
    kernel_size: [1, 1],
    strides: [1, 1],
    padding: 'valid',
    data_format: 'channels_last',
    dilation_rate: [1, 1],
    depth_multiplier: 1,
    activation: 'linear',
    use_bias: true,
  };
  for (const name of ['mean', 'variance', 'count']) weights.delete(`${normalization.name}/${name}`);
  // Map order is manifest order; tfjs matches weights by name, so appending is fine.
  weights.set(`${normalization.name}/depthwise_kernel`, { shape: [1, 1, std.length, 1], data: kernel });
  weights.set(`${normalization.name}/bias`, { shape: [std.length], data: bias });
}

function bytesOf(values: Float32Array | Uint16Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}
