import { formatTable } from '../../cli/terminal.ts';
import type { BenchFigure } from '../types.ts';
import type { OrtMeasurement } from './ort.ts';
import type { PeerCase, PeerResult } from './peer.ts';
import type { BenchRow, machine } from './rows.ts';
import type { TfjsMeasurement } from './tfjs.ts';

export interface TfjsResult {
  /** `tfjs wasm`, `tfjs cpu`, `tfjs-node`, `tfjs-node-gpu`. */
  readonly runtime: string;
  readonly threads: string;
  readonly measurement?: TfjsMeasurement;
  readonly skipped?: string;
}

export interface RowResult {
  readonly row: BenchRow;
  readonly peer?: PeerCase;
  readonly tfjs: readonly TfjsResult[];
  readonly ort?: OrtMeasurement;
  readonly ortSkipped?: string;
}

export interface CompareResult {
  readonly started: string;
  readonly machine: ReturnType<typeof machine>;
  readonly loadAtEnd: readonly number[];
  readonly threads: number;
  readonly settings: {
    readonly epochs: number;
    readonly stepsPerEpoch: number;
    readonly inferBatches: number;
    readonly capSeconds: number;
  };
  readonly peer: PeerResult;
  readonly rows: readonly RowResult[];
  readonly skipped: readonly string[];
}

export interface Target {
  readonly target: string;
  readonly row: string;
  readonly value: number | null;
  readonly threshold: number;
  readonly stretch?: number;
  readonly met: boolean | null;
  readonly detail: string;
}

const f = (value: number | undefined) => (value === undefined ? '—' : value >= 100 ? value.toFixed(0) : value.toPrecision(3));
const ratio = (value: number | undefined, peer: number | undefined) =>
  value === undefined || peer === undefined ? undefined : value / peer;
const times = (value: number | undefined) => (value === undefined ? '' : `${f(value)}×`);

/** The issue's targets, judged on what was measured (null where a figure is missing). */
export function judgeTargets(result: CompareResult): Target[] {
  const targets: Target[] = [];
  for (const { row, peer, tfjs, ort } of result.rows) {
    const wasm = tfjs.find((t) => t.runtime === 'tfjs wasm')?.measurement;
    const trainRatio = ratio(wasm?.train?.rate, peer?.train);
    targets.push({
      target: 'WASM training ≥ 0.5× PyTorch (stretch 1×)',
      row: row.label,
      value: trainRatio ?? null,
      threshold: 0.5,
      stretch: 1,
      met: trainRatio === undefined ? null : trainRatio >= 0.5,
      detail:
        trainRatio === undefined
          ? 'not measured'
          : trainRatio >= 1
            ? 'met, stretch met'
            : trainRatio >= 0.5
              ? 'met, stretch not met'
              : 'not met',
    });
    const inferRatio = ratio(ort?.rate, peer?.infer);
    targets.push({
      target: 'onnxruntime-node inference ≥ 1× PyTorch',
      row: row.label,
      value: inferRatio ?? null,
      threshold: 1,
      met: inferRatio === undefined ? null : inferRatio >= 1,
      detail: inferRatio === undefined ? 'not measured' : inferRatio >= 1 ? 'met' : 'not met',
    });
    for (const t of tfjs) {
      const flat = t.measurement?.flat;
      if (!flat) continue;
      targets.push({
        target: `memory flat across ${result.settings.epochs} epochs (${t.runtime})`,
        row: row.label,
        value: null,
        threshold: 0,
        met: flat.flat,
        detail: flat.reason,
      });
    }
  }
  return targets;
}

function tableRows(result: CompareResult): string[][] {
  const lines: string[][] = [];
  for (const { row, peer, tfjs, ort, ortSkipped } of result.rows) {
    if (peer) {
      const same = peer.params === row.trainableParams ? 'same network' : `${peer.params} vs ${row.trainableParams} params`;
      lines.push([
        row.label,
        'PyTorch',
        String(threadsOf(result)),
        String(peer.batch),
        f(peer.train),
        '1×',
        f(peer.train_cpu),
        '1×',
        f(peer.infer),
        '1×',
        same,
      ]);
    } else lines.push([row.label, 'PyTorch', '', '', '—', '', '—', '', '—', '', 'skipped (below)']);
    for (const t of tfjs) {
      const m = t.measurement;
      if (!m || m.skipped) {
        lines.push([row.label, t.runtime, t.threads, m ? String(m.batch) : '', '—', '', '—', '', '—', '', m?.skipped ?? 'skipped (below)']);
        continue;
      }
      const batch = m.parts > 1 ? `${m.batch} (${m.parts}×≤${m.microBatch})` : String(m.batch);
      const notes = [m.flat ? (m.flat.flat ? 'memory flat' : 'memory GREW') : '', m.batch !== row.batch ? 'smaller batch' : '']
        .filter(Boolean)
        .join('; ');
      lines.push([
        row.label,
        t.runtime,
        t.threads,
        batch,
        f(m.train?.rate),
        times(ratio(m.train?.rate, peer?.train)),
        f(m.train?.perCpuSecond),
        times(ratio(m.train?.perCpuSecond, peer?.train_cpu)),
        f(m.infer?.rate),
        times(ratio(m.infer?.rate, peer?.infer)),
        notes,
      ]);
    }
    if (ort) {
      const note = `default options ${f(ort.defaultOptionsRate)}, NCHW input ${f(ort.nchwInputRate)}, 1 thread ${f(ort.oneThreadRate)}, no spinning ${f(ort.noSpinningRate)}`;
      lines.push([
        row.label,
        'onnxruntime-node',
        String(ort.options.intraOpNumThreads),
        String(row.batch),
        '—',
        '',
        '—',
        '',
        f(ort.rate),
        times(ratio(ort.rate, peer?.infer)),
        note,
      ]);
    } else lines.push([row.label, 'onnxruntime-node', '', '', '—', '', '—', '', '—', '', ortSkipped ?? 'skipped']);
  }
  return lines;
}

