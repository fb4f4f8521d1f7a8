/**
 * What a layer emitter sees while the ONNX writer walks the Keras graph: the layer (name, class,
 * config, weights), the ONNX values of its inputs, who consumes its output (for fusions), and the
 * graph to append to. Values carry their layout, because the graph is NCHW while Keras is NHWC.
 */
import type { OnnxGraph } from './graph.ts';

/** [top, left, bottom, right], the order ONNX Conv `pads` uses for 2-D (begins, then ends). */
export type Pads = readonly [number, number, number, number];

export interface OnnxValue {
  readonly name: string;
  /**
   * `nchw`: a Keras [N, H, W, C] map held as [N, C, H, W]; `pooled`: a Keras [N, C] vector held as
   * GlobalAveragePool's [N, C, 1, 1]; `flat`: a Keras [N, C] held as [N, C].
   */
  readonly layout: 'nchw' | 'pooled' | 'flat';
  readonly channels: number;
  /** Spatial size (nchw only), after `pads`. */
  readonly height: number;
  readonly width: number;
  /** Zero padding not yet applied: the next Conv takes it into its own `pads`; anything else materialises it. */
  readonly pads?: Pads;
  /** Set by a classifier whose softmax this value is: the pre-softmax value. */
  readonly logits?: string;
}

export interface KerasLayer {
  readonly name: string;
  readonly className: string;
  readonly config: Readonly<Record<string, unknown>>;
  /** Names of the layers whose outputs this layer takes, in order. */
  readonly inbound: readonly string[];
}

export interface LayerWeight {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

export interface EmitContext {
  readonly graph: OnnxGraph;
  readonly layer: KerasLayer;
  /** The values of the layer's inputs. */
  inputs(): OnnxValue[];
  /** The single input's value; throws for layers with several inputs. */
  input(): OnnxValue;
  /** Weights by their Keras name (`kernel`, `gamma`, `moving_variance`, …). */
  weight(name: string): LayerWeight | undefined;
  /** The one layer that consumes this layer's output, if exactly one does. */
  soleConsumer(): KerasLayer | undefined;
  /** Weights of another layer (the BatchNorm a convolution absorbs). */
  weightOf(layer: KerasLayer, name: string): LayerWeight | undefined;
  /** Marks `layer` as computed by this emitter: it gets this emitter's output and emits nothing itself. */
  absorb(layer: KerasLayer): void;
  /** The value's name with any pending zero padding applied (a Pad node). */
  materialize(value: OnnxValue): string;
}

/** Emits the ONNX nodes for one Keras layer and returns the value its output becomes. */
export type LayerEmitter = (context: EmitContext) => OnnxValue;
