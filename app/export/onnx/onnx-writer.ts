/**
 * A tfjs EfficientNet as an ONNX model, written by walking the Keras layers by name and class
 * (LAYER_EMITTERS) — no Python, no tf2onnx (product-landscape §3.3.8). The graph takes what the app
 * takes: NHWC float32 RGB in 0–255, a dynamic `batch`, preprocessing inside; it returns
 * `probabilities` and `logits`. BatchNorm is folded into the convolutions, zero padding becomes
 * explicit Conv `pads`, and a Transpose to NCHW comes first (ONNX's Conv is NCHW only).
 */
import type * as tf from '@tensorflow/tfjs';
import { APP_VERSION } from '../../common/version.ts';
import type { Quantization } from '../quantize.ts';
import type { EmitContext, KerasLayer, LayerEmitter, LayerWeight, OnnxValue } from './context.ts';
import { LAYER_EMITTERS, unsupported } from './emitters.ts';
import { OnnxGraph } from './graph.ts';
import { DataType, type ModelProto, type ValueInfoProto } from './proto.ts';

/** Opset 13 (ONNX 1.8, 2020): per-axis DequantizeLinear, Softmax over one axis; every runtime since onnxruntime 1.6 runs it. */
export const ONNX_OPSET = 13;
/** The IR version that introduced opset 13. */
export const ONNX_IR_VERSION = 7;
export const ONNX_INPUT = 'input';
export const ONNX_PROBABILITIES = 'probabilities';
export const ONNX_LOGITS = 'logits';

export interface OnnxBuildOptions {
  readonly quantization: Quantization;
  /** `key → value` strings for ModelProto.metadata_props (labels, preprocessing, …). */
  readonly metadata?: Readonly<Record<string, string>>;
  readonly docString?: string;
  /** The layer table; tests pass a deliberately wrong one to prove the parity check catches it. */
  readonly emitters?: Readonly<Record<string, LayerEmitter>>;
}

interface RawLayer {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  inbound_nodes: [string, number, number, unknown][][];
}

