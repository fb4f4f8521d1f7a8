import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AppError } from '../common/errors.ts';
import { sharedPath } from '../node/shared-path.ts';
import { encodeSafetensors, floatToHalf, halfToFloat, parseSafetensors, readSafetensors, writeSafetensors } from './safetensors.ts';

/** A file assembled byte by byte, independent of encodeSafetensors. */
function handMade(
  entries: { name: string; dtype: string; shape: number[]; bytes: number[] }[],
  metadata?: object,
  padding = 0,
): Uint8Array {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let offset = 0;
  for (const entry of entries) {
    header[entry.name] = { dtype: entry.dtype, shape: entry.shape, data_offsets: [offset, offset + entry.bytes.length] };
    offset += entry.bytes.length;
  }
  const json = Buffer.from(JSON.stringify(header) + ' '.repeat(padding));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, json, Buffer.from(entries.flatMap((e) => e.bytes))]);
}
const dataStart = (bytes: Uint8Array) => 8 + Number(Buffer.from(bytes).readBigUInt64LE(0));
const le16 = (...values: number[]) => values.flatMap((v) => [v & 0xff, v >> 8]);
const f32 = (...values: number[]) => [...Buffer.from(new Float32Array(values).buffer)];
const i64 = (...values: number[]) => values.flatMap((v) => [...Buffer.from(new BigInt64Array([BigInt(v)]).buffer)]);

test('reads F16, BF16, I64 and unaligned F32 tensors into float32, with metadata', () => {
  const entries = [
    // 1, −2, 65504 (largest half), 2^-24 (smallest subnormal), −∞
    { name: 'half', dtype: 'F16', shape: [5], bytes: le16(0x3c00, 0xc000, 0x7bff, 0x0001, 0xfc00) },
    // 1, −5, 3.140625
    { name: 'brain', dtype: 'BF16', shape: [3], bytes: le16(0x3f80, 0xc0a0, 0x4049) },
    { name: 'bn.num_batches_tracked', dtype: 'I64', shape: [], bytes: i64(123456) },
    { name: 'weights', dtype: 'F32', shape: [2, 2], bytes: f32(0.5, -1.25, 3, 1e-8) },
    { name: 'labels', dtype: 'I64', shape: [2], bytes: i64(-3, 7) },
  ];
  // Pad the header so `weights` (data offset 24) sits at an address that is not a multiple of 4.
  const padding = [0, 1, 2, 3].find((p) => (dataStart(handMade(entries, { format: 'pt' }, p)) + 24) % 4 === 2)!;
  const bytes = handMade(entries, { format: 'pt' }, padding);
  const { tensors, metadata } = parseSafetensors(bytes, 'hand-made');
  assert.deepEqual(metadata, { format: 'pt' });
  assert.deepEqual([...tensors.keys()], ['half', 'brain', 'bn.num_batches_tracked', 'weights', 'labels']);
  assert.deepEqual([...tensors.get('half')!.data], [1, -2, 65504, 2 ** -24, -Infinity]);
  assert.deepEqual([...tensors.get('brain')!.data], [1, -5, 3.140625]);
  assert.deepEqual(tensors.get('bn.num_batches_tracked'), { dtype: 'I64', shape: [], data: new Float32Array([123456]) });
  assert.deepEqual(tensors.get('weights')!.shape, [2, 2]);
  assert.deepEqual([...tensors.get('weights')!.data], [...new Float32Array([0.5, -1.25, 3, 1e-8])]);
  assert.deepEqual([...tensors.get('labels')!.data], [-3, 7]);
});

test('half-precision conversion rounds to nearest even and keeps subnormals, infinities and NaN', () => {
  const cases: [number, number][] = [
    [1, 0x3c00],
    [-2, 0xc000],
    [0.1, 0x2e66], // 0.0999755859375
    [65504, 0x7bff],
    [65520, 0x7c00], // rounds up to infinity
    [1e6, 0x7c00],
    [2 ** -24, 0x0001],
    [2 ** -25, 0x0000], // halfway to the smallest subnormal: ties to even (zero)
    [3 * 2 ** -25, 0x0002],
    [1 + 2 ** -11, 0x3c00], // halfway between 1 and the next half: even mantissa wins
    [1 + 3 * 2 ** -11, 0x3c02],
    [-0, 0x8000],
  ];
  for (const [value, bits] of cases) assert.equal(floatToHalf(value), bits, `floatToHalf(${value})`);
  assert.ok(Number.isNaN(halfToFloat(floatToHalf(NaN))));
  for (let bits = 0; bits < 0x7c00; bits += 97) assert.equal(floatToHalf(halfToFloat(bits)), bits);
});

