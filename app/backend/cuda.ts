// Why the GPU path works or not, without loading TensorFlow: platform support, the NVIDIA driver as
// nvidia-smi reports it, and the CUDA 11.2 / cuDNN 8.1 libraries tfjs-node-gpu opens. tfjs-node-gpu
// itself only logs "Could not load dynamic library" and carries on on the CPU (tensorflow/tfjs#8269),
// so this is what tells the user what to install.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { CUDA_LIBRARIES, cudaInstallDirs, DEFAULT_LOADER_DIRS, findLibraries, parseLdconfig, splitLibraryPath } from './cuda-libraries.ts';
import type { LibraryLocation, LibrarySearchPlaces } from './cuda-libraries.ts';

export const GPU_PACKAGE = '@tensorflow/tfjs-node-gpu';
/** CUDA 11.x on Linux needs driver ≥ 450.80.02 (NVIDIA CUDA compatibility table; tfjs says "> 450.x"). */
export const MINIMUM_DRIVER = '450.80.02';

export interface GpuInfo {
  readonly name: string;
  readonly memoryMiB?: number;
  readonly computeCapability?: string;
}

export type CudaVerdict =
  | 'unsupported-platform'
  | 'no-gpu'
  | 'driver-error'
  | 'driver-too-old'
  | 'missing-libraries'
  | 'not-on-loader-path'
  | 'package-missing'
  | 'ready';

export interface CudaDiagnosis {
  readonly platform: string;
  readonly gpuFound: boolean;
  readonly gpus: readonly GpuInfo[];
  readonly driver?: string;
  /** The newest CUDA the driver supports (nvidia-smi's "CUDA Version"), not the installed toolkit. */
  readonly driverCudaVersion?: string;
  /** What nvidia-smi said when it failed, or that it is not installed. */
  readonly nvidiaSmi: { readonly status: 'ok' | 'missing' | 'failed'; readonly message?: string };
  readonly packageInstalled: boolean;
  readonly missingLibraries: readonly string[];
  readonly foundLibraries: Readonly<Record<string, LibraryLocation>>;
  readonly notOnLoaderPath: Readonly<Record<string, string>>;
  readonly verdict: CudaVerdict;
  /** One sentence: what stands between this machine and the GPU path. */
  readonly summary: string;
  /** Exactly what to do, in order. */
  readonly advice: readonly string[];
}

export interface CudaOptions {
  readonly platform?: NodeJS.Platform;
  readonly arch?: string;
  /** PATH (to find nvidia-smi) and LD_LIBRARY_PATH come from here. */
  readonly env?: NodeJS.ProcessEnv;
  /** Override the library search places (tests point these at temp dirs). */
  readonly places?: LibrarySearchPlaces;
  readonly packageInstalled?: boolean;
  /** The kernel module's version file, read when nvidia-smi is absent. */
  readonly driverVersionFile?: string;
}

/** Where each platform stands; only linux-x64 has a tfjs-node-gpu build (deps-constants.js, TFJS#4514, #5937). */
export function platformSupport(platform: string, arch: string): { gpu: boolean; message?: string } {
  if (platform === 'linux' && arch === 'x64') return { gpu: true };
  if (platform === 'darwin' && arch === 'arm64') {
    return {
      gpu: false,
      message: 'Apple Silicon has no tfjs-node or tfjs-node-gpu build (tensorflow/tfjs#4514): EffNet Studio uses WebAssembly.',
    };
  }
  if (platform === 'darwin') {
    return { gpu: false, message: 'macOS has no CUDA: tfjs-node-gpu installs the CPU library there. Use @tensorflow/tfjs-node for speed.' };
  }
  if (platform === 'win32') {
    return {
      gpu: false,
      message:
        'tfjs-node-gpu has no prebuilt Windows GPU addon (it must be built from source); use WSL2 with Ubuntu and follow the Linux steps.',
    };
  }
  if (platform === 'linux') {
    return {
      gpu: false,
      message: `Linux on ${arch} has no tfjs-node or tfjs-node-gpu build (tensorflow/tfjs#5937): EffNet Studio uses WebAssembly.`,
    };
  }
  return { gpu: false, message: `${platform}-${arch} has no tfjs-node-gpu build: EffNet Studio uses WebAssembly.` };
}

/** `nvidia-smi --query-gpu=name,driver_version,memory.total[,compute_cap] --format=csv,noheader,nounits`. */
export function parseGpuQuery(text: string): { gpus: GpuInfo[]; driver?: string } {
  const gpus: GpuInfo[] = [];
  let driver: string | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const [name, driverVersion, memory, computeCapability] = line.split(',').map((field) => field.trim());
    if (!name) continue;
    driver ??= driverVersion || undefined;
    const memoryMiB = Number(memory);
    gpus.push({
      name,
      ...(memory && Number.isFinite(memoryMiB) ? { memoryMiB } : {}),
      ...(computeCapability && /^\d+\.\d+$/.test(computeCapability) ? { computeCapability } : {}),
    });
  }
  return { gpus, driver };
}

