import { test } from 'node:test';
import assert from 'node:assert/strict';
import { affineUint8, fromFloat16Bits, perChannelUint8, toFloat16Bits } from './quantize.ts';

// IEEE 754 binary16 reference values (the bit patterns numpy's float16 gives).
const FLOAT16_CASES: [number, number][] = [
  [0, 0x0000],
  [-0, 0x8000],
  [1, 0x3c00],
  [-2, 0xc000],
  [0.333251953125, 0x3555],
  [65504, 0x7bff], // largest finite
  [65520, 0x7c00], // rounds up to +Inf
  [1e6, 0x7c00],
  [-Infinity, 0xfc00],
  [6.103515625e-5, 0x0400], // smallest normal
  [5.960464477539063e-8, 0x0001], // smallest subnormal
  [2.9e-8, 0x0000], // below half the smallest subnormal: zero
  [1.00048828125, 0x3c00], // exactly halfway between 1 and the next: ties to even (down)
  [1.00146484375, 0x3c02], // halfway between 0x3c01 and 0x3c02: ties to even (up)
  [0.1, 0x2e66],
];

test('float32 → float16 matches IEEE 754 round-to-nearest-even, subnormals and overflow included', () => {
  for (const [value, bits] of FLOAT16_CASES) {
    assert.equal(toFloat16Bits(value), bits, `${value} → 0x${toFloat16Bits(value).toString(16)}, expected 0x${bits.toString(16)}`);
  }
  assert.equal(toFloat16Bits(Number.NaN) & 0x7c00, 0x7c00);
  assert.ok(Number.isNaN(fromFloat16Bits(toFloat16Bits(Number.NaN))));
});

test('float16 round trip stays within half a unit in the last place', () => {
  for (let i = 0; i < 2000; i++) {
    const value = (Math.sin(i * 12.9898) * 43758.5453) % 300;
    const back = fromFloat16Bits(toFloat16Bits(value));
    assert.ok(Math.abs(back - value) <= Math.abs(value) * 2 ** -11 + 2 ** -25, `${value} → ${back}`);
  }
});

test('affine uint8 keeps zero exact and errs by at most half a step', () => {
  for (const values of [
    [-0.3, 0, 0.1, 0.25],
    [0.2, 0.4, 0.9],
    [-5, -1, -0.5],
    [0, 0, 0],
  ]) {
    const data = Float32Array.from(values);
    const q = affineUint8(data);
    const back = Array.from(q.data, (v) => v * q.scale + q.min);
    if (values.includes(0)) assert.equal(back[values.indexOf(0)], 0, `zero exact for ${values}`);
    values.forEach((v, i) => assert.ok(Math.abs(back[i]! - v) <= q.scale / 2 + 1e-9, `${v} → ${back[i]}`));
  }
});

test('per-channel uint8 gives each output channel its own range', () => {
  // [2 inputs, 3 channels]: channel 1 is 100× larger than channel 0.
  const data = Float32Array.from([0.01, 1, -0.5, -0.02, -2, 0.25]);
  const q = perChannelUint8(data, [2, 3], 1);
  assert.equal(q.scales.length, 3);
  assert.ok(q.scales[1]! > 50 * q.scales[0]!);
  for (let i = 0; i < data.length; i++) {
    const c = i % 3;
    const back = (q.data[i]! - q.zeroPoints[c]!) * q.scales[c]!;
    assert.ok(Math.abs(back - data[i]!) <= q.scales[c]! / 2 + 1e-7, `${data[i]} → ${back}`);
  }
});
