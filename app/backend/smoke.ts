// A small real computation on the current backend, checked against plain JavaScript and timed, so
// that "the backend loaded" in `effnet doctor` means "the backend computes, this fast".
import * as tf from '@tensorflow/tfjs';

export interface SmokeTiming {
  readonly what: string;
  readonly ms: number;
  readonly gflops: number;
}

export interface SmokeResult {
  readonly backend: string;
  readonly ok: boolean;
  /** Largest |backend − JavaScript reference| over the checked outputs. */
  readonly maxError: number;
  readonly timings: readonly SmokeTiming[];
}

/** float32 accumulation over a few hundred terms stays far inside this. */
export const SMOKE_TOLERANCE = 1e-3;

/** Deterministic values in [-1, 1): the check must not depend on tfjs's own random ops. */
export function pattern(length: number, seed: number): Float32Array {
  const values = new Float32Array(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    values[i] = state / 2 ** 31 - 1;
  }
  return values;
}

/** NHWC 'same' convolution, stride 1, in plain JavaScript (float64 accumulation). */
export function referenceConv2d(
  input: Float32Array,
  [h, w, c]: [number, number, number],
  filter: Float32Array,
  [k, out]: [number, number],
): Float64Array {
  const result = new Float64Array(h * w * out);
  const pad = (k - 1) >> 1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let o = 0; o < out; o++) {
        let sum = 0;
        for (let dy = 0; dy < k; dy++) {
          const iy = y + dy - pad;
          if (iy < 0 || iy >= h) continue;
          for (let dx = 0; dx < k; dx++) {
            const ix = x + dx - pad;
            if (ix < 0 || ix >= w) continue;
            for (let i = 0; i < c; i++) sum += input[(iy * w + ix) * c + i]! * filter[((dy * k + dx) * c + i) * out + o]!;
          }
        }
        result[(y * w + x) * out + o] = sum;
      }
    }
  }
  return result;
}

function referenceMatMul(a: Float32Array, b: Float32Array, n: number): Float64Array {
  const result = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) for (let j = 0; j < n; j++) result[i * n + j]! += a[i * n + k]! * b[k * n + j]!;
  return result;
}

function maxDifference(got: ArrayLike<number>, expected: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < expected.length; i++) max = Math.max(max, Math.abs(got[i]! - expected[i]!));
  return Number.isNaN(max) || got.length !== expected.length ? Infinity : max;
}

/** Runs `compute` once to warm up (kernels compile, weights upload), then times the best of `repeats`. */
async function time(compute: () => tf.Tensor, repeats: number): Promise<number> {
  let best = Infinity;
  for (let i = 0; i <= repeats; i++) {
    const start = performance.now();
    const result = compute();
    await result.data();
    result.dispose();
    if (i > 0) best = Math.min(best, performance.now() - start);
  }
  return best;
}

export async function smokeTest(repeats = 3): Promise<SmokeResult> {
  // Correctness: small cases against plain JavaScript.
  const n = 48;
  const a = pattern(n * n, 1);
  const b = pattern(n * n, 2);
  const input = pattern(10 * 10 * 8, 3);
  const filter = pattern(3 * 3 * 8 * 6, 4);
  const [gotMatMul, gotConv] = await Promise.all(
    tf
      .tidy(() => [
        tf.matMul(tf.tensor2d(a, [n, n]), tf.tensor2d(b, [n, n])),
        tf.conv2d(tf.tensor4d(input, [1, 10, 10, 8]), tf.tensor4d(filter, [3, 3, 8, 6]), 1, 'same'),
      ])
      .map(async (tensor) => {
        const data = await tensor.data();
        tensor.dispose();
        return data;
      }),
  );
  const maxError = Math.max(
    maxDifference(gotMatMul!, referenceMatMul(a, b, n)),
    maxDifference(gotConv!, referenceConv2d(input, [10, 10, 8], filter, [3, 6])),
  );

  // Speed: an EfficientNet-B0-sized 3×3 convolution (stage 2) and a 256² matMul.
  const x = tf.tensor4d(pattern(56 * 56 * 32, 5), [1, 56, 56, 32]);
  const w = tf.tensor4d(pattern(3 * 3 * 32 * 32, 6), [3, 3, 32, 32]);
  const m = tf.tensor2d(pattern(256 * 256, 7), [256, 256]);
  try {
    const convMs = await time(() => tf.conv2d(x, w, 1, 'same'), repeats);
    const matMulMs = await time(() => tf.matMul(m, m), repeats);
    const convFlops = 2 * 56 * 56 * 32 * 32 * 9;
    const matMulFlops = 2 * 256 ** 3;
    return {
      backend: tf.getBackend(),
      ok: maxError <= SMOKE_TOLERANCE,
      maxError,
      timings: [
        { what: 'conv2d 3×3, 1×56×56×32 → 32', ms: convMs, gflops: convFlops / convMs / 1e6 },
        { what: 'matMul 256×256', ms: matMulMs, gflops: matMulFlops / matMulMs / 1e6 },
      ],
    };
  } finally {
    tf.dispose([x, w, m]);
  }
}