test('what encodeSafetensors writes reads back, dtype by dtype, and its header is 8-byte aligned', () => {
  const values = [0, 1.5, -2.25, 1024, 3.3];
  const bytes = encodeSafetensors(
    new Map([
      ['a.f32', { shape: [5], data: values }],
      ['b.f16', { shape: [1, 5], data: values, dtype: 'F16' as const }],
      ['c.bf16', { shape: [5, 1], data: values, dtype: 'BF16' as const }],
      ['d.i64', { shape: [5], data: [0, 1, -2, 1024, 3], dtype: 'I64' as const }],
    ]),
    { note: 'test' },
  );
  assert.equal(Number(Buffer.from(bytes).readBigUInt64LE(0)) % 8, 0);
  const { tensors, metadata } = parseSafetensors(bytes);
  assert.deepEqual(metadata, { note: 'test' });
  assert.deepEqual([...tensors.get('a.f32')!.data], [...new Float32Array(values)]);
  assert.deepEqual([...tensors.get('b.f16')!.data], [0, 1.5, -2.25, 1024, 3.30078125]);
  assert.deepEqual([...tensors.get('c.bf16')!.data], [0, 1.5, -2.25, 1024, 3.296875]);
  assert.deepEqual([...tensors.get('d.i64')!.data], [0, 1, -2, 1024, 3]);
  assert.deepEqual(
    [...tensors.values()].map((t) => [t.dtype, t.shape]),
    [
      ['F32', [5]],
      ['F16', [1, 5]],
      ['BF16', [5, 1]],
      ['I64', [5]],
    ],
  );
});

test('reads the torchvision fixture: names, shapes and values in PyTorch layout', () => {
  const tensors = readSafetensors(sharedPath('fixtures/efficientnet-parity/tiny_symmetric.weights.safetensors'));
  assert.deepEqual(tensors.get('features.0.0.weight')!.shape, [8, 3, 3, 3]);
  assert.deepEqual(tensors.get('classifier.1.weight')!.shape, [10, 320]);
  const variance = tensors.get('features.0.1.running_var')!.data;
  assert.ok(variance.every((v) => v > 0 && Number.isFinite(v)));
});

test('writeSafetensors writes atomically and leaves no temporary file', () => {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'effnet-st-'));
  try {
    const file = path.join(folder, 'w.safetensors');
    writeSafetensors(file, { x: { shape: [2], data: [1, 2] } });
    writeSafetensors(file, { x: { shape: [3], data: [4, 5, 6] } });
    assert.deepEqual(readdirSync(folder), ['w.safetensors']);
    assert.deepEqual([...readSafetensors(file).get('x')!.data], [4, 5, 6]);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

const good = handMade([{ name: 'w', dtype: 'F32', shape: [2], bytes: f32(1, 2) }]);
const withHeader = (header: string) => {
  const json = Buffer.from(header);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, json, Buffer.alloc(8)]);
};
const BAD_FILES: [string, Uint8Array, RegExp, string?][] = [
  ['a truncated file', good.subarray(0, good.length - 3), /truncated/],
  ['fewer than 8 bytes', good.subarray(0, 5), /fewer than the 8-byte/],
  ['a header longer than the file', Buffer.concat([Buffer.from([255, 255, 0, 0, 0, 0, 0, 0]), Buffer.alloc(16)]), /header claims/],
  ['a header that is not JSON', withHeader('{"w": '), /not JSON/],
  ['a header that is a list', withHeader('[1, 2]'), /not a JSON object/],
  ['a size that does not fit the shape', withHeader('{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}'), /8 bytes for shape \[3\]/],
  ['negative offsets', withHeader('{"w":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}'), /bad data_offsets/],
  [
    'an unknown dtype',
    withHeader('{"w":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}'),
    /unsupported dtype "F8_E4M3"/,
    'safetensors-dtype',
  ],
];
for (const [what, bytes, message, code = 'safetensors-corrupt'] of BAD_FILES) {
  test(`${what} is an AppError that names the file`, () => {
    const folder = mkdtempSync(path.join(os.tmpdir(), 'effnet-st-'));
    const file = path.join(folder, 'broken.safetensors');
    try {
      writeFileSync(file, bytes);
      assert.throws(
        () => readSafetensors(file),
        (error: unknown) => error instanceof AppError && error.code === code && error.message.includes(file) && message.test(error.message),
      );
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
}

test('a missing file is an AppError naming it', () => {
  const file = path.join(os.tmpdir(), 'effnet-no-such-file.safetensors');
  assert.throws(
    () => readSafetensors(file),
    (error: unknown) => error instanceof AppError && error.message.includes(file),
  );
});

test('the real fixture cut short is reported as truncated', () => {
  const bytes = readFileSync(sharedPath('fixtures/efficientnet-parity/tiny_symmetric.io.safetensors'));
  assert.throws(
    () => readSafetensors(bytes.subarray(0, bytes.length - 100), 'tiny_symmetric.io.safetensors'),
    /tiny_symmetric\.io\.safetensors is not a valid safetensors file: .*truncated/,
  );
});
