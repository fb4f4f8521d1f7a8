import { openExportedTfjs } from '../../classify/tfjs-classifier.ts';
import { MODEL_JSON } from '../../model/fs-io.ts';
import { QUANTIZATIONS } from '../quantize.ts';
import type { Exporter, UsageInfo } from '../types.ts';
import { TFJS_LABELS_FILE, writeTfjsExport } from './tfjs-writer.ts';

export const tfjsExporter: Exporter = {
  format: 'tfjs',
  title: 'TensorFlow.js LayersModel (browser and Node, no custom layers)',
  quantizations: QUANTIZATIONS,
  artifact: MODEL_JSON,
  async write(source, dir, quantization) {
    const { spec, labels, preprocessing } = source.metadata;
    await writeTfjsExport(source.model, dir, {
      quantization,
      labels,
      userMetadata: { labels, preprocessing, variant: spec.variant, quantization },
    });
  },
  open: (dir) => openExportedTfjs(dir),
  usage: tfjsUsage,
};

/**
 * A Node program that loads the export with plain `@tensorflow/tfjs` (no tfjs-node, no custom
 * layers). tfjs has no file:// loader without tfjs-node, so the files are read and handed to
 * `tf.io.fromMemory`. The export tests run exactly this code in a separate Node process.
 */
export function nodeLoadSnippet(dir: string): string {
  return `import fs from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';

const dir = ${JSON.stringify(dir)};
const modelJson = JSON.parse(await fs.readFile(path.join(dir, '${MODEL_JSON}'), 'utf8'));
const weightSpecs = modelJson.weightsManifest.flatMap((group) => group.weights);
const shards = await Promise.all(modelJson.weightsManifest.flatMap((group) => group.paths).map((file) => fs.readFile(path.join(dir, file))));
const weightData = new Uint8Array(Buffer.concat(shards)).buffer;
const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs, weightData }));
const labels = JSON.parse(await fs.readFile(path.join(dir, '${TFJS_LABELS_FILE}'), 'utf8'));`;
}

function tfjsUsage({ inputSize, resizeTo }: UsageInfo): string {
  return `### Node (plain \`@tensorflow/tfjs\`, no native addon)

\`\`\`js
${nodeLoadSnippet('/path/to/this/folder')}

// pixels: Float32Array of ${inputSize}×${inputSize}×3 RGB values in 0–255 (shorter side resized to ${resizeTo}, centre crop ${inputSize}).
const probabilities = await model.predict(tf.tensor4d(pixels, [1, ${inputSize}, ${inputSize}, 3])).data();
const best = probabilities.indexOf(Math.max(...probabilities));
console.log(labels[best], probabilities[best]);
\`\`\`

With \`@tensorflow/tfjs-node\` installed, \`tf.loadLayersModel('file:///path/to/this/folder/model.json')\` works too.

### Browser

\`\`\`js
import * as tf from '@tensorflow/tfjs';

const model = await tf.loadLayersModel('https://example.com/models/this-folder/model.json');
const labels = await (await fetch('https://example.com/models/this-folder/labels.json')).json();
// image: an <img> or <canvas> already cropped to a square (centre crop after resizing the shorter side to ${resizeTo}).
const x = tf.tidy(() => tf.image.resizeBilinear(tf.browser.fromPixels(image), [${inputSize}, ${inputSize}], true).toFloat().expandDims(0));
const probabilities = await model.predict(x).data();
\`\`\`

The input is RGB in 0–255: do **not** divide by 255 or subtract a mean; the first layer (\`normalization\`) does it.`;
}
