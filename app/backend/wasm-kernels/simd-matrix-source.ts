import { add, countdown, get } from './wat-text.ts';

/**
 * Matrix products for the regular convolution gradients, in the WebAssembly text of simd-source.ts.
 *
 * atb(a, m, b, n, rows, out): out[i, j] += Σᵣ a[r·m + i] · b[r·n + j], the filter gradient xᵀ · dy
 * read in the layouts x and dy already have. ab(a, k, b, n, rows, out, depth): out[r, j] +=
 * Σ_{c<depth} a[r·k + c] · b[c·n + j], the input gradient dy · Wᵀ (Wᵀ is small and transposed by the
 * caller). Both add to out, so that callers can pass cache-sized blocks of the summed dimension. wasm's BatchMatMul (XNNPACK) packs its right operand
 * as weights for every fresh tensor, and ran these shapes at 1–9 GFLOP/s; these tiles run at 15–25,
 * as fast as XNNPACK's forward convolution of the same size.
 * A tile keeps 4 rows × 8 columns of out in 8 registers (1 row, 4 columns or 1 at the edges).
 */
type Kind = 'atb' | 'ab';

const range = (count: number) => [...Array(count).keys()];

/** One lane type: 4 floats in a v128, or a single f32 for the last n mod 4 columns. */
function lanes(scalar: boolean) {
  return scalar
    ? { type: 'f32', load: 'f32.load', splat: 'f32.load', store: 'f32.store', add: 'f32.add', mul: 'f32.mul', zero: '(f32.const 0)' }
    : {
        type: 'v128',
        load: 'v128.load',
        splat: 'v128.load32_splat',
        store: 'v128.store',
        add: 'f32x4.add',
        mul: 'f32x4.mul',
        zero: '(v128.const i32x4 0 0 0 0)',
      };
}

/** A tile of `rows` rows of out × `width` columns (8 or 4: SIMD; 1: scalar), summed over `n` steps. */
function tile(kind: Kind, rows: number, width: number): string {
  const name = `${kind}${rows}x${width}`;
  const op = lanes(width === 1);
  const vectors = range(Math.max(1, width / 4));
  const accumulators = range(rows).flatMap((i) => vectors.map((j) => `acc${i}_${j}`));
  // atb reads the tile's a values side by side in one row of a; ab reads them down one column,
  // each from its own row pointer.
  const splat = (i: number) => (kind === 'atb' ? `(${op.splat} offset=${4 * i} ${get('pa')})` : `(${op.splat} ${get(`a${i}`)})`);
  const advance = kind === 'atb' ? [add('pa', get('lda'))] : range(rows).map((i) => add(`a${i}`, '(i32.const 4)'));
  const step = [
    ...vectors.map((j) => `(local.set $b${j} (${op.load} offset=${16 * j} ${get('pb')}))`),
    ...range(rows).flatMap((i) => [
      `(local.set $s ${splat(i)})`,
      ...vectors.map((j) => `(local.set $acc${i}_${j} (${op.add} ${get(`acc${i}_${j}`)} (${op.mul} ${get('s')} ${get(`b${j}`)})))`),
    ]),
    ...advance,
    add('pb', get('ldb')),
  ].join('\n      ');
  const target = (i: number) => `(i32.add ${get('po')} (i32.mul ${get('ldo')} (i32.const ${i})))`;
  const store = range(rows).flatMap((i) =>
    vectors.map(
      (j) => `(${op.store} offset=${16 * j} ${target(i)} (${op.add} (${op.load} offset=${16 * j} ${target(i)}) ${get(`acc${i}_${j}`)}))`,
    ),
  );
  const rowPointers =
    kind === 'ab' ? range(rows).map((i) => `(local.set $a${i} (i32.add ${get('pa')} (i32.mul ${get('lda')} (i32.const ${i}))))`) : [];
  const locals = [
    `(local $s ${op.type})`,
    ...range(4).map((i) => `(local $a${i} i32)`),
    ...vectors.map((j) => `(local $b${j} ${op.type})`),
  ];
  return `(func $${name} (param $pa i32) (param $lda i32) (param $pb i32) (param $ldb i32) (param $n i32) (param $po i32) (param $ldo i32)
  ${[...locals, ...accumulators.map((a) => `(local $${a} ${op.type})`)].join(' ')}
  ${accumulators.map((a) => `(local.set $${a} ${op.zero})`).join(' ')}
  ${rowPointers.join('\n  ')}
  ${countdown('n', 'r', step)}
  ${store.join('\n  ')})`;
}

/**
 * The exported driver: tiles over I (atb: the m rows of out; ab: the rows of a and out) and over the
 * columns j, 8 at a time, then 4, then 1. `iStride` is how far a tile's a pointer moves per row of out.
 */
function driver(kind: Kind): string {
  const [outer, inner, iStride] = kind === 'atb' ? ['m', 'rows', '(i32.const 4)'] : ['rows', 'depth', get('lda')];
  const call = (rows: number, width: number) =>
    `(call $${kind}${rows}x${width} (i32.add ${get('a')} (i32.mul ${get('i')} ${iStride})) ${get('lda')} (i32.add ${get('b')} (i32.shl ${get('j')} (i32.const 2))) ${get('ldb')} ${get(inner)} (i32.add ${get('po')} (i32.shl ${get('j')} (i32.const 2))) ${get('ldb')})`;
  const rowsOf = (rows: number) => `(block $i${rows}_end (loop $i${rows}
    (br_if $i${rows}_end (i32.gt_u (i32.add ${get('i')} (i32.const ${rows})) ${get(outer)}))
    (local.set $po (i32.add ${get('out')} (i32.mul ${get('i')} ${get('ldb')})))
    (local.set $j (i32.const 0))
    (block $j${rows}_end (loop $j${rows}
      (br_if $j${rows}_end (i32.gt_u (i32.add ${get('j')} (i32.const 8)) ${get('n')}))
      ${call(rows, 8)}
      ${add('j', '(i32.const 8)')}
      (br $j${rows})))
    (if (i32.le_u (i32.add ${get('j')} (i32.const 4)) ${get('n')}) (then ${call(rows, 4)} ${add('j', '(i32.const 4)')}))
    (block $k${rows}_end (loop $k${rows}
      (br_if $k${rows}_end (i32.ge_u ${get('j')} ${get('n')}))
      ${call(rows, 1)}
      ${add('j', '(i32.const 1)')}
      (br $k${rows})))
    ${add('i', `(i32.const ${rows})`)}
    (br $i${rows})))`;
  const shared = kind === 'atb' ? '(param $m i32)' : '(param $k i32)';
  const depth = kind === 'atb' ? '' : ' (param $depth i32)';
  return `(func (export "${kind}") (param $a i32) ${shared} (param $b i32) (param $n i32) (param $rows i32) (param $out i32)${depth}
  (local $i i32) (local $j i32) (local $po i32) (local $lda i32) (local $ldb i32)
  (local.set $lda (i32.shl ${get(kind === 'atb' ? 'm' : 'k')} (i32.const 2)))
  (local.set $ldb (i32.shl ${get('n')} (i32.const 2)))
  ${rowsOf(4)}
  ${rowsOf(1)})`;
}

export function matrixSource(): string {
  const kinds: Kind[] = ['atb', 'ab'];
  return kinds
    .flatMap((kind) => [4, 1].flatMap((rows) => [8, 4, 1].map((width) => tile(kind, rows, width))).concat(driver(kind)))
    .join('\n');
}
