import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AppError } from '../../common/errors.ts';
import { diagnoseCuda, type CudaDiagnosis } from '../../backend/cuda.ts';
import { initBackend, type BackendReport, type RungReport } from '../../backend/ladder.ts';
import { smokeTest, type SmokeResult } from '../../backend/smoke.ts';
import { dataPaths } from '../../node/paths.ts';
import { parseOptions, writeJson, type Command } from '../command.ts';
import { formatBytes, formatTable } from '../terminal.ts';

export interface DataFolderStatus {
  readonly path: string;
  readonly exists: boolean;
  readonly writable: boolean;
  readonly note: string;
}

/** Whether the app can write its data folder, without creating it (the doctor only looks). */
export async function dataFolderStatus(root: string): Promise<DataFolderStatus> {
  let existing = root;
  for (;;) {
    try {
      if (!(await stat(existing)).isDirectory()) {
        return { path: root, exists: false, writable: false, note: `${existing} is a file, not a folder: set EFFNET_HOME to a folder` };
      }
      break;
    } catch {
      const parent = path.dirname(existing);
      if (parent === existing) break;
      existing = parent;
    }
  }
  const exists = existing === root;
  let writable = true;
  try {
    await access(existing, constants.W_OK);
  } catch {
    writable = false;
  }
  const note = exists
    ? writable
      ? 'writable'
      : 'NOT writable: fix its permissions or set EFFNET_HOME to a folder you own'
    : writable
      ? `does not exist yet; it will be created under ${existing}`
      : `does not exist, and ${existing} is not writable: set EFFNET_HOME to a folder you own`;
  return { path: root, exists, writable, note };
}

function systemFacts() {
  const cpus = os.cpus();
  return {
    platform: process.platform,
    arch: process.arch,
    os: `${os.type()} ${os.release()}`,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpuCores: typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length,
    memoryBytes: os.totalmem(),
    freeMemoryBytes: os.freemem(),
  };
}

function rungLine(rung: RungReport): string[] {
  const mark = rung.status === 'chosen' ? '✓' : rung.status === 'failed' ? '✗' : '·';
  const detail = rung.status === 'chosen' ? `chosen: ${rung.device}` : rung.reason;
  return [`${mark} ${rung.rung}`, rung.packageName, detail];
}

function gpuLines(gpu: CudaDiagnosis): string[] {
  const lines = [`  verdict      ${gpu.verdict}: ${gpu.summary}`];
  if (gpu.gpus.length > 0) {
    for (const card of gpu.gpus) {
      const memory = card.memoryMiB ? `, ${formatBytes(card.memoryMiB * 1024 ** 2)}` : '';
      const capability = card.computeCapability ? `, compute ${card.computeCapability}` : '';
      lines.push(`  gpu          ${card.name}${memory}${capability}`);
    }
  }
  if (gpu.verdict !== 'unsupported-platform') {
    lines.push(`  nvidia-smi   ${gpu.nvidiaSmi.status}${gpu.nvidiaSmi.message ? ` (${gpu.nvidiaSmi.message})` : ''}`);
    lines.push(`  driver       ${gpu.driver ?? 'none'}${gpu.driverCudaVersion ? ` (supports CUDA up to ${gpu.driverCudaVersion})` : ''}`);
    for (const [soname, location] of Object.entries(gpu.foundLibraries))
      lines.push(`  found        ${soname}  ${location.path} (${location.via})`);
    const absent = gpu.missingLibraries.filter((soname) => !gpu.notOnLoaderPath[soname]);
    if (absent.length > 0) lines.push(`  missing      ${absent.join(', ')}`);
    for (const [soname, file] of Object.entries(gpu.notOnLoaderPath))
      lines.push(`  not loadable ${soname}  on disk at ${file}, but not on the loader path`);
    lines.push(`  package      @tensorflow/tfjs-node-gpu ${gpu.packageInstalled ? 'installed' : 'not installed'}`);
  }
  return lines;
}

