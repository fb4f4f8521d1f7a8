import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AppError } from '../common/errors.ts';

/**
 * The safetensors format (huggingface/safetensors; fixtures/README.md): an 8-byte little-endian
 * header length, a JSON header `{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?}`,
 * then the raw little-endian tensor bytes, offsets relative to the end of the header.
 */
export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

const BYTES_PER_ELEMENT: Record<SafetensorsDtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};
/** Dtypes `encodeSafetensors` writes. */
export type WritableDtype = 'F32' | 'F16' | 'BF16' | 'I64';

export interface SafeTensor {
  /** The dtype stored in the file; `data` is always converted to float32 (integers exact up to 2^24). */
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export interface SafetensorsContents {
  readonly tensors: Map<string, SafeTensor>;
  /** The header's optional `__metadata__` (string → string). */
  readonly metadata: Record<string, string>;
}

/** Reads a .safetensors file (path) or its bytes into name → tensor, in header order. */
export function readSafetensors(source: string | Uint8Array, label?: string): Map<string, SafeTensor> {
  return parseSafetensors(source, label).tensors;
}

export function parseSafetensors(
  source: string | Uint8Array,
  label = typeof source === 'string' ? source : 'safetensors data',
): SafetensorsContents {
  let bytes: Uint8Array;
  if (typeof source === 'string') {
    try {
      bytes = readFileSync(source);
    } catch (error) {
      throw new AppError('file-unreadable', `Cannot read ${source}: ${(error as Error).message}`, { cause: error });
    }
  } else {
    bytes = source;
  }
  const corrupt = (what: string) =>
    new AppError('safetensors-corrupt', `${label} is not a valid safetensors file: ${what}`, {
      hint: 'The file may be truncated (an interrupted download) or in another format (.pt, .bin, .h5); download it again or convert it to safetensors.',
    });

  if (bytes.byteLength < 8) throw corrupt(`it has ${bytes.byteLength} bytes, fewer than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > bytes.byteLength - 8) {
    throw corrupt(`the header claims ${headerLength} bytes but only ${bytes.byteLength - 8} follow`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)));
  } catch (error) {
    throw corrupt(`the header is not JSON (${(error as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw corrupt('the header is not a JSON object');

  const dataStart = 8 + headerLength;
  const dataLength = bytes.byteLength - dataStart;
  const tensors = new Map<string, SafeTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = (entry ?? {}) as Record<string, string>;
      continue;
    }
    const info = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = info?.dtype as SafetensorsDtype;
    if (!(typeof dtype === 'string' && dtype in BYTES_PER_ELEMENT)) {
      throw new AppError('safetensors-dtype', `${label}: tensor '${name}' has unsupported dtype ${JSON.stringify(info?.dtype)}`, {
        hint: `Supported dtypes: ${Object.keys(BYTES_PER_ELEMENT).join(', ')}.`,
      });
    }
    const shape = info.shape;
    const offsets = info.data_offsets;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw corrupt(`tensor '${name}' has a bad shape`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0)) {
      throw corrupt(`tensor '${name}' has bad data_offsets`);
    }
    const [begin, end] = offsets as [number, number];
    const elements = shape.reduce((product: number, d: number) => product * d, 1);
    if (end > dataLength) throw corrupt(`tensor '${name}' ends at byte ${end} of ${dataLength} data bytes (truncated file?)`);
    if (end - begin !== elements * BYTES_PER_ELEMENT[dtype]) {
      throw corrupt(`tensor '${name}' has ${end - begin} bytes for shape [${shape.join(', ')}] of ${dtype}`);
    }
    const raw = bytes.subarray(dataStart + begin, dataStart + end);
    tensors.set(name, { dtype, shape: shape as number[], data: toFloat32(raw, dtype, elements) });
  }
  return { tensors, metadata };
}

function toFloat32(raw: Uint8Array, dtype: SafetensorsDtype, elements: number): Float32Array {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = new Float32Array(elements);
  switch (dtype) {
    case 'F32':
      // Copy into a fresh buffer (a Node Buffer's slice() would not copy): offsets need not be 4-byte aligned.
      return new Float32Array(new Uint8Array(raw).buffer);
    case 'F64':
      for (let i = 0; i < elements; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    case 'F16':
      for (let i = 0; i < elements; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      return out;
    case 'BF16': {
      // bfloat16 is the top half of a float32.
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < elements; i++) bits[i] = view.getUint16(i * 2, true) << 16;
      return out;
    }
    case 'I64':
      for (let i = 0; i < elements; i++) out[i] = Number(view.getBigInt64(i * 8, true));
      return out;
    case 'I32':
      for (let i = 0; i < elements; i++) out[i] = view.getInt32(i * 4, true);
      return out;
    case 'I16':
      for (let i = 0; i < elements; i++) out[i] = view.getInt16(i * 2, true);
      return out;
    case 'I8':
      for (let i = 0; i < elements; i++) out[i] = view.getInt8(i);
      return out;
    case 'U8':
    case 'BOOL':
      for (let i = 0; i < elements; i++) out[i] = view.getUint8(i);
      return out;
  }
}

/** IEEE 754 binary16 → number (subnormals, infinities and NaN included). */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** number → IEEE 754 binary16, rounding to nearest even. */
export function floatToHalf(value: number): number {
  const f32 = new Float32Array([value]);
  const x = new Uint32Array(f32.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    let half = mantissa >> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && half & 1)) half += 1;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa rounds up into the exponent (or to infinity): still correct.
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half += 1;
  return sign | half;
}

export interface TensorToWrite {
  readonly shape: readonly number[];
  readonly data: ArrayLike<number>;
  /** Default F32. */
  readonly dtype?: WritableDtype;
}

/** Encodes tensors (in the given order) and optional string metadata as safetensors bytes. */
export function encodeSafetensors(
  tensors: Map<string, TensorToWrite> | Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Uint8Array {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const [name, tensor] of entries) {
    const dtype = tensor.dtype ?? 'F32';
    const elements = tensor.shape.reduce((product, d) => product * d, 1);
    if (elements !== tensor.data.length) {
      throw new AppError('tensor-shape', `Tensor '${name}' has ${tensor.data.length} values for shape [${tensor.shape.join(', ')}]`);
    }
    const blob = new Uint8Array(elements * BYTES_PER_ELEMENT[dtype]);
    const view = new DataView(blob.buffer);
    for (let i = 0; i < elements; i++) {
      const value = tensor.data[i]!;
      if (dtype === 'F32') view.setFloat32(i * 4, value, true);
      else if (dtype === 'F16') view.setUint16(i * 2, floatToHalf(value), true);
      else if (dtype === 'BF16') view.setUint16(i * 2, bfloat16Bits(value), true);
      else view.setBigInt64(i * 8, BigInt(Math.round(value)), true);
    }
    header[name] = { dtype, shape: [...tensor.shape], data_offsets: [offset, offset + blob.byteLength] };
    blobs.push(blob);
    offset += blob.byteLength;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces to a multiple of 8 so the data starts aligned, as the reference writer does.
  json += ' '.repeat((8 - ((Buffer.byteLength(json) + 8) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let position = 8 + headerBytes.byteLength;
  for (const blob of blobs) {
    out.set(blob, position);
    position += blob.byteLength;
  }
  return out;
}

/** bfloat16 with round-to-nearest-even (NaN kept NaN). */
function bfloat16Bits(value: number): number {
  const x = new Uint32Array(new Float32Array([value]).buffer)[0]!;
  if (Number.isNaN(value)) return 0x7fc0;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** Writes a safetensors file atomically (temp file beside it, then rename). */
export function writeSafetensors(
  file: string,
  tensors: Map<string, TensorToWrite> | Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): void {
  const bytes = encodeSafetensors(tensors, metadata);
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    writeFileSync(temp, bytes);
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw new AppError('file-unwritable', `Cannot write ${file}: ${(error as Error).message}`, { cause: error });
  }
}
