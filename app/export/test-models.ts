/**
 * A small "trained" EfficientNet and a matching image set for export and classify tests, built in
 * a second without training. Test-only; not used by the app.
 *
 * - Every weight is drawn from a seeded generator (tfjs' initialisers are not seedable), so a test
 *   sees the same model on every run.
 * - Each BatchNorm's moving mean and variance are the batch statistics of its input on calibration
 *   images, as training leaves them; γ and β are moved off their defaults. With the defaults the
 *   signal fades block by block and every image gets the same prediction, which proves nothing;
 *   with non-default statistics, folding them (ONNX) is really exercised.
 * - The classifier is a nearest-class-mean classifier on the pooled features of colour-coded class
 *   images (`classImage`): like a trained model it is right, with a margin, on images of its
 *   classes, and uncertain on random inputs.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { createRandom } from '../common/random.ts';
import { makeSpec, type ModelSpec } from '../common/efficientnet/index.ts';
import { buildEfficientNet } from '../model/builder.ts';
import { saveModel } from '../model/model-format.ts';
import { encodeBmp } from '../image/test-images.ts';
import { randomImages } from './verification-inputs.ts';

/** Calibration images: enough that late layers (1×1 maps at 32 px) get stable statistics. */
const CALIBRATION_IMAGES = 48;
export const TEST_LABELS = ['daisy', 'dandelion', 'roses', 'sunflowers', 'tulips'];
/** One hue per class (RGB), so a class is recognisable from colour alone. */
const CLASS_COLOURS = [
  [240, 240, 235],
  [230, 210, 20],
  [210, 30, 40],
  [40, 160, 60],
  [50, 70, 200],
];

export function testSpec(overrides: Partial<ModelSpec> = {}): ModelSpec {
  return makeSpec('b0', { width: 0.25, depth: 0.25, resolution: 32, numClasses: TEST_LABELS.length, ...overrides });
}

/** An RGB (HWC, 0–255) image of class `label`: its colour, varied in brightness, with texture and noise. */
export function classImage(label: number, seed: number, width: number, height: number): Uint8Array {
  const random = createRandom(seed * 7919 + label);
  const colour = CLASS_COLOURS[label % CLASS_COLOURS.length]!;
  const brightness = 0.9 + 0.15 * random();
  const [fx, fy, phase] = [random() * 0.6, random() * 0.6, random() * 6.28];
  const pixels = new Uint8Array(width * height * 3);
  for (let y = 0, at = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const wave = 12 * Math.sin(fx * x + fy * y + phase);
      for (let c = 0; c < 3; c++)
        pixels[at++] = Math.min(255, Math.max(0, Math.round(colour[c]! * brightness + wave + (random() - 0.5) * 24)));
    }
  }
  return pixels;
}

