/**
 * The WebAssembly text of the SIMD module the training kernels run on tfjs-backend-wasm's own heap
 * (simd.ts). It is written as templates because the loops differ only in tile size or in one
 * arithmetic expression; `build-simd.ts` assembles it (wabt, a dev dependency) into simd-binary.ts,
 * and simd.test.ts checks the two agree. Every pointer is a byte offset into the imported memory.
 *
 * Why hand-written SIMD: the JS loops these replace ran at about 0.4 GFLOP/s (the depthwise filter
 * gradient alone was 20 % of a B0 training step), and tfjs-backend-wasm either has no kernel for
 * them or, for FusedBatchNorm, a scalar one (4.7 ns an element).
 */

import { matrixSource } from './simd-matrix-source.ts';
import { swishGradSource } from './simd-swish-source.ts';
import { add, countdown, get } from './wat-text.ts';

const range = (count: number) => [...Array(count).keys()];
const HIGH_TO_LOW = 'i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7';

/** acc64[pointer + offset] += the four f32 lanes of `vector`, widened to f64. */
function flushToF64(pointer: string, offset: number, vector: string): string {
  const lanes = [`(f64x2.promote_low_f32x4 ${vector})`, `(f64x2.promote_low_f32x4 (${HIGH_TO_LOW} ${vector} ${vector}))`];
  return lanes
    .map(
      (lane, half) =>
        `(v128.store offset=${offset + 16 * half} ${get(pointer)} (f64x2.add (v128.load offset=${offset + 16 * half} ${get(pointer)}) ${lane}))`,
    )
    .join('\n    ');
}

/**
 * rowSums(x, xStep, count, channels, acc): acc[c] += Σᵢ x[i·xStep + c] over `count` rows, and
 * dwFilterRow(x, xStep, dy, count, channels, acc): acc[c] += Σᵢ x[i·xStep + c] · dy[i·channels + c],
 * one output row of a depthwise filter gradient (one filter tap, multiplier 1). A call's rows are
 * summed in f32 lanes (16 channels at a time in 4 registers), the calls in f64 (acc is f64), as
 * tfjs-backend-cpu sums in f64; callers keep a call's rows few (one image row, a cache-sized block).
 */
function rowSums(name: string, product: boolean): string {
  const term = (offset: number, scalar: boolean) => {
    const load = (pointer: string) => (scalar ? `(f32.load ${get(pointer)})` : `(v128.load offset=${offset} ${get(pointer)})`);
    return product ? `(${scalar ? 'f32' : 'f32x4'}.mul ${load('px')} ${load('pd')})` : load('px');
  };
  const advance = [add('px', get('xStep')), ...(product ? [add('pd', get('dyStep'))] : [])].join('\n      ');
  const start = (width: number) => `(br_if $w${width}_end (i32.gt_u (i32.add ${get('c')} (i32.const ${width})) ${get('channels')}))
    (local.set $px (i32.add ${get('x')} (i32.shl ${get('c')} (i32.const 2))))
    (local.set $pd (i32.add ${get('dy')} (i32.shl ${get('c')} (i32.const 2))))
    (local.set $pa (i32.add ${get('acc')} (i32.shl ${get('c')} (i32.const 3))))
    (local.set $n ${get('count')})`;
  const block = (width: number) => {
    const vectors = range(width / 4);
    const step = vectors.map((k) => `(local.set $v${k} (f32x4.add ${get(`v${k}`)} ${term(16 * k, false)}))`).join('\n      ');
    return `(block $w${width}_end (loop $w${width}
    ${start(width)}
    ${vectors.map((k) => `(local.set $v${k} (v128.const i32x4 0 0 0 0))`).join(' ')}
    ${countdown('n', `r${width}`, `${step}\n      ${advance}`)}
    ${vectors.map((k) => flushToF64('pa', 32 * k, get(`v${k}`))).join('\n    ')}
    ${add('c', `(i32.const ${width})`)}
    (br $w${width})))`;
  };
  const scalar = `(block $w1_end (loop $w1
    ${start(1)}
    (local.set $s (f32.const 0))
    ${countdown('n', 'r1', `(local.set $s (f32.add ${get('s')} ${term(0, true)}))\n      ${advance}`)}
    (f64.store ${get('pa')} (f64.add (f64.load ${get('pa')}) (f64.promote_f32 ${get('s')})))
    ${add('c', '(i32.const 1)')}
    (br $w1)))`;
  const dyParam = product ? '(param $dy i32) ' : '';
  return `(func (export "${name}") (param $x i32) (param $xStep i32) ${dyParam}(param $count i32) (param $channels i32) (param $acc i32)
  (local $c i32) (local $n i32) (local $px i32) (local $pd i32) (local $pa i32) (local $dyStep i32) (local $s f32)
  ${product ? '' : '(local $dy i32)'}
  (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128)
  (local.set $dyStep (i32.shl ${get('channels')} (i32.const 2)))
  ${block(16)}
  ${block(4)}
  ${scalar})`;
}

/**
 * dwAxpyRow(source, sourceStep, target, targetStep, count, channels, w): target[i·targetStep + c] +=
 * source[i·sourceStep + c] · w[c] for i < count: one filter tap of a depthwise convolution over one
 * row, forward (x into y, source stepping by the stride) or backward (dy into dx, target stepping by
 * the stride). 16 channels at a time with their weights held in registers.
 */
