import { beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AppError } from '../common/errors.ts';
import { catalogueEntry, type WeightsEntry } from './catalogue.ts';
import { detectWeightsKind, importWeightsFile } from './import.ts';
import { listWeights, readImportIndex, resolveWeightsFile } from './store.ts';
import { fakeH5, md5 } from './test-server.ts';

let folder: string;
let env: NodeJS.ProcessEnv;

beforeEach(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'effnet-import-'));
  env = { EFFNET_HOME: path.join(folder, 'home') };
});

/** A safetensors file: u64 LE header length, JSON header, then the tensor bytes it indexes. */
function safetensors(tensors: Record<string, Float32Array>, options: { dropLastBytes?: number; header?: string } = {}): Buffer {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  const parts: Buffer[] = [];
  let offset = 0;
  for (const [name, values] of Object.entries(tensors)) {
    const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
    header[name] = { dtype: 'F32', shape: [values.length], data_offsets: [offset, offset + bytes.length] };
    parts.push(bytes);
    offset += bytes.length;
  }
  const json = Buffer.from(options.header ?? JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  const whole = Buffer.concat([length, json, ...parts]);
  return whole.subarray(0, whole.length - (options.dropLastBytes ?? 0));
}

function withUserBlock(bytes: number): Buffer {
  return Buffer.concat([Buffer.alloc(bytes, 0x20), fakeH5(4096, 3)]);
}

const tensors = { 'features.0.0.weight': new Float32Array([1, 2, 3, 4]), 'classifier.1.bias': new Float32Array([0.5]) };

/** Input bytes → the kind detected, or a fragment of the error. */
const detectionCases: { name: string; file: string; bytes: Buffer; kind?: string; error?: RegExp }[] = [
  { name: 'HDF5 at offset 0', file: 'model.h5', bytes: fakeH5(4096), kind: 'keras-h5' },
  { name: 'HDF5 after a 512-byte user block', file: 'ub512.h5', bytes: withUserBlock(512), kind: 'keras-h5' },
  { name: 'HDF5 after a 2048-byte user block', file: 'ub2048.h5', bytes: withUserBlock(2048), kind: 'keras-h5' },
  { name: 'a safetensors file', file: 'timm.safetensors', bytes: safetensors(tensors), kind: 'safetensors' },
  { name: 'safetensors named .bin (content decides)', file: 'weights.bin', bytes: safetensors(tensors), kind: 'safetensors' },
  { name: 'a text file', file: 'notes.h5', bytes: Buffer.from('these are not weights\n'), error: /notes\.h5 is not a weights file/ },
  {
    name: 'HDF5 signature at offset 100 (not a valid place)',
    file: 'odd.h5',
    bytes: withUserBlock(100),
    error: /odd\.h5 is not a weights file/,
  },
  { name: 'a truncated safetensors file', file: 'cut.safetensors', bytes: safetensors(tensors, { dropLastBytes: 4 }), error: /truncated/ },
  {
    name: 'a safetensors header that is not JSON',
    file: 'bad.safetensors',
    bytes: safetensors({}, { header: '{"a": ' }),
    error: /not JSON/,
  },
  { name: 'an empty file', file: 'empty.safetensors', bytes: Buffer.alloc(0), error: /empty\.safetensors is not a weights file/ },
];

for (const item of detectionCases) {
  test(`content detection: ${item.name}`, async () => {
    const file = path.join(folder, item.file);
    await writeFile(file, item.bytes);
    if (item.kind) {
      assert.equal(await detectWeightsKind(file), item.kind);
    } else {
      await assert.rejects(detectWeightsKind(file), (error: unknown) => {
        assert.ok(error instanceof AppError && error.code === 'weights-import', String(error));
        assert.match(error.message, item.error!);
        return true;
      });
    }
  });
}

test('a missing file and a folder are refused by name', async () => {
  await assert.rejects(importWeightsFile(path.join(folder, 'nope.h5'), { env }), /nope\.h5 does not exist/);
  await assert.rejects(importWeightsFile(folder, { env }), /is not a file/);
});

test('a file whose MD5 is a catalogue entry is filed under that entry, so resolveWeightsFile finds it', async () => {
  const body = fakeH5(10_000, 9);
  const entry: WeightsEntry = { ...catalogueEntry('b2', false, env), md5: md5(body) };
  const source = path.join(folder, 'downloaded-elsewhere.h5');
  await writeFile(source, body);
  const result = await importWeightsFile(source, { env, catalogue: [entry] });
  assert.equal(result.entry?.fileName, 'efficientnetb2_notop.h5');
  assert.equal(result.kind, 'keras-h5');
  assert.equal(result.path, path.join(env.EFFNET_HOME!, 'weights', 'efficientnetb2_notop.h5'));
  assert.deepEqual(await readFile(result.path), body);
  assert.equal(await resolveWeightsFile('b2', false, env), result.path);
  assert.deepEqual(await readImportIndex(env), [], 'catalogue files need no index record');
  const again = await importWeightsFile(source, { env, catalogue: [entry] });
  assert.equal(again.alreadyPresent, true);
});

test('any other weights file goes to imported/ and into index.json with its provenance', async () => {
  const body = safetensors(tensors);
  const source = path.join(folder, 'efficientnet_b0.safetensors');
  await writeFile(source, body);
  const result = await importWeightsFile(source, { env });
  assert.equal(result.entry, undefined);
  assert.equal(result.path, path.join(env.EFFNET_HOME!, 'weights', 'imported', 'efficientnet_b0.safetensors'));
  assert.deepEqual(await readFile(result.path), body);

  const [record, ...rest] = await readImportIndex(env);
  assert.equal(rest.length, 0);
  assert.equal(record?.name, 'imported/efficientnet_b0.safetensors');
  assert.equal(record?.source, source);
  assert.equal(record?.kind, 'safetensors');
  assert.equal(record?.md5, md5(body));
  assert.equal(record?.bytes, body.length);
  assert.ok(Date.now() - Date.parse(record!.importedAt) < 60_000);

  const listing = await listWeights(env);
  assert.deepEqual(
    listing.imported.map((r) => [r.name, r.present]),
    [['imported/efficientnet_b0.safetensors', true]],
  );
});

test('re-importing the same file changes nothing; a different file of the same name gets its own name', async () => {
  const source = path.join(folder, 'w.h5');
  await writeFile(source, fakeH5(3000, 1));
  const first = await importWeightsFile(source, { env });
  const again = await importWeightsFile(source, { env });
  assert.equal(again.alreadyPresent, true);
  assert.equal(again.path, first.path);

  const other = fakeH5(3000, 2);
  await writeFile(source, other);
  const second = await importWeightsFile(source, { env });
  assert.equal(path.basename(second.path), `w-${md5(other).slice(0, 8)}.h5`);
  assert.deepEqual(await readFile(first.path), fakeH5(3000, 1), 'the first import is untouched');
  assert.deepEqual(
    (await readImportIndex(env)).map((r) => r.name),
    ['imported/w-' + md5(other).slice(0, 8) + '.h5', 'imported/w.h5'],
  );
});

test('a corrupt index.json is reported by path, not overwritten', async () => {
  const source = path.join(folder, 'x.h5');
  await writeFile(source, fakeH5(2000));
  await importWeightsFile(source, { env });
  const index = path.join(env.EFFNET_HOME!, 'weights', 'index.json');
  await writeFile(index, '{ not json');
  await assert.rejects(importWeightsFile(source, { env }), (error: unknown) => {
    assert.ok(error instanceof AppError && error.code === 'weights-index');
    assert.ok(error.message.includes(index));
    return true;
  });
  assert.equal(await readFile(index, 'utf8'), '{ not json');
});
