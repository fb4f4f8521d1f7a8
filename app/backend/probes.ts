// One probe per rung: load the package, make its backend current, and run a tiny op whose answer we
// know. "It loaded" is not enough: on Node ≥ 23 tfjs-node loads fine and then throws on every op
// (tensorflow/tfjs#8609), and tfjs-node-gpu loads fine and then computes on the CPU (tfjs#8269).
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { diagnoseCuda, isPackageInstalled, platformSupport, type CudaDiagnosis } from './cuda.ts';
import { RUNG_INFO, type BackendName, type ProbeResult } from './decision.ts';
import { installNodeUtilShim } from './node-util-shim.ts';

const requireHere = createRequire(import.meta.url);

/** Facts a probe found out beyond ok/why-not; the ladder folds them into its report. */
export interface ProbeContext {
  readonly env: NodeJS.ProcessEnv;
  gpu?: CudaDiagnosis;
  nodeUtilShim: string[];
  libtensorflow?: string;
  tfjsNode?: string;
}

/** Which package registered tfjs's 'tensorflow' backend in this process: only one libtensorflow may load. */
let tensorflowPackage: string | undefined;

export async function probeRung(rung: BackendName, context: ProbeContext): Promise<ProbeResult> {
  try {
    switch (rung) {
      case 'gpu':
        return await probeGpu(context);
      case 'node':
        return await probeNode(context);
      case 'wasm':
        return await probeWasm();
      case 'cpu':
        return await probeCpu();
    }
  } catch (error) {
    return explainLoadError(RUNG_INFO[rung].packageName, error);
  }
}

async function probeGpu(context: ProbeContext): Promise<ProbeResult> {
  const packageName = RUNG_INFO.gpu.packageName;
  const support = platformSupport(process.platform, process.arch);
  context.gpu ??= await diagnoseCuda({ env: context.env });
  if (!support.gpu) return { ok: false, reason: support.message! };
  if (!isPackageInstalled(packageName)) {
    const install = `Install the GPU package: \`npm install ${packageName}\`.`;
    const advice = context.gpu.advice.some((line) => line.includes('npm install')) ? context.gpu.advice : [...context.gpu.advice, install];
    return { ok: false, reason: `${packageName} is not installed`, hint: advice.join(' ') };
  }
  const loaded = await loadTensorflow(packageName, context);
  if (!loaded.ok) return loaded;
  const backend = tf.engine().findBackend('tensorflow') as { isUsingGpuDevice?: boolean } | null;
  if (!backend?.isUsingGpuDevice) {
    // The silent CPU fallback of tensorflow/tfjs#8269: say why, from our own library search.
    return {
      ok: false,
      reason: `${packageName} loaded, but TensorFlow registered no GPU device and would run on the CPU. ${context.gpu.summary}`,
      hint: context.gpu.advice.join(' ') || 'Run `effnet doctor` for the CUDA/cuDNN diagnosis.',
    };
  }
  const names = context.gpu.gpus.map((gpu) => gpu.name);
  return { ok: true, device: `GPU: ${names.length > 0 ? names.join(', ') : 'NVIDIA'} (CUDA, ${packageName})` };
}

async function probeNode(context: ProbeContext): Promise<ProbeResult> {
  const packageName = RUNG_INFO.node.packageName;
  if (tensorflowPackage === RUNG_INFO.gpu.packageName) {
    // tfjs-node-gpu already loaded libtensorflow without a GPU; loading tfjs-node too would put a
    // second libtensorflow in the process. Its CPU mode is the same thing as tfjs-node.
    const checked = await activate('tensorflow');
    return checked.ok
      ? { ok: true, device: `CPU (libtensorflow ${context.libtensorflow ?? ''} via ${tensorflowPackage}, no usable GPU)` }
      : checked;
  }
  const supported = ['linux-x64', 'darwin-x64', 'win32-x64'].includes(`${process.platform}-${process.arch}`);
  if (!supported) {
    return { ok: false, reason: `${packageName} has no build for ${process.platform}-${process.arch} (tensorflow/tfjs#4514, #5937)` };
  }
  if (!isPackageInstalled(packageName)) {
    return {
      ok: false,
      reason: `${packageName} is not installed`,
      hint: `\`npm install ${packageName}\` runs EfficientNet on libtensorflow's multi-threaded native kernels instead of single-threaded WebAssembly.`,
    };
  }
  const loaded = await loadTensorflow(packageName, context);
  return loaded.ok
    ? { ok: true, device: `CPU (libtensorflow ${context.libtensorflow ?? ''} via ${packageName})`.replace('  ', ' ') }
    : loaded;
}