function depthwiseAxpyRow(): string {
  const block = (width: number) => {
    const scalar = width === 1;
    const vectors = range(scalar ? 1 : width / 4);
    const [load, store, addOp, mulOp] = scalar
      ? ['f32.load', 'f32.store', 'f32.add', 'f32.mul']
      : ['v128.load', 'v128.store', 'f32x4.add', 'f32x4.mul'];
    const step = vectors
      .map(
        (k) =>
          `(${store} offset=${16 * k} ${get('pt')} (${addOp} (${load} offset=${16 * k} ${get('pt')}) (${mulOp} (${load} offset=${16 * k} ${get('ps')}) ${get(scalar ? 'ws' : `w${k}`)})))`,
      )
      .join('\n      ');
    return `(block $w${width}_end (loop $w${width}
    (br_if $w${width}_end (i32.gt_u (i32.add ${get('c')} (i32.const ${width})) ${get('channels')}))
    (local.set $ps (i32.add ${get('source')} (i32.shl ${get('c')} (i32.const 2))))
    (local.set $pt (i32.add ${get('target')} (i32.shl ${get('c')} (i32.const 2))))
    ${vectors.map((k) => (scalar ? `(local.set $ws (f32.load (i32.add ${get('w')} (i32.shl ${get('c')} (i32.const 2)))))` : `(local.set $w${k} (v128.load offset=${16 * k} (i32.add ${get('w')} (i32.shl ${get('c')} (i32.const 2)))))`)).join(' ')}
    (local.set $n ${get('count')})
    ${countdown('n', `r${width}`, `${step}\n      ${add('ps', get('sourceStep'))}\n      ${add('pt', get('targetStep'))}`)}
    ${add('c', `(i32.const ${width})`)}
    (br $w${width})))`;
  };
  return `(func (export "dwAxpyRow") (param $source i32) (param $sourceStep i32) (param $target i32) (param $targetStep i32) (param $count i32) (param $channels i32) (param $w i32)
  (local $c i32) (local $n i32) (local $ps i32) (local $pt i32) (local $ws f32)
  (local $w0 v128) (local $w1 v128) (local $w2 v128) (local $w3 v128)
  ${block(16)}
  ${block(4)}
  ${block(1)})`;
}

/**
 * An elementwise kernel whose other operands repeat with a period (per-channel vectors broadcast over
 * NHWC): out[i] = f(x[i], v[i mod period], …). `period` must be a
 * multiple of 4 (the caller repeats a vector to make it so). `vector` and `scalar` give f over
 * v128 and f32 operands: x first, then the periodic ones.
 */
function periodic(name: string, operands: string[], vector: (args: string[]) => string, scalar: (args: string[]) => string): string {
  const params = operands.map((o) => `(param $${o} i32)`).join(' ');
  const vectorArgs = [
    `(v128.load (i32.add ${get('x')} ${get('i')}))`,
    ...operands.map((o) => `(v128.load (i32.add ${get(o)} ${get('c')}))`),
  ];
  const scalarArgs = [`(f32.load (i32.add ${get('x')} ${get('i')}))`, ...operands.map((o) => `(f32.load (i32.add ${get(o)} ${get('c')}))`)];
  return `(func (export "${name}") (param $x i32) (param $count i32) (param $period i32) (param $out i32) ${params}
  (local $i i32) (local $c i32) (local $end i32) (local $end4 i32) (local $wrap i32)
  (local.set $end (i32.shl ${get('count')} (i32.const 2)))
  (local.set $end4 (i32.and ${get('end')} (i32.const -16)))
  (local.set $wrap (i32.shl ${get('period')} (i32.const 2)))
  (block $v_end (loop $v
    (br_if $v_end (i32.ge_u ${get('i')} ${get('end4')}))
    (v128.store (i32.add ${get('out')} ${get('i')}) ${vector(vectorArgs)})
    ${add('i', '(i32.const 16)')}
    ${add('c', '(i32.const 16)')}
    (local.set $c (select (i32.const 0) ${get('c')} (i32.eq ${get('c')} ${get('wrap')})))
    (br $v)))
  (block $s_end (loop $s
    (br_if $s_end (i32.ge_u ${get('i')} ${get('end')}))
    (f32.store (i32.add ${get('out')} ${get('i')}) ${scalar(scalarArgs)})
    ${add('i', '(i32.const 4)')}
    ${add('c', '(i32.const 4)')}
    (br $s))))`;
}

/** batchNorm(x, count, period, out, mean, multiplier, offset): out = (x − mean) · multiplier + offset. */
function batchNorm(): string {
  return periodic(
    'batchNorm',
    ['mean', 'multiplier', 'offset'],
    ([x, mean, multiplier, offset]) => `(f32x4.add (f32x4.mul (f32x4.sub ${x} ${mean}) ${multiplier}) ${offset})`,
    ([x, mean, multiplier, offset]) => `(f32.add (f32.mul (f32.sub ${x} ${mean}) ${multiplier}) ${offset})`,
  );
}

/**
 * copyRows(source, sourceStride, target, targetStride, rowBytes, count): `count` rows of `rowBytes`
 * bytes each, by memory.copy (a Slice of NHWC keeps whole pixels, so its rows are long runs; wasm's
 * Slice copied element by element: 17.6 ms for the 4×113×113×96 → 112 slice of a stride-2 block's
 * padding gradient).
 */
function copyRows(): string {
  return `(func (export "copyRows") (param $source i32) (param $sourceStride i32) (param $target i32) (param $targetStride i32) (param $bytes i32) (param $count i32)
  ${countdown('count', 'row', `(memory.copy ${get('target')} ${get('source')} ${get('bytes')})\n      ${add('source', get('sourceStride'))}\n      ${add('target', get('targetStride'))}`)})`;
}

export function simdSource(): string {
  return `;; Generated from simd-source.ts: edit that, then run build-simd.ts.
(module
  (import "env" "memory" (memory 0))
${rowSums('dwFilterRow', true)}
${rowSums('rowSums', false)}
${depthwiseAxpyRow()}
${batchNorm()}
${matrixSource()}
${copyRows()}
${swishGradSource()}
)
`;
}