function textReport(result: DoctorResult): string {
  const out: string[] = ['EffNet Studio doctor', ''];
  const { report, error } = result;
  if (report) {
    const how = report.forced ? `forced by EFFNET_BACKEND=${report.forced}` : 'chosen automatically (set EFFNET_BACKEND to force one)';
    const title = report.rungs.find((rung) => rung.rung === report.rung)?.title ?? report.rung;
    out.push(`Backend   '${report.backend}': ${title}, from ${report.packageName}`, `          ${how}`, `Device    ${report.device}`);
  } else if (error) {
    out.push(`Backend   NONE: ${error.message}`, ...(error.hint ? [`          ${error.hint}`] : []));
  }
  if (result.rungs.length > 0) {
    out.push('', 'Ladder (fastest first)', formatTable(['rung', 'package', 'result'], result.rungs.map(rungLine)).trimEnd());
    // The GPU rung's advice is in the GPU section below; a forced rung's hint is printed above.
    const hinted = result.rungs.filter((rung) => rung.status === 'failed' && rung.hint && rung.rung !== 'gpu' && !error);
    for (const rung of hinted) if (rung.status === 'failed') out.push(`  ${rung.rung}: ${rung.hint}`);
  }
  if (result.smoke) {
    const verdict = result.smoke.ok
      ? `results match plain JavaScript (max difference ${result.smoke.maxError.toExponential(1)})`
      : `WRONG RESULTS: differs from plain JavaScript by ${result.smoke.maxError}`;
    out.push('', `Smoke test on '${result.smoke.backend}': ${verdict}`);
    for (const timing of result.smoke.timings)
      out.push(`  ${timing.what.padEnd(30)} ${timing.ms.toFixed(1).padStart(8)} ms  ${timing.gflops.toFixed(2).padStart(7)} GFLOP/s`);
  }
  const v = result.versions;
  const s = result.system;
  out.push(
    '',
    'Versions',
    `  node ${v.node}${v.napi ? ` (N-API ${v.napi})` : ''}${v.electron ? `, electron ${v.electron}` : ''}, tfjs ${v.tfjs ?? 'not loaded'}` +
      `, tfjs-node ${v.tfjsNode ?? 'not loaded'}, libtensorflow ${v.libtensorflow ?? 'not loaded'}`,
    ...(result.report && result.report.nodeUtilShim.length > 0
      ? [`  defined util.${result.report.nodeUtilShim.join(', util.')} for tfjs-node (removed in Node 23, tensorflow/tfjs#8609)`]
      : []),
    'System',
    `  ${s.platform}-${s.arch} (${s.os}), ${s.cpuModel}, ${s.cpuCores} cores, ${formatBytes(s.memoryBytes)} memory (${formatBytes(s.freeMemoryBytes)} free)`,
    '',
    'GPU (tfjs-node-gpu needs Linux x86-64, NVIDIA driver ≥ 450.80.02, CUDA 11.2, cuDNN 8.1)',
    ...gpuLines(result.gpu),
  );
  if (result.gpu.advice.length > 0) {
    out.push('', 'To use the GPU:', ...result.gpu.advice.map((line, i) => `  ${i + 1}. ${line}`));
  }
  out.push('', `Data folder  ${result.dataFolder.path}`, `             ${result.dataFolder.note}`, '');
  return out.join('\n');
}

export interface DoctorResult {
  readonly ok: boolean;
  readonly report?: BackendReport;
  readonly error?: { code: string; message: string; hint?: string };
  readonly rungs: readonly RungReport[];
  readonly versions: Partial<BackendReport['versions']> & { node: string };
  readonly system: ReturnType<typeof systemFacts>;
  readonly gpu: CudaDiagnosis;
  readonly smoke?: SmokeResult;
  readonly dataFolder: DataFolderStatus;
}

export async function runDoctor(env: NodeJS.ProcessEnv): Promise<DoctorResult> {
  let report: BackendReport | undefined;
  let error: AppError | undefined;
  try {
    report = await initBackend({ env });
  } catch (caught) {
    if (!(caught instanceof AppError)) throw caught;
    error = caught;
  }
  const details = (error?.details ?? {}) as Partial<Pick<BackendReport, 'rungs' | 'gpu' | 'versions'>>;
  const gpu = report?.gpu ?? details.gpu ?? (await diagnoseCuda({ env }));
  const smoke = report ? await smokeTest() : undefined;
  return {
    ok: Boolean(report && smoke?.ok),
    ...(report ? { report } : {}),
    ...(error ? { error: { code: error.code, message: error.message, hint: error.hint } } : {}),
    rungs: report?.rungs ?? details.rungs ?? [],
    versions: report?.versions ?? details.versions ?? { node: process.versions.node },
    system: systemFacts(),
    gpu,
    ...(smoke ? { smoke } : {}),
    dataFolder: await dataFolderStatus(dataPaths(env).root),
  };
}

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'Which TensorFlow.js backend runs here and why; GPU/CUDA/cuDNN diagnosis and what to install.',
  usage: `Usage: effnet doctor [--json]

  --json   one object: ok, report (backend, rung, device, forced), error, rungs (each with
           status chosen/failed/not-tried and the reason), versions, system, gpu (gpuFound,
           gpus, driver, missingLibraries, foundLibraries, verdict, advice), smoke (a checked
           conv2d and matMul with timings), dataFolder (path, exists, writable, note)

Tries the backend ladder: tfjs-node-gpu (CUDA), tfjs-node (libtensorflow), WebAssembly,
plain JavaScript. EFFNET_BACKEND=gpu|node|wasm|cpu forces one. Exits 1 when no backend
computes correctly (for example a forced one that is not installed).`,
  async run(args, io) {
    const { values } = parseOptions(args, { json: { type: 'boolean' } }, false);
    const result = await runDoctor(io.env);
    if (values.json) writeJson(io, result);
    else io.stdout.write(textReport(result));
    return result.ok ? 0 : 1;
  },
};
