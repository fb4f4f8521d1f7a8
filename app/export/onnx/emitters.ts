/**
 * Keras layer class → ONNX nodes (STYLE.md §3: one table; the ONNX test walks a model that uses
 * every entry). The graph is NCHW after the input Transpose, so channel constants are [1, C, 1, 1]
 * and Keras' channel axis (last) is ONNX axis 1. Keras padding is made explicit: ZeroPadding2D and
 * 'same' become the next Conv's asymmetric `pads` (TF-SAME puts the odd pixel bottom/right).
 */
import { AppError } from '../../common/errors.ts';
import type { EmitContext, KerasLayer, LayerEmitter, LayerWeight, OnnxValue, Pads } from './context.ts';

export const LAYER_EMITTERS: Readonly<Record<string, LayerEmitter>> = {
  InputLayer: () => {
    throw new Error('the input layer is emitted by the writer');
  },
  Rescaling: (context) => {
    const x = context.input();
    const { scale, offset } = context.layer.config as { scale: number; offset: number };
    let name = context.graph.node('Mul', [context.materialize(x), scalar(context, 'scale', scale)], context.layer.name);
    if (offset !== 0) name = context.graph.node('Add', [name, scalar(context, 'offset', offset)], `${context.layer.name}_offset`);
    return { ...x, name, pads: undefined };
  },
  Normalization: (context) => {
    // (x − mean) / max(√variance, 1e-7), exactly as the app's Normalization layer computes it.
    const x = context.input();
    const mean = required(context, 'mean').data;
    const variance = required(context, 'variance').data;
    const std = Float32Array.from(variance, (v) => Math.max(Math.sqrt(v), 1e-7));
    const centred = context.graph.node(
      'Sub',
      [context.materialize(x), channelConstant(context, x, 'mean', mean)],
      `${context.layer.name}_centred`,
    );
    return {
      ...x,
      pads: undefined,
      name: context.graph.node('Div', [centred, channelConstant(context, x, 'std', std)], context.layer.name),
    };
  },
  ZeroPadding2D: (context) => {
    const x = context.input();
    const [[top, bottom], [left, right]] = context.layer.config.padding as [[number, number], [number, number]];
    const pads = addPads(x.pads, [top, left, bottom, right]);
    return { ...x, pads, height: x.height + top + bottom, width: x.width + left + right };
  },
  Conv2D: (context) => convolution(context, false),
  DepthwiseConv2D: (context) => convolution(context, true),
  BatchNormalization: (context) => {
    // A BatchNorm no convolution absorbed: y = x·s + t per channel.
    const x = context.input();
    const { scale, shift } = batchNormAffine(context, context.layer);
    const scaled = context.graph.node(
      'Mul',
      [context.materialize(x), channelConstant(context, x, 'scale', scale)],
      `${context.layer.name}_scaled`,
    );
    return {
      ...x,
      pads: undefined,
      name: context.graph.node('Add', [scaled, channelConstant(context, x, 'shift', shift)], context.layer.name),
    };
  },
  Activation: (context) => activation(context, context.input(), context.layer.config.activation as string, context.layer.name),
  GlobalAveragePooling2D: (context) => pool(context, 'GlobalAveragePool'),
  GlobalMaxPooling2D: (context) => pool(context, 'GlobalMaxPool'),
  Reshape: (context) => {
    // Only the squeeze-and-excitation reshape [C] → [1, 1, C]: in NCHW that is [N, C, 1, 1].
    const x = context.input();
    const target = context.layer.config.target_shape as number[];
    if (!(target.length === 3 && target[0] === 1 && target[1] === 1 && target[2] === x.channels && x.layout !== 'nchw')) {
      throw unsupported(context.layer, `Reshape to [${target.join(', ')}] from a ${x.layout} value`);
    }
    const name =
      x.layout === 'pooled'
        ? x.name
        : context.graph.node('Unsqueeze', [x.name, context.graph.int64(`${context.layer.name}_axes`, [2, 3])], context.layer.name);
    return { ...x, name, layout: 'nchw', height: 1, width: 1 };
  },
  Multiply: (context) => elementwise(context, 'Mul'),
  Add: (context) => elementwise(context, 'Add'),
  // Identity at inference (stochastic depth and the top dropout only act while training).
  Dropout: (context) => context.input(),
  Dense: (context) => {
    const x = context.input();
    if (x.layout === 'nchw') throw unsupported(context.layer, 'Dense on a feature map');
    const input = x.layout === 'pooled' ? context.graph.node('Flatten', [x.name], `${context.layer.name}_flatten`, { axis: 1 }) : x.name;
    const kernel = required(context, 'kernel');
    const units = kernel.shape[1]!;
    // Gemm: A [N, in] · B [in, out] + C; per-output-channel quantization runs along B's axis 1.
    const inputs = [input, context.graph.weight(`${context.layer.name}_kernel`, kernel.data, kernel.shape, 1)];
    const bias = context.weight('bias');
    if (context.layer.config.use_bias !== false && bias)
      inputs.push(context.graph.constant(`${context.layer.name}_bias`, bias.data, bias.shape));
    const logits = context.graph.node('Gemm', inputs, `${context.layer.name}_logits`);
    const value: OnnxValue = { name: logits, layout: 'flat', channels: units, height: 1, width: 1 };
    return activation(context, value, context.layer.config.activation as string, context.layer.name);
  },
};

