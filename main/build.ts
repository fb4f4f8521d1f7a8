/**
 * Builds everything the Electron shell runs into dist/ (the renderer is vite's, dist/renderer):
 *   dist/main/main.js          the main process (ESM)
 *   dist/main/preload.cjs      the preload (CommonJS, as sandboxed preloads must be)
 *   dist/workers/launch.mjs    the worker processes: workers/entry.ts, each worker a chunk
 *   dist/workers/pipeline-thread.mjs   the dataset pipeline's decoding thread
 * Running from dist/ needs no TypeScript loader: the packaged app has no tsx (app/node/resources.ts
 * picks these entries when the code runs from a bundle). Every package stays external and loads
 * from node_modules: native modules (better-sqlite3, sharp, onnxruntime-node, tfjs-node) cannot be
 * bundled, tfjs-backend-wasm reads its .wasm files beside its own dist/, and a bundled second copy
 * of tfjs-core would not see the backends registered on node_modules' copy.
 *
 * `node --import tsx main/build.ts` builds into ./dist; main/build.test.ts calls buildShell() on a temporary folder.
 */
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { rmSync, statSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHANNELS } from '../app/common/ipc/contract.ts';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The name main/preload.ts reads the channel list from. */
export const CHANNELS_DEFINE = '__EFFNET_CHANNELS__';

export interface BuiltFile {
  /** Relative to the dist folder, with forward slashes. */
  readonly file: string;
  readonly bytes: number;
}

export interface ShellBuild {
  readonly files: readonly BuiltFile[];
  /** Every package a built file imports at run time (from node_modules, or Electron's own). */
  readonly packages: readonly string[];
}

const common: BuildOptions = {
  absWorkingDir: projectRoot,
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  metafile: true,
};

/** The main process bundle's settings (main/build.test.ts bundles a probe with them, to run app code as main does). */
export const MAIN_BUNDLE: BuildOptions = {
  ...common,
  format: 'esm',
  packages: 'external',
  // ESM has no `require`; this lets bundled code that calls it (createRequire users aside) work.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
};

/** Builds into `distFolder` (absolute, or relative to the project); returns what it wrote. */
export async function buildShell(distFolder: string = path.join(projectRoot, 'dist')): Promise<ShellBuild> {
  const dist = path.resolve(projectRoot, distFolder);
  // Chunk names change with their content: old ones must not linger (electron-builder packs the whole folder).
  for (const part of ['main', 'workers']) rmSync(path.join(dist, part), { recursive: true, force: true });
  const results = await Promise.all([
    build({ ...MAIN_BUNDLE, entryPoints: ['main/main.ts'], outfile: path.join(dist, 'main', 'main.js') }),
    build({
      ...common,
      entryPoints: ['main/preload.ts'],
      outfile: path.join(dist, 'main', 'preload.cjs'),
      format: 'cjs',
      // A sandboxed preload can require only `electron` (and a few Node built-ins): everything else is bundled.
      external: ['electron'],
      // The channel names without contract.ts: its zod schemas would add ~770 KB to every window,
      // and main validates every call's arguments anyway.
      define: { [CHANNELS_DEFINE]: JSON.stringify(CHANNELS) },
    }),
    build({
      ...common,
      entryPoints: { launch: 'workers/entry.ts', 'pipeline-thread': 'app/dataset/pipeline/sample-worker.ts' },
      outdir: path.join(dist, 'workers'),
      outExtension: { '.js': '.mjs' },
      format: 'esm',
      splitting: true,
      chunkNames: 'chunk-[hash]',
      packages: 'external',
    }),
  ]);
  const metafiles = results.map((result) => result.metafile as Metafile);
  const files = metafiles
    .flatMap((metafile) => Object.keys(metafile.outputs))
    .filter((file) => !file.endsWith('.map'))
    .map((file) => {
      const absolute = path.resolve(projectRoot, file);
      return { file: path.relative(dist, absolute).split(path.sep).join('/'), bytes: statSync(absolute).size };
    })
    .sort((a, b) => a.file.localeCompare(b.file));
  return { files, packages: importedPackages(metafiles) };
}

/** Bare imports left in the output, as package names (`@scope/name`, `name`); Node's built-ins excluded. */
function importedPackages(metafiles: readonly Metafile[]): string[] {
  const names = new Set<string>();
  for (const metafile of metafiles) {
    for (const output of Object.values(metafile.outputs)) {
      for (const imported of output.imports) {
        if (!imported.external || isBuiltin(imported.path) || imported.path.startsWith('.')) continue;
        const parts = imported.path.split('/');
        names.add(imported.path.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
      }
    }
  }
  return [...names].sort();
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { files } = await buildShell();
  const chunks = files.filter(({ file }) => file.startsWith('workers/chunk-'));
  const rows = [
    ...files.filter((built) => !chunks.includes(built)).map(({ file, bytes }) => [`dist/${file}`, bytes] as const),
    [`dist/workers/chunk-*.mjs (${chunks.length}, shared by the workers)`, chunks.reduce((sum, chunk) => sum + chunk.bytes, 0)] as const,
  ];
  for (const [name, bytes] of rows) console.log(`${name.padEnd(52)} ${(bytes / 1024).toFixed(1).padStart(8)} KB`);
}
