/**
 * The one place the app's own files are resolved (app/node/resources.ts). How a bundle in dist/
 * resolves them is main/build.test.ts's part: there the code really runs from a bundle.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { AppError } from '../common/errors.ts';
import {
  appRoot,
  distPath,
  findRoot,
  FROM_SOURCE,
  readResource,
  RESOURCE_FILES,
  RESOURCES_ENV,
  resourcePath,
  resourcesFolder,
} from './resources.ts';
import { PROJECT_ROOT } from './shared-path.ts';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'effnet-resources-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

test('from the sources: the project folder, its resources/ and dist/', () => {
  assert.equal(FROM_SOURCE, true);
  assert.equal(appRoot(), PROJECT_ROOT);
  assert.equal(resourcesFolder({}), path.join(PROJECT_ROOT, 'resources'));
  assert.equal(distPath('renderer'), path.join(PROJECT_ROOT, 'dist', 'renderer'));
  assert.equal(resourcePath('weights/keras-imagenet.json', {}), path.join(PROJECT_ROOT, 'resources', 'weights', 'keras-imagenet.json'));
});

test('every resource the code names is in resources/, and every file there is named (or documentation)', () => {
  for (const file of RESOURCE_FILES) assert.ok(readResource(file, {}).length > 0, file);
  const shipped = readdirSync(path.join(PROJECT_ROOT, 'resources'), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && !entry.name.endsWith('.md'))
    .map((entry) => path.relative(path.join(PROJECT_ROOT, 'resources'), path.join(entry.parentPath, entry.name)).split(path.sep).join('/'));
  assert.deepEqual(shipped.sort(), [...RESOURCE_FILES].sort());
});

test(`${RESOURCES_ENV} replaces the folder: a packaged app's resources beside app.asar`, () => {
  const folder = path.join(scratch, 'Contents', 'Resources', 'resources');
  mkdirSync(path.join(folder, 'onnx'), { recursive: true });
  writeFileSync(path.join(folder, 'onnx', 'onnx.proto3'), 'syntax = "proto3";');
  const env = { [RESOURCES_ENV]: folder };
  assert.equal(resourcesFolder(env), folder);
  assert.equal(resourcePath('onnx/onnx.proto3', env), path.join(folder, 'onnx', 'onnx.proto3'));
  assert.equal(readResource('onnx/onnx.proto3', env), 'syntax = "proto3";');
  // Empty counts as unset (a shell's `EFFNET_RESOURCES=`).
  assert.equal(resourcesFolder({ [RESOURCES_ENV]: '' }), path.join(PROJECT_ROOT, 'resources'));
});

test(`a relative ${RESOURCES_ENV} is refused: it would depend on the working folder`, () => {
  assert.throws(
    () => resourcePath('onnx/onnx.proto3', { [RESOURCES_ENV]: 'resources' }),
    (error: AppError) => error.code === 'invalid-config' && error.message.includes("got 'resources'") && /full path/.test(error.hint ?? ''),
  );
});

test('a missing resource is an AppError naming the file it looked for and what to do', () => {
  const env = { [RESOURCES_ENV]: path.join(scratch, 'empty') };
  const expected = path.join(scratch, 'empty', 'weights', 'keras-imagenet.json');
  assert.throws(
    () => readResource('weights/keras-imagenet.json', env),
    (error: AppError) =>
      error.code === 'resource-missing' &&
      error.message.includes(expected) &&
      new RegExp(`${RESOURCES_ENV}=.*does not hold weights/keras-imagenet\\.json`).test(error.hint ?? '') &&
      (error.details as { location: string }).location === expected,
  );
});

test('the app root is the nearest folder with a package.json: dist/<part>/ in a build finds the one beside dist/', () => {
  const app = path.join(scratch, 'app.asar');
  mkdirSync(path.join(app, 'dist', 'workers'), { recursive: true });
  writeFileSync(path.join(app, 'package.json'), '{}');
  assert.equal(findRoot(path.join(app, 'dist', 'workers')), app);
  assert.equal(findRoot(app), app);
  const nowhere = path.join(path.parse(scratch).root, 'effnet-no-such-folder', 'dist', 'main');
  assert.throws(() => findRoot(nowhere), /No package\.json in .*effnet-no-such-folder/);
});

test('no app code finds its files from shared-path.ts (test-only) or by counting folders up from itself', () => {
  const offenders: string[] = [];
  const appFolder = path.join(PROJECT_ROOT, 'app');
  for (const entry of readdirSync(appFolder, { recursive: true, withFileTypes: true })) {
    const file = path.join(entry.parentPath, entry.name);
    if (!entry.isFile() || !/\.(ts|mjs)$/.test(entry.name) || entry.name.endsWith('.test.ts') || entry.name === 'shared-path.ts') continue;
    const text = readFileSync(file, 'utf8');
    // `new URL('./x', import.meta.url)` beside this module is fine in the sources; a climb to the
    // project ('../../') is what breaks in a bundle.
    if (/shared-path\.ts'/.test(text) || /new URL\(['"`](\.\.\/){2,}/.test(text)) offenders.push(path.relative(PROJECT_ROOT, file));
  }
  assert.deepEqual(offenders, []);
});