/** 1-minute load per core above which the figures are flagged: measured, 2-thread PyTorch ran 10× slower at 2.5. */
export const BUSY_LOAD = 0.75;

export function busy(result: CompareResult): boolean {
  return Math.max(result.machine.load[0]!, result.loadAtEnd[0]!) > BUSY_LOAD * result.machine.cores;
}

/** What the ONNX sessions ran with and what the exported graph holds (Transposes cost onnxruntime a copy each). */
function onnxLines(result: CompareResult): string[] {
  const ort = result.rows.find((row) => row.ort)?.ort;
  if (!ort) return [];
  const nodes = Object.values(ort.operators).reduce((a, b) => a + b, 0);
  const options = Object.entries(ort.options)
    .map(([key, value]) => `${key} ${String(value)}`)
    .join(', ');
  return [
    `onnxruntime-node ${ort.version}: ${options}; the exported graph has ${ort.operators.Transpose ?? 0} Transpose among ${nodes} nodes ` +
      `(${Object.entries(ort.operators)
        .map(([op, count]) => `${op} ${count}`)
        .join(', ')})`,
  ];
}

function threadsOf(result: CompareResult): number {
  return 'threads' in result.peer ? result.peer.threads : result.threads;
}

/** The printed report: machine and settings, one table, the targets, what was skipped and why. */
export function formatReport(result: CompareResult, targets: readonly Target[]): string {
  const { machine: m, settings: s } = result;
  const peer = 'cases' in result.peer ? `PyTorch ${result.peer.torch} (torchvision ${result.peer.torchvision})` : 'PyTorch skipped';
  const lines = [
    `compare (issue 7), ${result.started}: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}, Node ${m.node}; ${peer}`,
    `load average (1/5/15 min) ${m.load.join(' ')} at the start, ${result.loadAtEnd.join(' ')} at the end (the machine may be shared)`,
    ...(busy(result)
      ? [
          `WARNING: the machine was busy (load above ${BUSY_LOAD} per core): PyTorch's OpenMP threads and onnxruntime's ` +
            `thread pool spin while they wait for each other and slow down far more than single-threaded tfjs; ` +
            `the ratios below are not reliable. Rerun on an idle machine.`,
        ]
      : []),
    `images/s from the median step; warm-up step and batch excluded; training: ${s.epochs} epochs × ${s.stepsPerEpoch} Adam steps ` +
      `(tfjs: the trainer's own step, BatchNorm training), random images, 1000 classes; inference: ${s.inferBatches} batches`,
    `img/CPU-s: training images per CPU-second of the process, all threads (a busy machine moves it less than wall-clock images/s)`,
    `threads: PyTorch ${threadsOf(result)}, onnxruntime-node ${result.threads} intra-op, tfjs wasm 1 (no threads in Node), tfjs cpu 1`,
    ...onnxLines(result),
    '',
    formatTable(
      ['model', 'runtime', 'threads', 'batch', 'train img/s', '×PyTorch', 'img/CPU-s', '×PyTorch', 'infer img/s', '×PyTorch', 'note'],
      tableRows(result),
      [false, false, true, true, true, true, true, true, true, true, false],
    ),
    'targets:',
    ...targets.map(
      (t) => `  ${t.target}, ${t.row}: ${t.value === null ? '' : `${f(t.value)}× — `}${t.met === null ? 'not judged: ' : ''}${t.detail}`,
    ),
  ];
  const skipped = [...result.skipped, ...('skipped' in result.peer ? [result.peer.skipped] : [])];
  for (const row of result.rows) {
    for (const t of row.tfjs) if (t.skipped) skipped.push(`${row.row.label} ${t.runtime}: ${t.skipped}`);
  }
  if (skipped.length > 0) lines.push('skipped:', ...skipped.map((reason) => `  ${reason}`));
  return `${lines.join('\n')}\n`;
}

/** Every measured figure as the flat list `npm run bench` keeps for all benchmarks. */
export function figuresOf(result: CompareResult): BenchFigure[] {
  const figures: BenchFigure[] = [];
  const add = (name: string, value: number | undefined, unit: string, note?: string) => {
    if (value !== undefined) figures.push({ bench: 'compare', case: name, value, unit, ...(note ? { note } : {}) });
  };
  for (const { row, peer, tfjs, ort } of result.rows) {
    add(`${row.label} PyTorch train`, peer?.train, 'images/s');
    add(`${row.label} PyTorch inference`, peer?.infer, 'images/s');
    for (const t of tfjs) {
      const m = t.measurement;
      add(`${row.label} ${t.runtime} train`, m?.train?.rate, 'images/s', m ? `batch ${m.batch}, passes of ≤${m.microBatch}` : undefined);
      add(`${row.label} ${t.runtime} train ÷ PyTorch`, ratio(m?.train?.rate, peer?.train), '×');
      add(`${row.label} ${t.runtime} train per CPU-second ÷ PyTorch's`, ratio(m?.train?.perCpuSecond, peer?.train_cpu), '×');
      add(`${row.label} ${t.runtime} inference`, m?.infer?.rate, 'images/s');
      add(`${row.label} ${t.runtime} inference ÷ PyTorch`, ratio(m?.infer?.rate, peer?.infer), '×');
    }
    add(`${row.label} onnxruntime-node inference`, ort?.rate, 'images/s');
    add(`${row.label} onnxruntime-node inference ÷ PyTorch`, ratio(ort?.rate, peer?.infer), '×');
  }
  return figures;
}
