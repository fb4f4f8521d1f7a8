/** Helpers for writing WebAssembly text as templates (simd-source.ts, simd-matrix-source.ts). */

/** A loop that runs while `local $name` (a count) is not zero, counting it down. */
export function countdown(counter: string, label: string, body: string): string {
  return `(block $${label}_end (loop $${label}
    (br_if $${label}_end (i32.eqz (local.get $${counter})))
    ${body}
    (local.set $${counter} (i32.sub (local.get $${counter}) (i32.const 1)))
    (br $${label})))`;
}

export const get = (name: string) => `(local.get $${name})`;
export const add = (name: string, value: string) => `(local.set $${name} (i32.add ${get(name)} ${value}))`;
