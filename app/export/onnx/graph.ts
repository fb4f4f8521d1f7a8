/**
 * A small ONNX graph under construction: nodes in emission order (which is topological, because
 * the exporter walks the Keras layers in order), initializers, and unique value names. Weights go
 * through `weight()`, the one place quantization is applied, so every Conv/Gemm weight is treated
 * the same way.
 */
import type { Quantization } from '../quantize.ts';
import { perChannelUint8, toFloat16 } from '../quantize.ts';
import { AttributeType, DataType, type AttributeProto, type DataTypeValue, type NodeProto, type TensorProto } from './proto.ts';

export type AttributeValue = number | readonly number[] | string;

export class OnnxGraph {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly used = new Set<string>();

  constructor(
    readonly quantization: Quantization,
    reserved: readonly string[] = [],
  ) {
    for (const name of reserved) this.used.add(name);
  }

  /** `base`, or `base_2`, `base_3`… when taken. Value and node names share one namespace here. */
  unique(base: string): string {
    let name = base;
    for (let i = 2; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  /**
   * Appends a node and returns its (first) output name. Integer numbers become INT attributes,
   * arrays INTS, strings STRING (none of the ops used needs a float attribute).
   */
  node(opType: string, inputs: readonly string[], outputName: string, attributes: Readonly<Record<string, AttributeValue>> = {}): string {
    const output = this.unique(outputName);
    this.nodes.push({
      name: this.unique(`${outputName}/${opType}`),
      op_type: opType,
      input: [...inputs],
      output: [output],
      attribute: Object.entries(attributes).map(([name, value]) => attribute(name, value)),
    });
    return output;
  }

  /** A float32 initializer, never quantized (biases, BN-derived constants, preprocessing). */
  constant(name: string, data: Float32Array, dims: readonly number[]): string {
    return this.tensor(name, DataType.FLOAT, dims, data);
  }

  int64(name: string, values: readonly number[]): string {
    return this.tensor(
      name,
      DataType.INT64,
      [values.length],
      BigInt64Array.from(values, (v) => BigInt(v)),
    );
  }

  /**
   * A Conv/Gemm weight, stored as the export's quantization asks: float32; float16 + Cast (half the
   * bytes, computed in float32 so every runtime's float kernels run it); or uint8 per output channel
   * (`channelAxis`) + DequantizeLinear (a quarter of the bytes; weight-only, activations stay float).
   */
  weight(name: string, data: Float32Array, dims: readonly number[], channelAxis: number): string {
    switch (this.quantization) {
      case 'none':
        return this.constant(name, data, dims);
      case 'float16': {
        const half = this.tensor(`${name}_float16`, DataType.FLOAT16, dims, toFloat16(data));
        return this.node('Cast', [half], name, { to: DataType.FLOAT });
      }
      case 'uint8': {
        const q = perChannelUint8(data, dims, channelAxis);
        const quantized = this.tensor(`${name}_quantized`, DataType.UINT8, dims, q.data);
        const scale = this.tensor(`${name}_scale`, DataType.FLOAT, [q.scales.length], q.scales);
        const zeroPoint = this.tensor(`${name}_zero_point`, DataType.UINT8, [q.zeroPoints.length], q.zeroPoints);
        return this.node('DequantizeLinear', [quantized, scale, zeroPoint], name, { axis: channelAxis });
      }
    }
  }

  private tensor(
    base: string,
    dataType: DataTypeValue,
    dims: readonly number[],
    data: Float32Array | Uint16Array | Uint8Array | BigInt64Array,
  ): string {
    const count = dims.reduce((a, b) => a * b, 1);
    if (count !== data.length) throw new Error(`ONNX initializer ${base}: ${data.length} values for dims [${dims.join(', ')}]`);
    const name = this.unique(base);
    // raw_data is little-endian, as typed arrays are on every platform the app runs on.
    const raw = new Uint8Array(data.byteLength);
    raw.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    this.initializers.push({ name, dims: [...dims], data_type: dataType, raw_data: raw });
    return name;
  }
}

function attribute(name: string, value: AttributeValue): AttributeProto {
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`ONNX attribute ${name}: ${value} is not an integer`);
    return { name, type: AttributeType.INT, i: value };
  }
  return { name, type: AttributeType.INTS, ints: [...value] };
}
