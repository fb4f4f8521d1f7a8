/**
 * electron-builder.yml against what the app loads at run time. A full package build needs the
 * Electron binary (a download), so this checks the configuration instead: electron-builder's own
 * schema, and that every built file, resource, package and native binary the code needs is shipped
 * where the code looks for it.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { minimatch } from 'minimatch';
import { RESOURCE_FILES } from '../app/node/resources.ts';
import { PROJECT_ROOT } from '../app/node/shared-path.ts';
import { buildShell, type ShellBuild } from './build.ts';

// electron-builder's own YAML reader and schema validator (devDependencies of the project).
const requireHere = createRequire(import.meta.url);
const yaml = requireHere('js-yaml') as { load(text: string): unknown };
const { validateSchema } = requireHere('app-builder-lib/out/util/config/schemaValidator.js') as {
  validateSchema(schema: unknown, data: unknown, options?: object): void;
};

interface FileSet {
  from: string;
  to: string;
  filter: string[];
}
interface Config {
  files: string[];
  extraResources: FileSet[];
  asarUnpack: string[];
  extraMetadata: { main: string };
  npmRebuild: boolean;
  linux: { target: string[] };
  mac: { target: string[] };
  win: { target: string[] };
}

const config = yaml.load(readFileSync(path.join(PROJECT_ROOT, 'electron-builder.yml'), 'utf8')) as Config;
const manifest = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
  main: string;
  dependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
};

/** electron-builder expands ${platform} (darwin, linux, win32) in file patterns; this checks the build for this machine's. */
const expand = (pattern: string) => pattern.replaceAll('${platform}', process.platform);
const matches = (file: string, pattern: string) => minimatch(file, expand(pattern), { dot: true });

/** Whether `files` puts a project file (relative, forward slashes) into app.asar. */
function inAsar(file: string): boolean {
  const positive = config.files.filter((p) => !p.startsWith('!'));
  const negative = config.files.filter((p) => p.startsWith('!')).map((p) => p.slice(1));
  // electron-builder adds the production dependencies itself; the patterns can only take files away.
  const included = file.startsWith('node_modules/') || positive.some((p) => matches(file, p));
  return included && !negative.some((p) => matches(file, p));
}

const scratch = mkdtempSync(path.join(os.tmpdir(), 'effnet-packaging-'));
let built: ShellBuild;
before(async () => {
  built = await buildShell(path.join(scratch, 'dist'));
});
after(() => rmSync(scratch, { recursive: true, force: true }));