export function buildOnnxModel(model: tf.LayersModel, options: OnnxBuildOptions): ModelProto {
  const topology = model.toJSON(null, false) as unknown as {
    config: { layers: RawLayer[]; input_layers: [string, number, number][]; output_layers: [string, number, number][] };
  };
  const layers: KerasLayer[] = topology.config.layers.map((raw) => {
    const layer = {
      name: raw.name,
      className: raw.class_name,
      config: raw.config,
      inbound: (raw.inbound_nodes[0] ?? []).map((entry) => entry[0]),
    };
    if (raw.inbound_nodes.length > 1) throw unsupported(layer, 'shared weights (it is called more than once)');
    return layer;
  });
  if (topology.config.input_layers.length !== 1 || topology.config.output_layers.length !== 1) {
    throw unsupported(
      layers[0]!,
      `${topology.config.input_layers.length} inputs and ${topology.config.output_layers.length} outputs (one of each is needed)`,
    );
  }
  const byName = new Map(layers.map((layer) => [layer.name, layer]));
  const consumers = new Map<string, KerasLayer[]>();
  for (const layer of layers) for (const from of layer.inbound) consumers.set(from, [...(consumers.get(from) ?? []), layer]);

  const emitters = options.emitters ?? LAYER_EMITTERS;
  const graph = new OnnxGraph(options.quantization, [ONNX_INPUT, ONNX_PROBABILITIES, ONNX_LOGITS]);
  const values = new Map<string, OnnxValue>();
  const absorbed = new Set<string>();
  const weightCache = new Map<string, Map<string, LayerWeight>>();
  const weightsOf = (layer: KerasLayer) => {
    let weights = weightCache.get(layer.name);
    if (!weights) {
      weights = new Map();
      for (const variable of model.getLayer(layer.name).weights) {
        const data = variable.read().dataSync() as Float32Array;
        weights.set(variable.originalName.split('/').at(-1)!, { data: Float32Array.from(data), shape: variable.shape as number[] });
      }
      weightCache.set(layer.name, weights);
    }
    return weights;
  };
  const materialize = (value: OnnxValue): string => {
    if (!value.pads?.some((p) => p > 0)) return value.name;
    const [top, left, bottom, right] = value.pads;
    return graph.node(
      'Pad',
      [value.name, graph.int64(`${value.name}_pads`, [0, 0, top, left, 0, 0, bottom, right])],
      `${value.name}_padded`,
    );
  };

  let inputShape: number[] = [];
  for (const layer of layers) {
    if (absorbed.has(layer.name)) continue;
    if (layer.className === 'InputLayer') {
      inputShape = (layer.config.batch_input_shape as (number | null)[]).slice(1) as number[];
      const [height, width, channels] = inputShape as [number, number, number];
      const name = graph.node('Transpose', [ONNX_INPUT], `${layer.name}_nchw`, { perm: [0, 3, 1, 2] });
      values.set(layer.name, { name, layout: 'nchw', channels, height, width });
      continue;
    }
    const emit = emitters[layer.className];
    if (!emit) throw unsupported(layer, 'a layer class');
    const taken: KerasLayer[] = [];
    const inputs = () =>
      layer.inbound.map((from) => {
        const value = values.get(from);
        if (!value) throw new Error(`ONNX export: '${layer.name}' reads '${from}', which has no value yet`);
        return value;
      });
    const context: EmitContext = {
      graph,
      layer,
      inputs,
      input: () => {
        const all = inputs();
        if (all.length !== 1) throw unsupported(layer, `${all.length} inputs where one is expected`);
        return all[0]!;
      },
      weight: (name) => weightsOf(layer).get(name),
      weightOf: (other, name) => weightsOf(other).get(name),
      soleConsumer: () => {
        const list = consumers.get(layer.name) ?? [];
        return list.length === 1 ? list[0] : undefined;
      },
      absorb: (other) => taken.push(other),
      materialize,
    };
    const value = emit(context);
    values.set(layer.name, value);
    for (const other of taken) {
      if (!byName.has(other.name)) throw new Error(`ONNX export: '${layer.name}' absorbed unknown layer '${other.name}'`);
      absorbed.add(other.name);
      values.set(other.name, value);
    }
  }

  const outputLayer = topology.config.output_layers[0]![0];
  let result = values.get(outputLayer)!;
  if (result.layout === 'pooled') {
    result = { ...result, layout: 'flat', name: graph.node('Flatten', [result.name], `${outputLayer}_flatten`, { axis: 1 }) };
  }
  if (result.layout !== 'flat') throw unsupported(byName.get(outputLayer)!, 'a feature map as the output (export needs a classifier)');
  const logits = result.logits ?? result.name;
  const probabilities = result.logits ? result.name : graph.node('Softmax', [logits], 'softmax', { axis: 1 });
  rename(graph, logits, ONNX_LOGITS);
  rename(graph, probabilities, ONNX_PROBABILITIES);

  const classes = result.channels;
  return {
    ir_version: ONNX_IR_VERSION,
    opset_import: [{ domain: '', version: ONNX_OPSET }],
    producer_name: 'EffNet Studio',
    producer_version: APP_VERSION,
    doc_string: options.docString ?? '',
    graph: {
      name: model.name,
      node: graph.nodes,
      initializer: graph.initializers,
      input: [valueInfo(ONNX_INPUT, ['batch', ...inputShape], 'NHWC float32 RGB in 0–255 (normalised inside the graph)')],
      output: [
        valueInfo(ONNX_PROBABILITIES, ['batch', classes], 'softmax over the classes, in the order of metadata_props "labels"'),
        valueInfo(ONNX_LOGITS, ['batch', classes], 'pre-softmax scores'),
      ],
    },
    metadata_props: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
  };
}

function rename(graph: OnnxGraph, from: string, to: string): void {
  for (const node of graph.nodes) {
    node.input = node.input.map((name) => (name === from ? to : name));
    node.output = node.output.map((name) => (name === from ? to : name));
  }
}

function valueInfo(name: string, dims: readonly (number | string)[], doc: string): ValueInfoProto {
  return {
    name,
    doc_string: doc,
    type: {
      tensor_type: {
        elem_type: DataType.FLOAT,
        shape: { dim: dims.map((dim) => (typeof dim === 'string' ? { dim_param: dim } : { dim_value: dim })) },
      },
    },
  };
}