/** Conv2D or DepthwiseConv2D with any zero padding before it and the BatchNorm after it folded in. */
function convolution(context: EmitContext, depthwise: boolean): OnnxValue {
  const { layer, graph } = context;
  const config = layer.config as {
    kernel_size: [number, number];
    strides: [number, number];
    dilation_rate: [number, number] | number;
    padding: 'same' | 'valid';
    activation: string;
    use_bias: boolean;
  };
  const x = context.input();
  if (x.layout !== 'nchw') throw unsupported(layer, 'a convolution of a pooled vector');
  const [kh, kw] = config.kernel_size;
  const [sh, sw] = config.strides;
  const [dh, dw] = typeof config.dilation_rate === 'number' ? [config.dilation_rate, config.dilation_rate] : config.dilation_rate;
  const kernel = required(context, depthwise ? 'depthwise_kernel' : 'kernel');
  const [, , channelsIn, last] = kernel.shape as [number, number, number, number];
  const channelsOut = depthwise ? channelsIn * last : last;
  const weights = depthwise ? depthwiseToOihw(kernel) : kernelToOihw(kernel);
  const bias = new Float64Array(channelsOut);
  const ownBias = config.use_bias ? context.weight('bias') : undefined;
  if (ownBias) bias.set(ownBias.data);

  const own =
    config.padding === 'same'
      ? [samePads(x.height, kh, sh, dh), samePads(x.width, kw, sw, dw)]
      : [
          [0, 0],
          [0, 0],
        ];
  const pads = addPads(x.pads, [own[0]![0]!, own[1]![0]!, own[0]![1]!, own[1]![1]!]);
  const height = Math.floor((x.height - (x.pads ? x.pads[0] + x.pads[2] : 0) + pads[0] + pads[2] - dh * (kh - 1) - 1) / sh) + 1;
  const width = Math.floor((x.width - (x.pads ? x.pads[1] + x.pads[3] : 0) + pads[1] + pads[3] - dw * (kw - 1) - 1) / sw) + 1;

  // BatchNorm folding (y = s·(W∗x + b) + t): scale each output channel's filter, shift its bias.
  let name = layer.name;
  const next = context.soleConsumer();
  if (config.activation === 'linear' && next?.className === 'BatchNormalization' && isChannelAxis(next)) {
    const { scale, shift } = batchNormAffine(context, next);
    const perFilter = weights.length / channelsOut;
    for (let o = 0; o < channelsOut; o++) {
      for (let i = o * perFilter; i < (o + 1) * perFilter; i++) weights[i] = weights[i]! * scale[o]!;
      bias[o] = bias[o]! * scale[o]! + shift[o]!;
    }
    context.absorb(next);
    name = next.name;
  }
  const dims = depthwise ? [channelsOut, 1, kh, kw] : [channelsOut, channelsIn, kh, kw];
  const inputs = [x.name, graph.weight(`${layer.name}_weight`, Float32Array.from(weights), dims, 0)];
  if (ownBias || name !== layer.name) inputs.push(graph.constant(`${layer.name}_bias`, Float32Array.from(bias), [channelsOut]));
  const output = graph.node('Conv', inputs, name, {
    kernel_shape: [kh, kw],
    strides: [sh, sw],
    pads: [...pads],
    dilations: [dh, dw],
    group: depthwise ? channelsIn : 1,
  });
  const value: OnnxValue = { name: output, layout: 'nchw', channels: channelsOut, height, width };
  return activation(context, value, config.activation, `${layer.name}_activation`);
}

/** Keras activation functions as ONNX ops; swish is x·sigmoid(x) (Ramachandran et al. 2017). */
function activation(context: EmitContext, x: OnnxValue, kind: string, name: string): OnnxValue {
  const { graph } = context;
  const input = context.materialize(x);
  switch (kind) {
    case 'linear':
      return x;
    case 'swish': {
      const gate = graph.node('Sigmoid', [input], `${name}_sigmoid`);
      return { ...x, pads: undefined, name: graph.node('Mul', [input, gate], name) };
    }
    case 'sigmoid':
      return { ...x, pads: undefined, name: graph.node('Sigmoid', [input], name) };
    case 'relu':
      return { ...x, pads: undefined, name: graph.node('Relu', [input], name) };
    case 'tanh':
      return { ...x, pads: undefined, name: graph.node('Tanh', [input], name) };
    case 'softmax':
      // Keras' softmax runs over the last (channel) axis, ONNX axis 1 in every layout used here.
      return { ...x, pads: undefined, logits: input, name: graph.node('Softmax', [input], name, { axis: 1 }) };
    default:
      throw unsupported(context.layer, `the activation '${kind}'`);
  }
}

