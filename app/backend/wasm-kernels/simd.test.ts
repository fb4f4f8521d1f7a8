import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assembleSimd, binaryModuleText } from './build-simd.ts';
import { SIMD_WASM_BASE64 } from './simd-binary.ts';

// simd-binary.ts is generated from simd-source.ts at dev time (the assembler is a dev dependency):
// the committed bytes must be what the committed source assembles to, or one was edited without
// the other.

test('simd-binary.ts is what build-simd.ts makes of simd-source.ts', async () => {
  const bytes = await assembleSimd();
  assert.equal(SIMD_WASM_BASE64, Buffer.from(bytes).toString('base64'), 'run: node --import tsx app/backend/wasm-kernels/build-simd.ts');
  assert.ok(binaryModuleText(bytes).includes(SIMD_WASM_BASE64));
});

test('the SIMD module compiles and exports every kernel simd.ts calls', () => {
  const module = new WebAssembly.Module(Buffer.from(SIMD_WASM_BASE64, 'base64'));
  const exported = WebAssembly.Module.exports(module)
    .map((e) => e.name)
    .sort();
  assert.deepEqual(exported, ['ab', 'atb', 'batchNorm', 'copyRows', 'dwAxpyRow', 'dwFilterRow', 'rowSums', 'swishGrad']);
  assert.deepEqual(WebAssembly.Module.imports(module), [{ module: 'env', name: 'memory', kind: 'memory' }]);
});
