/**
 * Weight quantization shared by the exporters. Only weights are quantized; activations stay
 * float32, so the arithmetic is the model's own and the error is bounded by the weight rounding
 * (EfficientNet is known to lose accuracy under full int8, product-landscape §3.8 [Coral#636]).
 */

export const QUANTIZATIONS = ['none', 'float16', 'uint8'] as const;
export type Quantization = (typeof QUANTIZATIONS)[number];

export function isQuantization(value: string): value is Quantization {
  return (QUANTIZATIONS as readonly string[]).includes(value);
}

const float32 = new Float32Array(1);
const bits32 = new Uint32Array(float32.buffer);

/** IEEE 754 binary16 bits of `value`, rounded to nearest even (subnormals, ±Inf and NaN kept). */
export function toFloat16Bits(value: number): number {
  float32[0] = value;
  const x = bits32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    let half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && (half & 1) === 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (and the largest values to Inf).
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half++;
  return sign | half;
}

export function toFloat16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = toFloat16Bits(values[i]!);
  return out;
}

/** The float a binary16 bit pattern stands for. */
export function fromFloat16Bits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : Number.NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

export interface AffineUint8 {
  readonly data: Uint8Array;
  /** value ≈ q·scale + min, with min = −zeroPoint·scale (so 0 is exact). */
  readonly scale: number;
  readonly min: number;
  readonly zeroPoint: number;
}

/**
 * Affine uint8 of one range, as tfjs-converter's `quantize_weights` does it: the range is widened
 * to include 0 and nudged so that 0 maps to a whole code (zero padding and zero weights stay exact).
 * `round` lets ONNX pass float32-rounded scales (its scale tensors are float32).
 */
export function affineUint8(values: Float32Array, round: (x: number) => number = (x) => x): AffineUint8 {
  let low = 0;
  let high = 0;
  for (const v of values) {
    if (v < low) low = v;
    if (v > high) high = v;
  }
  const scale = round(high > low ? (high - low) / 255 : 1);
  const zeroPoint = Math.round(Math.min(255, Math.max(0, -low / scale)));
  const data = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = Math.min(255, Math.max(0, Math.round(values[i]! / scale) + zeroPoint));
  return { data, scale, min: -zeroPoint * scale, zeroPoint };
}

export interface PerChannelUint8 {
  readonly data: Uint8Array;
  readonly scales: Float32Array;
  readonly zeroPoints: Uint8Array;
}

/**
 * Affine uint8 with one scale and zero point per slice along `axis` (ONNX DequantizeLinear's
 * per-axis form). Per-channel ranges matter for depthwise kernels, whose channels differ by orders
 * of magnitude once BatchNorm is folded in.
 */
export function perChannelUint8(values: Float32Array, dims: readonly number[], axis: number): PerChannelUint8 {
  const channels = dims[axis]!;
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1);
  const data = new Uint8Array(values.length);
  const scales = new Float32Array(channels);
  const zeroPoints = new Uint8Array(channels);
  const slice = new Float32Array(outer * inner);
  for (let c = 0; c < channels; c++) {
    for (let o = 0, k = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) slice[k++] = values[(o * channels + c) * inner + i]!;
    }
    const q = affineUint8(slice, Math.fround);
    scales[c] = q.scale;
    zeroPoints[c] = q.zeroPoint;
    for (let o = 0, k = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) data[(o * channels + c) * inner + i] = q.data[k++]!;
    }
  }
  return { data, scales, zeroPoints };
}