/** The installed production dependency tree: package name → folder relative to the project. */
function productionPackages(): Map<string, string> {
  const found = new Map<string, string>();
  const queue: [string, string][] = Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies }).map((name) => [name, '.']);
  while (queue.length > 0) {
    const [name, from] = queue.shift()!;
    // Node's lookup: a copy nested under the dependent first, then the hoisted one.
    const folder = [path.join(from, 'node_modules', name), path.join('node_modules', name)].find((candidate) =>
      existsSync(path.join(PROJECT_ROOT, candidate, 'package.json')),
    );
    if (!folder || found.has(folder)) continue; // an optional dependency that is not installed (tfjs-node here)
    found.set(folder, name);
    const dependency = JSON.parse(readFileSync(path.join(PROJECT_ROOT, folder, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    for (const next of Object.keys({ ...dependency.dependencies, ...dependency.optionalDependencies })) queue.push([next, folder]);
  }
  return new Map([...found].map(([folder, name]) => [name, folder]));
}

/** Files under `folder` (relative to the project, forward slashes), nested packages left out (they are listed on their own). */
function filesOf(folder: string): string[] {
  return readdirSync(path.join(PROJECT_ROOT, folder), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(PROJECT_ROOT, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
    .filter((file) => !file.slice(folder.length + 1).includes('node_modules/'));
}

test("electron-builder's schema accepts the configuration, with the installers the project promises", () => {
  assert.doesNotThrow(() =>
    validateSchema(requireHere('app-builder-lib/scheme.json'), structuredClone(config), { name: 'electron-builder.yml' }),
  );
  assert.deepEqual(config.linux.target, ['AppImage', 'deb']);
  assert.deepEqual(config.mac.target, ['dmg']);
  assert.deepEqual(config.win.target, ['nsis']);
});

test('every file the build writes goes into app.asar, the entry point first', () => {
  assert.equal(config.extraMetadata.main, manifest.main);
  assert.ok(inAsar(manifest.main), manifest.main);
  assert.ok(inAsar('package.json'), 'package.json marks the app root (app/node/resources.ts)');
  assert.ok(inAsar('dist/renderer/index.html'));
  const files = built.files.map(({ file }) => `dist/${file}`);
  for (const needed of ['dist/main/main.js', 'dist/main/preload.cjs', 'dist/workers/launch.mjs', 'dist/workers/pipeline-thread.mjs']) {
    assert.ok(files.includes(needed), `the build wrote no ${needed}`);
  }
  assert.deepEqual(
    files.filter((file) => !inAsar(file)),
    [],
  );
  // Sources and source maps stay out: the app runs from dist/ alone.
  for (const file of ['app/cli/effnet.mjs', 'workers/launch.mjs', 'workers/entry.ts', 'dist/main/main.js.map'])
    assert.equal(inAsar(file), false, file);
});

test('every package the bundles import is a production dependency that is shipped', () => {
  const declared = new Set([...Object.keys(manifest.dependencies), ...Object.keys(manifest.optionalDependencies ?? {})]);
  // Electron provides `electron` itself.
  const undeclared = built.packages.filter((name) => name !== 'electron' && !declared.has(name));
  assert.deepEqual(undeclared, [], 'imported by a bundle but not in package.json dependencies');
  const dropped = built.packages.filter((name) => name !== 'electron' && !inAsar(`node_modules/${name}/package.json`));
  assert.deepEqual(dropped, [], 'imported by a bundle but excluded by `files`');
  // What `files` drops must be something the bundles never import.
  assert.equal(inAsar('node_modules/tsx/package.json'), false);
});

test('every resource the code reads is copied to process.resourcesPath/resources', () => {
  const sets = config.extraResources.filter((set) => set.from === 'resources');
  assert.equal(sets.length, 1);
  const [set] = sets;
  // main/main.ts sets EFFNET_RESOURCES to path.join(process.resourcesPath, 'resources').
  assert.equal(set!.to, 'resources');
  const copied = (file: string) =>
    set!.filter.some((p) => !p.startsWith('!') && matches(file, p)) &&
    !set!.filter.some((p) => p.startsWith('!') && matches(file, p.slice(1)));
  for (const file of RESOURCE_FILES) {
    assert.ok(existsSync(path.join(PROJECT_ROOT, 'resources', file)), file);
    assert.ok(copied(file), `${file} is not copied by extraResources`);
  }
});

test('native binaries and the libraries they load are unpacked from app.asar', () => {
  const packages = productionPackages();
  for (const name of ['better-sqlite3', 'sharp', 'onnxruntime-node']) assert.ok(packages.has(name), name);
  const native = [...packages.values()].flatMap(filesOf).filter((file) => /\.(node|dylib|dll)$|\.so(\.\d+)*$/.test(file) && inAsar(file));
  // This machine's: the sharp and libvips builds for it, better-sqlite3's, onnxruntime's (the others are excluded).
  assert.ok(native.some((file) => file.startsWith('node_modules/@img/sharp-libvips-')));
  assert.ok(native.some((file) => file.startsWith('node_modules/better-sqlite3/')));
  assert.ok(native.some((file) => file.startsWith('node_modules/onnxruntime-node/')));
  assert.deepEqual(
    native.filter((file) => !config.asarUnpack.some((p) => matches(file, p))),
    [],
    'native files left inside app.asar',
  );
  // onnxruntime's binaries for other platforms stay out of this platform's installer.
  const foreign = native.filter(
    (file) => /onnxruntime-node\/bin\/[^/]+\/(darwin|linux|win32)\//.test(file) && !file.includes(`/${process.platform}/`),
  );
  assert.deepEqual(foreign, []);
});

test('modules compiled against Node (a binding.gyp) are rebuilt for Electron', () => {
  const compiled = [...productionPackages().values()].filter((folder) => existsSync(path.join(PROJECT_ROOT, folder, 'binding.gyp')));
  assert.ok(compiled.includes('node_modules/better-sqlite3'), compiled.join(', '));
  assert.equal(config.npmRebuild, true);
});
