import { add, get } from './wat-text.ts';

/**
 * swishGrad(dy, x, s, out, count): out = dy·s + (dy·x)·(s·(1 − s)), the gradient of swish
 * x·sigmoid(x) given s = sigmoid(x) (app/model/swish.ts), in one pass over four arrays. The
 * operations and their order are those of tfjs autodiff over mul(sigmoid(x), x), each rounded to
 * float32 as the package's separate kernels round, so the result is bit-identical to theirs.
 */
export function swishGradSource(): string {
  /** One step over 4 lanes (`f32x4`) or 1 (`f32`) at byte offset $i. */
  const step = (type: 'f32x4' | 'f32') => {
    const [load, store, one] =
      type === 'f32x4' ? ['v128.load', 'v128.store', '(v128.const f32x4 1 1 1 1)'] : ['f32.load', 'f32.store', '(f32.const 1)'];
    const at = (p: string) => `(i32.add ${get(p)} ${get('i')})`;
    const s = get(type === 'f32x4' ? 'sv' : 'ss');
    const dy = `(${load} ${at('dy')})`;
    return `(local.set ${type === 'f32x4' ? '$sv' : '$ss'} (${load} ${at('s')}))
    (${store} ${at('out')} (${type}.add (${type}.mul ${dy} ${s}) (${type}.mul (${type}.mul ${dy} (${load} ${at('x')})) (${type}.mul ${s} (${type}.sub ${one} ${s})))))`;
  };
  return `(func (export "swishGrad") (param $dy i32) (param $x i32) (param $s i32) (param $out i32) (param $count i32)
  (local $i i32) (local $end i32) (local $end4 i32) (local $sv v128) (local $ss f32)
  (local.set $end (i32.shl ${get('count')} (i32.const 2)))
  (local.set $end4 (i32.and ${get('end')} (i32.const -16)))
  (block $v_end (loop $v
    (br_if $v_end (i32.ge_u ${get('i')} ${get('end4')}))
    ${step('f32x4')}
    ${add('i', '(i32.const 16)')}
    (br $v)))
  (block $s_end (loop $s
    (br_if $s_end (i32.ge_u ${get('i')} ${get('end')}))
    ${step('f32')}
    ${add('i', '(i32.const 4)')}
    (br $s))))`;
}