/** `classImage` as PNG bytes (for test folders). */
export function classImagePng(label: number, seed: number, width = 40, height = 48): Promise<Buffer> {
  return sharp(classImage(label, seed, width, height), { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

export function buildTestModel(spec: ModelSpec, seed: number): tf.LayersModel {
  const model = buildEfficientNet(spec);
  const random = createRandom(seed);
  const uniform = (low: number, high: number) => low + (high - low) * random();
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const values = (length: number, make: (i: number) => number) => tf.tensor1d(Float32Array.from({ length }, (_, i) => make(i)));
  const size = spec.resolution;
  // Run the calibration images through the graph layer by layer (one pass), setting each layer's
  // weights just before it runs, so every BatchNorm sees the statistics of the layers before it.
  const topology = model.toJSON(null, false) as unknown as { config: { layers: { name: string; inbound_nodes: [string][][] }[] } };
  const outputs = new Map<string, tf.Tensor>();
  outputs.set(
    model.inputLayers[0]!.name,
    tf.tensor4d(randomImages(CALIBRATION_IMAGES, size, seed + 1), [CALIBRATION_IMAGES, size, size, 3]),
  );
  for (const { name, inbound_nodes } of topology.config.layers) {
    const layer = model.getLayer(name);
    const className = layer.getClassName();
    if (className === 'InputLayer') continue;
    const inputs = (inbound_nodes[0] ?? []).map((entry) => outputs.get(entry[0])!);
    if (className === 'Conv2D' || className === 'DepthwiseConv2D' || className === 'Dense') {
      // He-normal on the fan-in (all but the kernel's last axis; depthwise: the k×k window).
      const [kernel, ...rest] = layer.getWeights();
      const shape = kernel!.shape;
      const fanIn = className === 'DepthwiseConv2D' ? shape[0]! * shape[1]! : shape.slice(0, -1).reduce((a, b) => a * b, 1);
      const std = Math.sqrt(2 / fanIn);
      const weights = [
        tf.tensor(
          Float32Array.from({ length: kernel!.size }, () => normal() * std),
          shape,
        ),
        ...rest.map((bias) => values(bias.size, () => uniform(-0.3, 0.3))),
      ];
      layer.setWeights(weights);
      tf.dispose(weights);
    } else if (className === 'BatchNormalization') {
      const { mean, variance } = tf.moments(inputs[0]!, [0, 1, 2]);
      const [m, v] = [mean.dataSync(), variance.dataSync()];
      // gamma, beta, moving mean, moving variance (a little off the batch's, as running averages are).
      const weights = [
        values(m.length, () => uniform(0.7, 1.3)),
        values(m.length, () => uniform(-0.2, 0.2)),
        values(m.length, (i) => m[i]! + uniform(-0.05, 0.05) * Math.sqrt(v[i]!)),
        values(m.length, (i) => v[i]! * uniform(0.8, 1.25) + 1e-3),
      ];
      layer.setWeights(weights);
      tf.dispose([mean, variance, ...weights]);
    }
    outputs.set(name, layer.apply(inputs.length === 1 ? inputs[0]! : inputs, { training: false }) as tf.Tensor);
  }
  tf.dispose([...outputs.values()]);
  fitClassifier(model, spec, seed);
  return model;
}

/** Nearest class mean on the pooled features: logit_k = α(μ_k·f − |μ_k|²/2), standardised features. */
function fitClassifier(model: tf.LayersModel, spec: ModelSpec, seed: number): void {
  const perClass = 12;
  const size = spec.resolution;
  const classes = spec.numClasses;
  const pixels = new Float32Array(classes * perClass * size * size * 3);
  for (let k = 0, i = 0; k < classes; k++)
    for (let n = 0; n < perClass; n++, i++) pixels.set(classImage(k, seed + 100 + n, size, size), i * size * size * 3);
  const pooled = tf.model({ inputs: model.inputs, outputs: model.getLayer('avg_pool').output as tf.SymbolicTensor });
  const features = tf.tidy(() => pooled.predict(tf.tensor4d(pixels, [classes * perClass, size, size, 3])) as tf.Tensor2D);
  const [count, channels] = features.shape;
  const f = features.arraySync();
  features.dispose();
  const centre = Array.from({ length: channels }, (_, c) => f.reduce((sum, row) => sum + row[c]!, 0) / count);
  const spread = Array.from(
    { length: channels },
    (_, c) => Math.sqrt(f.reduce((sum, row) => sum + (row[c]! - centre[c]!) ** 2, 0) / count) + 1e-6,
  );
  const means = Array.from({ length: classes }, (_, k) =>
    Array.from(
      { length: channels },
      (_, c) => f.slice(k * perClass, (k + 1) * perClass).reduce((sum, row) => sum + (row[c]! - centre[c]!) / spread[c]!, 0) / perClass,
    ),
  );
  const alpha = 4 / channels;
  // f' = (f − centre)/spread, logit_k = α(μ_k·f' − |μ_k|²/2): fold the standardisation into W and b.
  const kernel = new Float32Array(channels * classes);
  const bias = new Float32Array(classes);
  for (let k = 0; k < classes; k++) {
    let offset = -0.5 * means[k]!.reduce((sum, m) => sum + m * m, 0);
    for (let c = 0; c < channels; c++) {
      kernel[c * classes + k] = (alpha * means[k]![c]!) / spread[c]!;
      offset -= (means[k]![c]! * centre[c]!) / spread[c]!;
    }
    bias[k] = alpha * offset;
  }
  const weights = [tf.tensor2d(kernel, [channels, classes]), tf.tensor1d(bias)];
  model.getLayer('predictions').setWeights(weights);
  tf.dispose(weights);
}

/** Builds and saves a test model in the app's format; returns the folder. */
export async function saveTestModel(dir: string, seed: number, spec: ModelSpec = testSpec()): Promise<string> {
  const model = buildTestModel(spec, seed);
  await saveModel(model, dir, {
    spec,
    labels: TEST_LABELS.slice(0, spec.numClasses),
    provenance: { runId: 'run-7', datasetFingerprint: 'sha256:feedface', source: 'test' },
  });
  model.dispose();
  return dir;
}

export interface MixedFolder {
  /** Readable images and their true class. */
  readonly images: readonly { readonly path: string; readonly label: string }[];
  /** Files with an image extension that cannot be decoded. */
  readonly broken: readonly string[];
  /** Files without an image extension (not read when a folder is listed). */
  readonly other: readonly string[];
}

/**
 * A folder of class images in every common format (PNG, JPEG, WebP, GIF, TIFF, BMP; nested, one
 * name with a comma and a quote), plus the broken files users have: an empty .jpg, a text file
 * named .jpg, a truncated PNG, and a non-image file.
 */
export async function writeMixedFolder(dir: string): Promise<MixedFolder> {
  const images: { path: string; label: string }[] = [];
  const write = async (relative: string, data: Uint8Array | string) => {
    const file = path.join(dir, ...relative.split('/'));
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, data);
    return file;
  };
  const formats: [string, (image: Sharp) => Sharp][] = [
    ['png', (image) => image.png()],
    ['jpg', (image) => image.jpeg({ quality: 95 })],
    ['webp', (image) => image.webp({ lossless: true })],
    ['gif', (image) => image.gif()],
    ['tiff', (image) => image.tiff()],
  ];
  for (let label = 0; label < TEST_LABELS.length; label++) {
    const [extension, encode] = formats[label % formats.length]!;
    const raw = classImage(label, 500 + label, 40, 48);
    const bytes = await encode(sharp(raw, { raw: { width: 40, height: 48, channels: 3 } })).toBuffer();
    const name = label === 2 ? `nested/deeper/"quoted", name.${extension}` : `${TEST_LABELS[label]}.${extension}`;
    images.push({ path: await write(name, bytes), label: TEST_LABELS[label]! });
  }
  const bmpRaw = classImage(1, 77, 24, 24);
  const bmpPixels = Array.from({ length: 24 * 24 }, (_, i) => [bmpRaw[i * 3]!, bmpRaw[i * 3 + 1]!, bmpRaw[i * 3 + 2]!, 255] as const);
  images.push({
    path: await write('nested/old.bmp', encodeBmp({ width: 24, height: 24, bitsPerPixel: 24, pixels: bmpPixels })),
    label: TEST_LABELS[1]!,
  });
  const png = await classImagePng(0, 9);
  const broken = [
    await write('broken/empty.jpg', new Uint8Array(0)),
    await write('broken/not-really.jpg', 'this is a text file, not a JPEG\n'),
    await write('broken/truncated.png', png.subarray(0, Math.floor(png.length * 0.6))),
  ];
  const other = [await write('notes.txt', 'field notes')];
  return { images, broken, other };
}