async function loadTensorflow(packageName: string, context: ProbeContext): Promise<ProbeResult> {
  if (tensorflowPackage && tensorflowPackage !== packageName) {
    return {
      ok: false,
      reason: `${tensorflowPackage} is already loaded in this process`,
      hint: 'Restart the app to switch TensorFlow packages.',
    };
  }
  const core = compareCore(packageName);
  if (!core.same) {
    return {
      ok: false,
      reason: `${packageName} uses its own @tensorflow/tfjs-core (${core.theirs}), not ours (${core.ours}); its backend would not see our tensors`,
      hint: `Install matching versions: \`npm install @tensorflow/tfjs@${tf.version_core} ${packageName}@${tf.version_core}\`, then \`npm dedupe\`.`,
    };
  }
  context.nodeUtilShim = installNodeUtilShim();
  // libtensorflow logs every dlopen attempt to stderr; the report and `effnet doctor` explain the
  // outcome instead. A value the user set wins.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  // Importing registers the 'tensorflow' backend on the shared core and makes it current (tfjs-node/src/index.ts).
  const module = requireHere(packageName) as { version?: Record<string, string> };
  tensorflowPackage = packageName;
  context.tfjsNode = module.version?.['tfjs-node'];
  const activated = await activate('tensorflow');
  const backend = tf.engine().findBackend('tensorflow') as { binding?: { TF_Version?: string } } | null;
  context.libtensorflow = backend?.binding?.TF_Version;
  return activated;
}

async function probeWasm(): Promise<ProbeResult> {
  const packageName = RUNG_INFO.wasm.packageName;
  const core = compareCore(packageName);
  if (!core.same)
    return { ok: false, reason: `${packageName} uses its own @tensorflow/tfjs-core (${core.theirs}), not ours (${core.ours})` };
  // In Node the wasm backend reads its .wasm files beside its own dist/ bundle (Emscripten's
  // scriptDirectory = __dirname), so a missing file means a broken install, not a path to set.
  const dist = path.dirname(requireHere.resolve(packageName));
  await import('@tensorflow/tfjs-backend-wasm');
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  // In Node WASM_HAS_MULTITHREAD_SUPPORT is false (tfjs#3830): one thread.
  const threads = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
  const file = path.join(dist, simd ? 'tfjs-backend-wasm-simd.wasm' : 'tfjs-backend-wasm.wasm');
  if (!existsSync(file)) return { ok: false, reason: `${file} is missing`, hint: `Reinstall it: \`npm install ${packageName}\`.` };
  const activated = await activate('wasm');
  if (!activated.ok) return activated;
  return { ok: true, device: `CPU (WebAssembly${simd ? ', SIMD' : ''}, ${threads ? 'multi-threaded' : '1 thread'})` };
}

async function probeCpu(): Promise<ProbeResult> {
  const activated = await activate('cpu');
  return activated.ok ? { ok: true, device: 'CPU (plain JavaScript)' } : activated;
}

/**
 * Makes `name` current and checks it computes: tfjs's setBackend only returns false and logs the
 * reason with console.warn, so the warnings are captured for the report.
 */
export async function activate(name: string): Promise<ProbeResult> {
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => void warnings.push(args.map(String).join(' '));
  let success: boolean;
  let checked: ProbeResult | undefined;
  try {
    success = await tf.setBackend(name);
    await tf.ready();
    if (success) checked = await computeCheck(name);
  } finally {
    console.warn = warn;
  }
  if (!success) return { ok: false, reason: `the '${name}' backend did not initialise: ${warnings.join(' ').trim() || 'no reason given'}` };
  // The cpu backend's "install our node backend" banner: the ladder report says that, per rung.
  for (const warning of warnings) if (!warning.includes('looks like you are running TensorFlow.js in Node.js')) warn(warning);
  return checked!;
}