/** The "CUDA Version: 12.4" in nvidia-smi's banner. */
export function parseDriverCudaVersion(text: string): string | undefined {
  return /CUDA Version:\s*([\d.]+)/.exec(text)?.[1];
}

/** Numeric comparison of dotted versions: 535.104.05 vs 450.80.02. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const difference = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (difference !== 0) return Math.sign(difference);
  }
  return 0;
}

interface CommandResult {
  readonly ok: boolean;
  readonly stdout: string;
  readonly message?: string;
  readonly missing?: boolean;
}

function runCommand(file: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(file, args, { env, timeout: 10_000, maxBuffer: 4 << 20 }, (error, stdout, stderr) => {
      if (!error) return resolve({ ok: true, stdout });
      const code = (error as NodeJS.ErrnoException).code;
      const message =
        `${stdout}\n${stderr}`
          .trim()
          .split('\n')
          .find((line) => line.trim() !== '') ?? error.message;
      resolve({ ok: false, stdout, missing: code === 'ENOENT', message });
    });
  });
}

async function queryNvidiaSmi(env: NodeJS.ProcessEnv) {
  const fields = 'name,driver_version,memory.total';
  // compute_cap needs driver ≥ 510; older ones reject the field, so ask again without it.
  let query = await runCommand('nvidia-smi', [`--query-gpu=${fields},compute_cap`, '--format=csv,noheader,nounits'], env);
  if (!query.ok && !query.missing) query = await runCommand('nvidia-smi', [`--query-gpu=${fields}`, '--format=csv,noheader,nounits'], env);
  if (!query.ok) return { status: query.missing ? ('missing' as const) : ('failed' as const), message: query.message, gpus: [] };
  const banner = await runCommand('nvidia-smi', [], env);
  return { status: 'ok' as const, ...parseGpuQuery(query.stdout), driverCudaVersion: parseDriverCudaVersion(banner.stdout) };
}

/** The driver version from the kernel module when nvidia-smi is absent. */
function procDriverVersion(file = '/proc/driver/nvidia/version'): string | undefined {
  try {
    return /Kernel Module\s+(?:for \S+\s+)?([\d.]+)/.exec(readFileSync(file, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

export async function systemLibraryPlaces(env: NodeJS.ProcessEnv = process.env): Promise<LibrarySearchPlaces> {
  let ldconfig = await runCommand('/sbin/ldconfig', ['-p'], env);
  if (!ldconfig.ok) ldconfig = await runCommand('ldconfig', ['-p'], env);
  return {
    ldLibraryPath: splitLibraryPath(env.LD_LIBRARY_PATH),
    ldconfigCache: parseLdconfig(ldconfig.stdout),
    defaultDirs: DEFAULT_LOADER_DIRS,
    otherDirs: cudaInstallDirs(undefined, env),
  };
}

export function isPackageInstalled(name: string): boolean {
  try {
    createRequire(import.meta.url).resolve(`${name}/package.json`);
    return true;
  } catch {
    return false;
  }
}

export async function diagnoseCuda(options: CudaOptions = {}): Promise<CudaDiagnosis> {
  const platform = options.platform ?? process.platform;
  const arch = options.arch ?? process.arch;
  const env = options.env ?? process.env;
  const packageInstalled = options.packageInstalled ?? isPackageInstalled(GPU_PACKAGE);
  const support = platformSupport(platform, arch);
  const base = { platform: `${platform}-${arch}`, packageInstalled };
  if (!support.gpu) {
    return {
      ...base,
      gpuFound: false,
      gpus: [],
      nvidiaSmi: { status: 'missing', message: 'not checked on this platform' },
      missingLibraries: [],
      foundLibraries: {},
      notOnLoaderPath: {},
      verdict: 'unsupported-platform',
      summary: support.message!,
      advice: [support.message!],
    };
  }
  const smi = await queryNvidiaSmi(env);
  const driver = 'driver' in smi && smi.driver ? smi.driver : procDriverVersion(options.driverVersionFile);
  const places = options.places ?? (await systemLibraryPlaces(env));
  const libraries = findLibraries(
    CUDA_LIBRARIES.map((library) => library.soname),
    places,
  );
  const gpus = smi.gpus;
  const driverCudaVersion = 'driverCudaVersion' in smi ? smi.driverCudaVersion : undefined;
  const facts = {
    ...base,
    // A loaded kernel module without nvidia-smi still means an NVIDIA GPU is there.
    gpuFound: gpus.length > 0 || (smi.status === 'missing' && driver !== undefined),
    gpus,
    driver,
    driverCudaVersion,
    nvidiaSmi: { status: smi.status, message: smi.message },
    missingLibraries: libraries.missing,
    foundLibraries: libraries.found,
    notOnLoaderPath: libraries.notOnLoaderPath,
  };
  return { ...facts, ...judge(facts) };
}

type Facts = Omit<CudaDiagnosis, 'verdict' | 'summary' | 'advice'>;

/** The first thing that blocks the GPU path is the verdict; advice lists every step still needed. */
export function judge(facts: Facts): Pick<CudaDiagnosis, 'verdict' | 'summary' | 'advice'> {
  const advice: string[] = [];
  const verdicts: [CudaVerdict, string][] = [];
  const driverMissing = facts.missingLibraries.includes('libcuda.so.1') && !facts.notOnLoaderPath['libcuda.so.1'];
  if (facts.nvidiaSmi.status === 'missing' && !facts.driver) {
    verdicts.push(['no-gpu', 'No NVIDIA driver found (no nvidia-smi, no /proc/driver/nvidia/version).']);
    advice.push(`If this machine has an NVIDIA GPU, install the NVIDIA driver (${MINIMUM_DRIVER} or newer) and check with \`nvidia-smi\`.`);
  } else if (facts.nvidiaSmi.status === 'failed' || (facts.nvidiaSmi.status === 'ok' && facts.gpus.length === 0)) {
    verdicts.push(['driver-error', `nvidia-smi cannot talk to the driver: ${facts.nvidiaSmi.message ?? 'no GPU listed'}.`]);
    advice.push(
      'Make sure the NVIDIA kernel module matches the installed driver (reboot after a driver upgrade); `nvidia-smi` must list the GPU.',
    );
  } else if (facts.driver && compareVersions(facts.driver, MINIMUM_DRIVER) < 0) {
    verdicts.push(['driver-too-old', `Driver ${facts.driver} is older than ${MINIMUM_DRIVER}, the minimum for CUDA 11.x.`]);
    advice.push(`Upgrade the NVIDIA driver to ${MINIMUM_DRIVER} or newer.`);
  }
  const toolkitMissing = CUDA_LIBRARIES.filter((l) => l.component !== 'driver' && facts.missingLibraries.includes(l.soname));
  const absent = toolkitMissing.filter((l) => !facts.notOnLoaderPath[l.soname]);
  const misplaced = toolkitMissing.filter((l) => facts.notOnLoaderPath[l.soname]);
  if (driverMissing && verdicts.length === 0) {
    verdicts.push(['driver-error', 'libcuda.so.1 (the driver library) is not on the loader path.']);
    advice.push('Reinstall the NVIDIA driver so libcuda.so.1 is installed (under WSL2 it is in /usr/lib/wsl/lib).');
  }
  if (absent.length > 0) {
    const cuda = absent.filter((l) => l.component === 'cuda');
    const cudnn = absent.filter((l) => l.component === 'cudnn');
    const names = absent.map((l) => l.soname).join(', ');
    verdicts.push(['missing-libraries', `tfjs-node-gpu needs CUDA 11.2 and cuDNN 8.1; missing: ${names}.`]);
    if (cuda.length > 0) {
      advice.push(
        `Install the CUDA 11.2 runtime libraries (${cuda.map((l) => l.soname).join(', ')}) beside any newer CUDA: \`sudo apt-get install cuda-libraries-11-2\` from NVIDIA's Ubuntu 18.04/20.04 repository, or elsewhere the CUDA 11.2.2 runfile: \`sudo sh cuda_11.2.2_460.32.03_linux.run --silent --toolkit --toolkitpath=/usr/local/cuda-11.2\` (no driver).`,
      );
    }
    if (cudnn.length > 0) {
      advice.push(
        'Install cuDNN 8.1 for CUDA 11.2 (libcudnn.so.8): `sudo apt-get install libcudnn8=8.1.1.33-1+cuda11.2` (`apt-cache madison libcudnn8` lists the 8.1 builds), or unpack the cuDNN 8.1 for CUDA 11.2 archive into /usr/local/cuda-11.2.',
      );
    }
  }
  if (misplaced.length > 0 || facts.notOnLoaderPath['libcuda.so.1']) {
    const dirs = [...new Set(Object.values(facts.notOnLoaderPath).map((file) => file.slice(0, file.lastIndexOf('/'))))];
    verdicts.push(['not-on-loader-path', `Installed but not on the loader path: ${Object.keys(facts.notOnLoaderPath).join(', ')}.`]);
    advice.push(
      `Put ${dirs.join(' and ')} on the loader path: \`export LD_LIBRARY_PATH=${dirs.join(':')}\${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}\` (or list ${dirs.length > 1 ? 'them' : 'it'} in /etc/ld.so.conf.d/cuda-11-2.conf and run \`sudo ldconfig\`).`,
    );
  }
  if (!facts.packageInstalled) {
    verdicts.push(['package-missing', `${GPU_PACKAGE} is not installed.`]);
    advice.push(`Install the GPU package: \`npm install ${GPU_PACKAGE}\` (it downloads libtensorflow 2.9.1 with GPU support).`);
  }
  const first = verdicts[0];
  if (first && first[0] === 'no-gpu') return { verdict: 'no-gpu', summary: first[1], advice: advice.slice(0, 1) };
  if (!first)
    return { verdict: 'ready', summary: 'Driver, CUDA 11.x and cuDNN 8 libraries and tfjs-node-gpu are all in place.', advice: [] };
  return { verdict: first[0], summary: verdicts.map(([, sentence]) => sentence).join(' '), advice };
}
