/**
 * Where the app's own files are, whichever way it runs:
 *   - from the TypeScript sources under tsx (the CLI, tests, `effnet serve`);
 *   - from the bundles main/build.ts writes to dist/ (`electron .`), where `import.meta.url` is the
 *     bundle's file, not the module's, so no module may count folders up from itself;
 *   - packaged by electron-builder: dist/ and package.json inside app.asar, and resources/ copied
 *     beside it (`extraResources`: `process.resourcesPath/resources`).
 * The Electron main process knows which (app.isPackaged) and says where resources/ is in
 * EFFNET_RESOURCES, which worker processes and threads inherit. Elsewhere the project's layout
 * decides: resources/ and dist/ beside the nearest package.json.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../common/errors.ts';

/** An absolute folder that replaces `<app root>/resources` (set by main/main.ts). */
export const RESOURCES_ENV = 'EFFNET_RESOURCES';

/** Every file under resources/ the code reads: electron-builder.yml must ship each (main/packaging.test.ts). */
export const RESOURCE_FILES = ['weights/keras-imagenet.json', 'imagenet/classes.json', 'onnx/onnx.proto3'] as const;
export type ResourceFile = (typeof RESOURCE_FILES)[number];

const thisFile = fileURLToPath(import.meta.url);

/**
 * Whether this code runs from the TypeScript sources rather than from a bundle in dist/: it decides
 * between starting workers through the tsx launchers and starting the compiled entries.
 */
export const FROM_SOURCE = thisFile.endsWith('.ts');

let root: string | undefined;

/**
 * The folder holding the app's package.json: the project folder, or app.asar when packaged. Found
 * upwards from this file, so it is the same from app/node/ and from any dist/<part>/ bundle.
 */
export function appRoot(): string {
  root ??= findRoot(path.dirname(thisFile));
  return root;
}

/** Exported for the tests: the nearest folder at or above `start` that has a package.json. */
export function findRoot(start: string): string {
  for (let folder = start; ; folder = path.dirname(folder)) {
    if (existsSync(path.join(folder, 'package.json'))) return folder;
    if (path.dirname(folder) === folder)
      throw new Error(`No package.json in ${start} or any folder above it: the app's files are not where they belong`);
  }
}

/** A path inside dist/ (the built renderer, the compiled workers), from the sources and from a bundle alike. */
export function distPath(...parts: string[]): string {
  return path.join(appRoot(), 'dist', ...parts);
}

export function resourcesFolder(env: NodeJS.ProcessEnv = process.env): string {
  const override = env[RESOURCES_ENV];
  if (override === undefined || override === '') return path.join(appRoot(), 'resources');
  if (!path.isAbsolute(override)) {
    throw new AppError('invalid-config', `${RESOURCES_ENV} must be an absolute folder, got '${override}'`, {
      hint: `Unset ${RESOURCES_ENV}, or set it to the full path of the app's resources folder.`,
    });
  }
  return override;
}

export function resourcePath(file: ResourceFile, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(resourcesFolder(env), ...file.split('/'));
}

/** The file's text; a missing file is a broken installation, and the error says where it looked. */
export function readResource(file: ResourceFile, env: NodeJS.ProcessEnv = process.env): string {
  const location = resourcePath(file, env);
  try {
    return readFileSync(location, 'utf8');
  } catch (error) {
    const overridden = Boolean(env[RESOURCES_ENV]);
    throw new AppError('resource-missing', `The app's resource file ${location} cannot be read: ${(error as Error).message}`, {
      hint: overridden
        ? `${RESOURCES_ENV}=${env[RESOURCES_ENV]} does not hold ${file}: unset it or point it at the app's resources folder.`
        : 'The installation is incomplete: reinstall EffNet Studio (from a clone: restore the resources/ folder with git).',
      details: { file, location },
      cause: error,
    });
  }
}
