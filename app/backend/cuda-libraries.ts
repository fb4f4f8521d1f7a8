// The shared libraries tfjs-node-gpu 4.22 (libtensorflow 2.9.1) opens with dlopen, and where the
// dynamic loader would find them. TensorFlow asks for sonames, not paths: a library that sits in
// /usr/local/cuda-11.2/lib64 but is neither on LD_LIBRARY_PATH nor in the ldconfig cache is NOT
// found, and TensorFlow then runs on the CPU without failing (tensorflow/tfjs#8269, #3727).
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export interface CudaLibrary {
  readonly soname: string;
  /** Which install provides it: the NVIDIA driver, the CUDA 11.2 toolkit, or cuDNN 8.1. */
  readonly component: 'driver' | 'cuda' | 'cudnn';
  /** The package in NVIDIA's apt repository (developer.download.nvidia.com/compute/cuda/repos). */
  readonly aptPackage: string;
}

/**
 * CUDA 11.2 + cuDNN 8.1 is what tfjs-node-gpu documents (driver > 450.x, CUDA 11.2, cuDNN 8.1.0:
 * tensorflow/tfjs#8362, #8047); these are the sonames libtensorflow 2.9.1 logs "Could not load
 * dynamic library" for. Every CUDA 11.x runtime uses the same sonames.
 */
export const CUDA_LIBRARIES: readonly CudaLibrary[] = [
  { soname: 'libcuda.so.1', component: 'driver', aptPackage: 'the NVIDIA driver (nvidia-driver-*)' },
  { soname: 'libcudart.so.11.0', component: 'cuda', aptPackage: 'cuda-cudart-11-2' },
  { soname: 'libcublas.so.11', component: 'cuda', aptPackage: 'libcublas-11-2' },
  { soname: 'libcublasLt.so.11', component: 'cuda', aptPackage: 'libcublas-11-2' },
  { soname: 'libcufft.so.10', component: 'cuda', aptPackage: 'libcufft-11-2' },
  { soname: 'libcurand.so.10', component: 'cuda', aptPackage: 'libcurand-11-2' },
  { soname: 'libcusolver.so.11', component: 'cuda', aptPackage: 'libcusolver-11-2' },
  { soname: 'libcusparse.so.11', component: 'cuda', aptPackage: 'libcusparse-11-2' },
  { soname: 'libcudnn.so.8', component: 'cudnn', aptPackage: 'libcudnn8 (8.1.x+cuda11.2)' },
];

/** Where to look, in the dynamic loader's own order (ld.so(8)), plus places it does not look. */
export interface LibrarySearchPlaces {
  /** LD_LIBRARY_PATH entries, searched first. */
  readonly ldLibraryPath: readonly string[];
  /** soname → path, from `ldconfig -p` (the loader's cache of /etc/ld.so.conf directories). */
  readonly ldconfigCache: ReadonlyMap<string, string>;
  /** The loader's trusted default directories, searched last. */
  readonly defaultDirs: readonly string[];
  /** Where CUDA is usually installed; a library found only here is NOT loadable until configured. */
  readonly otherDirs: readonly string[];
}

export type LibraryVia = 'LD_LIBRARY_PATH' | 'ldconfig' | 'default' | 'not-on-loader-path';

export interface LibraryLocation {
  readonly path: string;
  readonly via: LibraryVia;
}

export interface LibrarySearchResult {
  /** soname → where the loader finds it. */
  readonly found: Readonly<Record<string, LibraryLocation>>;
  /** Sonames the loader would not find (including those found only on disk elsewhere). */
  readonly missing: readonly string[];
  /** soname → path for libraries present on disk but outside the loader's search path. */
  readonly notOnLoaderPath: Readonly<Record<string, string>>;
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

export function findLibraries(sonames: readonly string[], places: LibrarySearchPlaces): LibrarySearchResult {
  const found: Record<string, LibraryLocation> = {};
  const notOnLoaderPath: Record<string, string> = {};
  const missing: string[] = [];
  for (const soname of sonames) {
    const location = locate(soname, places);
    if (location && location.via !== 'not-on-loader-path') {
      found[soname] = location;
    } else {
      missing.push(soname);
      if (location) notOnLoaderPath[soname] = location.path;
    }
  }
  return { found, missing, notOnLoaderPath };
}

function locate(soname: string, places: LibrarySearchPlaces): LibraryLocation | undefined {
  for (const dir of places.ldLibraryPath) {
    const file = path.join(dir, soname);
    if (dir !== '' && isFile(file)) return { path: file, via: 'LD_LIBRARY_PATH' };
  }
  const cached = places.ldconfigCache.get(soname);
  if (cached && isFile(cached)) return { path: cached, via: 'ldconfig' };
  for (const dir of places.defaultDirs) {
    const file = path.join(dir, soname);
    if (isFile(file)) return { path: file, via: 'default' };
  }
  for (const dir of places.otherDirs) {
    const file = path.join(dir, soname);
    if (isFile(file)) return { path: file, via: 'not-on-loader-path' };
  }
  return undefined;
}

/** `ldconfig -p` lines look like `\tlibcudnn.so.8 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcudnn.so.8`. */
export function parseLdconfig(text: string, abi = 'x86-64'): Map<string, string> {
  const cache = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^\s*(\S+)\s+\(([^)]*)\)(?:\s+OS ABI:[^=]*)?\s+=>\s+(\S.*?)\s*$/.exec(line);
    if (!match) continue;
    const [, soname, flags, file] = match as unknown as [string, string, string, string];
    // Keep this architecture's entries only; the first one listed is the one the loader uses.
    if (!flags.split(',').includes(abi)) continue;
    if (!cache.has(soname)) cache.set(soname, file);
  }
  return cache;
}

/** LD_LIBRARY_PATH as a list; empty entries mean the current directory to ld.so, which we skip. */
export function splitLibraryPath(value: string | undefined): string[] {
  return (value ?? '').split(':').filter((entry) => entry.trim() !== '');
}

/** The loader's defaults on x86-64 Linux. */
export const DEFAULT_LOADER_DIRS: readonly string[] = ['/lib', '/usr/lib', '/lib64', '/usr/lib64'];

/**
 * Usual CUDA install places: every /usr/local/cuda*, /opt/cuda* toolkit (side-by-side installs like
 * cuda-11.2 next to cuda-12.4), distribution multiarch dirs, WSL2's driver dir, and a conda env.
 */
export function cudaInstallDirs(roots: readonly string[] = ['/usr/local', '/opt'], env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs: string[] = [];
  for (const root of roots) {
    let entries: string[];
    try {
      entries = readdirSync(root).filter((name) => /^cuda/.test(name));
    } catch {
      continue;
    }
    for (const name of entries.sort()) {
      dirs.push(path.join(root, name, 'lib64'), path.join(root, name, 'targets', 'x86_64-linux', 'lib'), path.join(root, name, 'lib'));
    }
  }
  dirs.push('/usr/lib/x86_64-linux-gnu', '/usr/lib/wsl/lib', '/usr/lib/nvidia', '/usr/lib64/nvidia');
  if (env.CONDA_PREFIX) dirs.push(path.join(env.CONDA_PREFIX, 'lib'));
  return dirs;
}