/** A 2×2 matMul and an add with known answers, on the current backend. */
export async function computeCheck(name: string): Promise<ProbeResult> {
  const got = await tf.tidy(() => tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2])).add(1)).data();
  const expected = [20, 23, 44, 51];
  if (tf.getBackend() !== name || expected.some((value, i) => got[i] !== value)) {
    return {
      ok: false,
      reason: `the '${name}' backend computed [${Array.from(got).join(', ')}] for a matMul whose answer is [${expected.join(', ')}]`,
    };
  }
  return { ok: true, device: name };
}

/**
 * Which tfjs-core a package would load, against ours. tfjs-node requires `@tensorflow/tfjs` (which
 * requires the core); the backends have the core as a peer dependency. npm dedupes them to one copy
 * when the versions match; a nested copy would register its backend on a different core.
 */
export function compareCore(packageName: string, from: string = import.meta.url): { same: boolean; ours: string; theirs: string } {
  const ours = coreLocation(createRequire(from).resolve('@tensorflow/tfjs/package.json'));
  const theirs = coreLocation(createRequire(from).resolve(`${packageName}/package.json`));
  return { same: ours === theirs, ours, theirs };
}

function coreLocation(packageJson: string): string {
  const require = createRequire(packageJson);
  const manifest = require(packageJson) as { name: string; dependencies?: Record<string, string> };
  if (manifest.name === '@tensorflow/tfjs-core') return path.dirname(packageJson);
  if (manifest.dependencies?.['@tensorflow/tfjs'] && manifest.name !== '@tensorflow/tfjs') {
    return coreLocation(require.resolve('@tensorflow/tfjs/package.json'));
  }
  return path.dirname(require.resolve('@tensorflow/tfjs-core/package.json'));
}

/** A load failure as a reason the user can act on; the patterns are the failures in tfjs's issue tracker. */
export function explainLoadError(packageName: string, error: unknown): Extract<ProbeResult, { ok: false }> {
  const message = error instanceof Error ? error.message : String(error);
  const first = message.split('\n')[0]!.trim();
  const rebuild = `\`npm rebuild ${packageName}\` (its install script downloads libtensorflow 2.9.1 from storage.googleapis.com)`;
  if (/NODE_MODULE_VERSION|compiled against a different Node\.js version/.test(message)) {
    return {
      ok: false,
      reason: `${packageName}'s native addon was built for another Node.js: ${first}`,
      hint: `Rebuild it for this runtime: \`npm rebuild ${packageName}\` (inside Electron: \`npx electron-rebuild -f -w ${packageName}\`).`,
    };
  }
  if (/GLIBC_|GLIBCXX_/.test(message)) {
    return {
      ok: false,
      reason: `${packageName} needs a newer C library than this Linux has: ${first}`,
      hint: 'Use a newer Linux distribution, or the wasm backend (EFFNET_BACKEND=wasm).',
    };
  }
  if (/tfjs_binding\.node/.test(message)) {
    return {
      ok: false,
      reason: `${packageName} is installed but its native addon (tfjs_binding.node) is missing: its install script did not finish`,
      hint: `Run ${rebuild}.`,
    };
  }
  if (/libtensorflow[\w.]*\.(so|dylib|dll)/.test(message)) {
    return { ok: false, reason: `${packageName} cannot load libtensorflow: ${first}`, hint: `Run ${rebuild}.` };
  }
  if (/util\w*\.is\w+\) is not a function/.test(message)) {
    return {
      ok: false,
      reason: `${packageName} calls a util function this Node.js removed (tensorflow/tfjs#8609): ${first}`,
      hint: 'Use Node.js 22 or older, or report this: the util shim should have covered it.',
    };
  }
  if ((error as NodeJS.ErrnoException | undefined)?.code === 'MODULE_NOT_FOUND' && message.includes(`'${packageName}'`)) {
    return { ok: false, reason: `${packageName} is not installed`, hint: `\`npm install ${packageName}\`` };
  }
  return { ok: false, reason: `${packageName} failed to load: ${first}` };
}
