/**
 * The ONNX protobuf messages, from the vendored schema `resources/onnx/onnx.proto3` (ONNX 1.12.0,
 * see its README) parsed at run time by protobufjs: no generated code to keep in step with the
 * schema, and field names stay the schema's snake_case (`keepCase`). The interfaces below type the
 * part of the schema the exporter writes and the tests read back.
 */
import protobuf from 'protobufjs';
import { readResource } from '../../node/resources.ts';

/** TensorProto.DataType values (onnx.proto3). */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, FLOAT16: 10 } as const;
export type DataTypeValue = (typeof DataType)[keyof typeof DataType];

/** AttributeProto.AttributeType values. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

export interface TensorProto {
  name: string;
  dims: number[];
  data_type: number;
  raw_data?: Uint8Array;
}

export interface AttributeProto {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  floats?: number[];
  ints?: number[];
}

export interface NodeProto {
  name: string;
  op_type: string;
  input: string[];
  output: string[];
  attribute: AttributeProto[];
  domain?: string;
}

export interface Dimension {
  dim_value?: number;
  dim_param?: string;
}

export interface ValueInfoProto {
  name: string;
  type: { tensor_type: { elem_type: number; shape: { dim: Dimension[] } } };
  doc_string?: string;
}

export interface GraphProto {
  name: string;
  node: NodeProto[];
  initializer: TensorProto[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  doc_string?: string;
}

export interface ModelProto {
  ir_version: number;
  opset_import: { domain: string; version: number }[];
  producer_name: string;
  producer_version: string;
  doc_string?: string;
  graph: GraphProto;
  metadata_props: { key: string; value: string }[];
}

let modelType: protobuf.Type | undefined;

function modelProtoType(): protobuf.Type {
  if (!modelType) {
    const source = readResource('onnx/onnx.proto3');
    modelType = protobuf.parse(source, { keepCase: true }).root.lookupType('onnx.ModelProto');
  }
  return modelType;
}

/** Serialises a model; throws when a field does not fit the schema (a bug in the exporter). */
export function encodeModel(model: ModelProto): Uint8Array {
  const type = modelProtoType();
  const problem = type.verify(model);
  if (problem) throw new Error(`ONNX ModelProto does not fit onnx.proto3: ${problem}`);
  return type.encode(type.fromObject(model)).finish();
}

/** Parses an .onnx file's bytes (int64 fields as numbers, bytes as Uint8Array views). */
export function decodeModel(bytes: Uint8Array): ModelProto {
  const type = modelProtoType();
  const message = type.decode(bytes);
  return type.toObject(message, { longs: Number, defaults: true, arrays: true }) as unknown as ModelProto;
}