function pool(context: EmitContext, op: 'GlobalAveragePool' | 'GlobalMaxPool'): OnnxValue {
  const x = context.input();
  const name = context.graph.node(op, [context.materialize(x)], context.layer.name);
  return { name, layout: 'pooled', channels: x.channels, height: 1, width: 1 };
}

function elementwise(context: EmitContext, op: 'Mul' | 'Add'): OnnxValue {
  const values = context.inputs();
  const names = values.map((value) => context.materialize(value));
  let name = names[0]!;
  for (let i = 1; i < names.length; i++)
    name = context.graph.node(op, [name, names[i]!], i === names.length - 1 ? context.layer.name : `${context.layer.name}_${i}`);
  // NCHW [N, C, H, W] · [N, C, 1, 1] broadcasts; the result has the larger operand's shape.
  const widest = values.reduce((a, b) => (b.height * b.width > a.height * a.width ? b : a));
  return { ...widest, name, pads: undefined, logits: undefined };
}

/** Per-channel y = x·scale + shift of a BatchNormalization at inference, in float64. */
export function batchNormAffine(context: EmitContext, layer: KerasLayer): { scale: Float64Array; shift: Float64Array } {
  const get = (name: string) => context.weightOf(layer, name);
  const mean = get('moving_mean');
  const variance = get('moving_variance');
  if (!mean || !variance) throw unsupported(layer, 'a BatchNormalization without moving statistics');
  const epsilon = layer.config.epsilon as number;
  const gamma = layer.config.scale === false ? undefined : get('gamma');
  const beta = layer.config.center === false ? undefined : get('beta');
  const scale = new Float64Array(mean.data.length);
  const shift = new Float64Array(mean.data.length);
  for (let c = 0; c < scale.length; c++) {
    scale[c] = (gamma ? gamma.data[c]! : 1) / Math.sqrt(variance.data[c]! + epsilon);
    shift[c] = (beta ? beta.data[c]! : 0) - mean.data[c]! * scale[c]!;
  }
  return { scale, shift };
}

function isChannelAxis(layer: KerasLayer): boolean {
  const axis = layer.config.axis;
  const value = Array.isArray(axis) ? axis[0] : axis;
  return value === -1 || value === 3;
}

/** TF-SAME: output ceil(in/stride); the total padding is split with the odd pixel after. */
export function samePads(size: number, kernel: number, stride: number, dilation: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

function addPads(a: Pads | undefined, b: Pads): Pads {
  return a ? [a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]] : b;
}

/** Keras [kh, kw, in, out] → ONNX [out, in, kh, kw]. */
function kernelToOihw({ data, shape }: LayerWeight): Float64Array {
  const [kh, kw, cin, cout] = shape as [number, number, number, number];
  const out = new Float64Array(data.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++) out[((o * cin + i) * kh + y) * kw + x] = data[((y * kw + x) * cin + i) * cout + o]!;
  return out;
}

/** Keras depthwise [kh, kw, C, m] → ONNX grouped [C·m, 1, kh, kw] (output channel c·m + j). */
function depthwiseToOihw({ data, shape }: LayerWeight): Float64Array {
  const [kh, kw, channels, multiplier] = shape as [number, number, number, number];
  const out = new Float64Array(data.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let c = 0; c < channels; c++)
        for (let j = 0; j < multiplier; j++)
          out[((c * multiplier + j) * kh + y) * kw + x] = data[((y * kw + x) * channels + c) * multiplier + j]!;
  return out;
}

function scalar(context: EmitContext, suffix: string, value: number): string {
  return context.graph.constant(`${context.layer.name}_${suffix}`, Float32Array.of(value), []);
}

function channelConstant(context: EmitContext, x: OnnxValue, suffix: string, values: ArrayLike<number>): string {
  const dims = x.layout === 'flat' ? [values.length] : [1, values.length, 1, 1];
  return context.graph.constant(`${context.layer.name}_${suffix}`, Float32Array.from(values), dims);
}

function required(context: EmitContext, name: string): LayerWeight {
  const weight = context.weight(name);
  if (!weight) throw unsupported(context.layer, `a layer without its '${name}' weight`);
  return weight;
}

export function unsupported(layer: KerasLayer, what: string): AppError {
  return new AppError(
    'export-unsupported',
    `ONNX export: layer '${layer.name}' (${layer.className}) uses ${what}, which the exporter does not support.`,
    {
      hint: 'Export to tfjs instead, or report the model that needs it.',
    },
  );
}
