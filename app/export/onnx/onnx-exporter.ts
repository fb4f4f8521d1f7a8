import path from 'node:path';
import { openOnnxFile } from '../../classify/onnx-classifier.ts';
import { writeDurably } from '../files.ts';
import { deploymentPreprocessing } from '../model-card.ts';
import { QUANTIZATIONS } from '../quantize.ts';
import type { Exporter, UsageInfo } from '../types.ts';
import type { LayerEmitter } from './context.ts';
import { buildOnnxModel, ONNX_INPUT, ONNX_LOGITS, ONNX_OPSET, ONNX_PROBABILITIES } from './onnx-writer.ts';
import { encodeModel } from './proto.ts';

export const ONNX_FILE = 'model.onnx';

/**
 * The ONNX exporter. Quantization, both weight-only so onnxruntime's plain float kernels run it
 * everywhere (CPU, WebAssembly, WebGPU) and activations keep full precision:
 * `float16` stores Conv/Gemm weights as FLOAT16 initializers followed by Cast (half the size);
 * `uint8` stores them per output channel with DequantizeLinear (a quarter of the size). Integer
 * kernels (ConvInteger/QLinearConv) were not chosen: they quantize activations too, which costs
 * EfficientNet accuracy (product-landscape §3.8 [Coral#636]) and needs calibration images.
 * `emitters` replaces the layer table (tests use a broken one to show the parity check fails).
 */
export function createOnnxExporter(options: { emitters?: Readonly<Record<string, LayerEmitter>> } = {}): Exporter {
  return {
    format: 'onnx',
    title: `ONNX (opset ${ONNX_OPSET}), NHWC input with preprocessing inside`,
    quantizations: QUANTIZATIONS,
    artifact: ONNX_FILE,
    async write(source, dir, quantization) {
      const { spec, labels, provenance } = source.metadata;
      const metadata: Record<string, string> = {
        labels: JSON.stringify(labels),
        preprocessing: JSON.stringify(deploymentPreprocessing(source.metadata)),
        spec: JSON.stringify(spec),
        quantization,
        ...(provenance ? { provenance: JSON.stringify(provenance) } : {}),
      };
      const proto = buildOnnxModel(source.model, {
        quantization,
        metadata,
        emitters: options.emitters,
        docString: `EfficientNet-${spec.variant} classifier of ${labels.length} classes exported by EffNet Studio.`,
      });
      await writeDurably(path.join(dir, ONNX_FILE), encodeModel(proto));
    },
    open: (dir) => openOnnxFile(path.join(dir, ONNX_FILE)),
    usage: onnxUsage,
  };
}

export const onnxExporter = createOnnxExporter();

function onnxUsage({ inputSize, resizeTo, classes }: UsageInfo): string {
  return `Input \`${ONNX_INPUT}\`: float32 [batch, ${inputSize}, ${inputSize}, 3], RGB in 0–255 (shorter side resized to ${resizeTo}, centre crop ${inputSize}); the normalisation is inside the graph.
Outputs: \`${ONNX_PROBABILITIES}\` and \`${ONNX_LOGITS}\`, both [batch, ${classes}], classes in the order of \`labels.json\` (also in the model's metadata_props \`labels\`).

### Node (onnxruntime-node)

\`\`\`js
import * as ort from 'onnxruntime-node';

const session = await ort.InferenceSession.create('/path/to/this/folder/${ONNX_FILE}');
const input = new ort.Tensor('float32', pixels, [1, ${inputSize}, ${inputSize}, 3]); // pixels: Float32Array, RGB 0–255
const { ${ONNX_PROBABILITIES} } = await session.run({ ${ONNX_INPUT}: input });
\`\`\`

### Browser (onnxruntime-web)

\`\`\`js
import * as ort from 'onnxruntime-web';

const session = await ort.InferenceSession.create('https://example.com/models/this-folder/${ONNX_FILE}');
const { ${ONNX_PROBABILITIES} } = await session.run({ ${ONNX_INPUT}: new ort.Tensor('float32', pixels, [1, ${inputSize}, ${inputSize}, 3]) });
\`\`\`

### Python (onnxruntime)

\`\`\`python
import onnxruntime as ort
session = ort.InferenceSession("${ONNX_FILE}")
probabilities, logits = session.run(None, {"${ONNX_INPUT}": pixels})  # pixels: np.float32 [N, ${inputSize}, ${inputSize}, 3], RGB 0-255
\`\`\``;
}
