/**
 * `effnet scale search`: step 1 of compound scaling on the user's own data (Tan & Le 2019 §3.3;
 * issue 8). Every candidate trains as an ordinary run through the job manager, tagged with the
 * search; the state file in the data folder lets Ctrl-C stop it and `--resume ID` finish it.
 */
import path from 'node:path';
import { renderScalingChartSvg } from '../../common/scaling-chart.ts';
import { DEFAULT_GRID, parseGrid } from '../../common/scaling-lab.ts';
import { openDataset } from '../../dataset/readers/registry.ts';
import { JobManager } from '../../jobs/manager.ts';
import { jobTrainer } from '../../scaling/job-trainer.ts';
import { candidateRows, searchReport } from '../../scaling/report.ts';
import { measureLatency } from '../../scaling/latency.ts';
import { attachLatency, planSearch, runSearch, type SearchEvent } from '../../scaling/search.ts';
import { loadState, searchTag, stateFile, type SearchState } from '../../scaling/state.ts';
import { openAppStore } from '../../store/index.ts';
import { writeFileAtomic } from '../../weights/files.ts';
import { parseNumberOption, parseOptions, UsageError, type CliIo, type Command } from '../command.ts';
import { formatTable } from '../terminal.ts';
import { familyTableText, parseBaseOptions } from './scale-family.ts';
import { CONSTRAINT_TOLERANCE } from './scale.ts';

const OPTIONS = {
  base: { type: 'string' },
  'base-resolution': { type: 'string' },
  grid: { type: 'string' },
  tolerance: { type: 'string' },
  'budget-epochs': { type: 'string' },
  'budget-minutes': { type: 'string' },
  'batch-size': { type: 'string' },
  lr: { type: 'string' },
  'val-split': { type: 'string' },
  'no-augment': { type: 'boolean' },
  workers: { type: 'string' },
  'target-macs': { type: 'string' },
  'target-ms': { type: 'string' },
  'max-candidates': { type: 'string' },
  seed: { type: 'string' },
  'phi-max': { type: 'string' },
  chart: { type: 'string' },
  json: { type: 'boolean' },
  resume: { type: 'string' },
} as const;
/** Options that define a search: fixed once it started, so --resume refuses them. */
const PLAN_OPTIONS = Object.keys(OPTIONS).filter((name) => !['phi-max', 'chart', 'json', 'resume'].includes(name));
const CANCELLED_EXIT = 130;
const axis = (a: { min: number; max: number; step: number }) => `${a.min}:${a.max}:${a.step}`;

export const scaleSearchCommand: Command = {
  name: 'scale search',
  summary: 'Step 1 of compound scaling on your data: train a grid of α, β, γ (α·β²·γ² ≈ 2) and pick the best.',
  usage: `Usage: effnet scale search DATASET [options] [--json]
       effnet scale search --resume SEARCH_ID [--chart FILE.svg] [--phi-max N] [--json]

  --base V               the φ = 0 network: b0 (default) or phi:X, B0 scaled by φ = X with the paper's
                         coefficients (phi:-4 is small and quick); candidates scale it by φ = 1
  --base-resolution PX   the base's input size (default the variant's)
  --grid SPEC            alpha=MIN:MAX:STEP,beta=…,gamma=… (default ${axis(DEFAULT_GRID.alpha)} each); one value: alpha=1.2
  --tolerance T          keep α·β²·γ² within 2 ± T (default ${CONSTRAINT_TOLERANCE})
  --max-candidates N     train at most N, spread over the kept grid (default: all of it)
  --budget-epochs N      proxy training per candidate (default 3)
  --budget-minutes M     and/or a time budget per candidate (fractions allowed); alone, epochs are capped
                         at 100 with a constant learning rate; scored by the best epoch done in time
  --batch-size N         (default 16)     --lr X   learning rate (default 0.001)
  --val-split X          validation fraction when the dataset is not split (default 0.2)
  --no-augment           no data augmentation     --workers N   image decoding threads
  --target-macs M        T of the objective ACC·(MACs/T)^-0.07 (default: 2 × the base's MACs)
  --target-ms T          or a latency target: ACC·(latency/T)^-0.07 with each candidate's latency
                         measured on this machine (one image, fastest of 10 passes)
  --seed N               one seed for every candidate (default: drawn and recorded)
  --phi-max N            the family shown for the chosen α, β, γ: φ = 0…N (default 7)
  --chart FILE.svg       accuracy against MACs beside B0–B7; the same data goes to FILE.json
  --resume ID            finish a stopped search (candidates already completed are not retrained)
  --json                 one JSON object per line: candidate events, then {"type":"result",…}

Ctrl-C stops after the current step; the search's state is in the data folder (EFFNET_HOME)/scaling.`,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, OPTIONS);
    const phiMax =
      parseNumberOption('phi-max', values['phi-max'], (n) => Number.isInteger(n) && n >= 0 && n <= 12, 'a whole number from 0 to 12') ?? 7;
    const json = Boolean(values.json);
    let state: SearchState;
    if (values.resume !== undefined) {
      const given = PLAN_OPTIONS.filter((name) => values[name as keyof typeof values] !== undefined);
      if (positionals.length > 0 || given.length > 0) {
        throw new UsageError(
          `--resume continues a search as it was planned; drop ${[...positionals, ...given.map((n) => `--${n}`)].join(' ')}`,
        );
      }
      state = await loadState(values.resume, io.env);
    } else {
      if (positionals.length !== 1) throw new UsageError(`expected one DATASET, got ${positionals.length}`);
      state = await plan(positionals[0]!, values, io);
    }
    const emit = (line: object) => json && io.stdout.write(`${JSON.stringify(line)}\n`);
    if (!json) io.stdout.write(introduction(state, io.env));
    else emit({ type: 'search', id: state.id, gridTotal: state.gridTotal, gridKept: state.gridKept, candidates: state.candidates.length });

    const { store } = openAppStore(io.env);
    let outcome;
    try {
      const jobs = new JobManager({ store, env: io.env });
      const trainer = jobTrainer(jobs, store, {
        env: io.env,
        listener: (candidate, { runId, event }) => {
          if (event.type !== 'epoch') return;
          const accuracy = event.metrics.val_accuracy;
          if (json)
            emit({ type: 'epoch', candidate: candidate.index, runId, epoch: event.epoch, epochs: event.epochs, metrics: event.metrics });
          else
            io.stdout.write(
              `  epoch ${event.epoch}/${event.epochs}${accuracy === undefined || accuracy === null ? '' : `: val_accuracy ${(accuracy * 100).toFixed(1)}%`}\n`,
            );
        },
      });
      outcome = await runSearch(state, trainer, {
        signal: io.signal,
        env: io.env,
        onEvent: (event) => (json ? emit(eventJson(event)) : showEvent(io, event)),
      });
    } finally {
      store.close();
    }
    const report = searchReport(outcome.state, phiMax);
    let chartFiles: { svg: string; json: string } | null = null;
    if (values.chart !== undefined) {
      const svg = path.resolve(io.cwd, values.chart);
      const data = svg.replace(/\.svg$/i, '') + '.json';
      await writeFileAtomic(svg, renderScalingChartSvg(report.chart));
      await writeFileAtomic(data, `${JSON.stringify(report.chart, null, 2)}\n`);
      chartFiles = { svg, json: data };
    }
    if (json) {
      emit({ type: 'result', stopped: outcome.stopped, search: outcome.state, tag: searchTag(state.id), ...report, chartFiles });
    } else {
      const { headers, rows } = candidateRows(outcome.state, report.chosen);
      io.stdout.write(
        `\n${formatTable(
          headers,
          rows,
          headers.map((header) => !['#', 'runs', 'status'].includes(header)),
        )}`,
      );
      if (report.chosen && report.constraint) {
        const c = report.chosen;
        io.stdout.write(
          `\nChosen${outcome.stopped ? ' so far' : ''} (highest objective): α = ${c.alpha}, β = ${c.beta}, γ = ${c.gamma}; α·β²·γ² = ${report.constraint.value.toFixed(4)} ` +
            `(2 ± ${report.constraint.tolerance}: ${report.constraint.satisfied ? 'satisfied' : 'NOT satisfied'})\n\nFamily φ = 0…${phiMax}:\n`,
        );
        io.stdout.write(familyTableText(report.family));
      } else {
        io.stdout.write('\nNo candidate has completed yet: nothing to choose.\n');
      }
      if (chartFiles) io.stdout.write(`\nChart: ${chartFiles.svg} (data: ${chartFiles.json})\n`);
      io.stdout.write(`Runs: effnet runs list --tag ${searchTag(state.id)}\n`);
      if (outcome.stopped) io.stdout.write(`\nStopped. Continue with: effnet scale search --resume ${state.id}\n`);
    }
    if (outcome.stopped) return CANCELLED_EXIT;
    return outcome.state.candidates.every((c) => c.status === 'completed') ? 0 : 1;
  },
};

type Values = ReturnType<typeof parseOptions<typeof OPTIONS>>['values'];

async function plan(datasetArg: string, values: Values, io: CliIo): Promise<SearchState> {
  const integer = (name: keyof Values, low: number) =>
    parseNumberOption(name, values[name] as string | undefined, (n) => Number.isInteger(n) && n >= low, `a whole number ≥ ${low}`);
  const base = parseBaseOptions(values.base, values['base-resolution']);
  const grid = values.grid === undefined ? DEFAULT_GRID : parseGrid(values.grid);
  const tolerance =
    parseNumberOption('tolerance', values.tolerance, (n) => n >= 0 && n < 2, 'a number from 0 to below 2') ?? CONSTRAINT_TOLERANCE;
  const minutes = parseNumberOption('budget-minutes', values['budget-minutes'], (n) => n > 0, 'a positive number of minutes');
  const dataset = await openDataset(path.resolve(io.cwd, datasetArg));
  if (dataset.classes.length < 2)
    throw new UsageError(`${dataset.source} has ${dataset.classes.length} class(es); a search needs at least 2`);
  const targetMs = parseNumberOption('target-ms', values['target-ms'], (n) => n > 0, 'a positive number of milliseconds');
  if (targetMs !== undefined && values['target-macs'] !== undefined) throw new UsageError('give --target-macs or --target-ms, not both');
  const state = planSearch({
    dataset: dataset.source,
    classes: dataset.classes,
    base,
    grid,
    tolerance,
    maxCandidates: integer('max-candidates', 1),
    training: {
      epochs: integer('budget-epochs', 1) ?? (minutes === undefined ? 3 : 100),
      ...(minutes === undefined ? {} : { minutes }),
      batchSize: integer('batch-size', 1) ?? 16,
      learningRate: parseNumberOption('lr', values.lr, (n) => n > 0 && n <= 10, 'a positive number up to 10') ?? 1e-3,
      validationSplit: parseNumberOption('val-split', values['val-split'], (n) => n > 0 && n < 1, 'a fraction above 0 and below 1') ?? 0.2,
      augment: !values['no-augment'],
      workers: integer('workers', 0),
    },
    seed: integer('seed', 0) ?? Math.floor(Math.random() * 0x100000000),
    targetMacs: parseNumberOption('target-macs', values['target-macs'], (n) => n > 0, 'a positive number of MACs'),
  });
  if (targetMs === undefined) return state;
  if (!values.json) io.stderr.write(`Measuring the latency of the base and ${state.candidates.length} candidates…\n`);
  const report = await measureLatency([state.base, ...state.candidates], state.classes.length, { env: io.env });
  return attachLatency(state, targetMs, {
    backend: report.backend,
    device: report.device,
    baseMs: report.ms[0]!,
    candidateMs: report.ms.slice(1),
  });
}

function introduction(state: SearchState, env: NodeJS.ProcessEnv): string {
  const done = state.candidates.filter((c) => c.status === 'completed').length;
  const g = state.grid;
  return [
    `Scaling search ${state.id} on ${state.dataset} (${state.classes.length} classes)`,
    `Base ${state.base.variant} at ${state.base.resolution} px: width ${state.base.width.toFixed(3)}, depth ${state.base.depth.toFixed(3)}, ${state.baseParams} parameters, ${state.baseMacs} MACs`,
    `Grid α ${axis(g.alpha)}, β ${axis(g.beta)}, γ ${axis(g.gamma)}: ${state.gridTotal} combinations, ${state.gridKept} with α·β²·γ² within 2 ± ${state.tolerance}; ` +
      `training ${state.candidates.length}${state.candidates.length < state.gridKept ? ' (spread over the kept grid)' : ''}`,
    state.latency
      ? `Latency measured on ${state.latency.device} (${state.latency.backend}): base ${state.latency.baseMs.toFixed(2)} ms per image`
      : '',
    `Budget ${state.training.epochs} epoch(s)${state.training.minutes === undefined ? '' : ` or ${state.training.minutes} min`} each, seed ${state.seed}; ` +
      (state.targetLatencyMs === undefined
        ? `objective ACC·(MACs/T)^-0.07 with T = ${state.targetMacs} MACs (${state.targetSource})`
        : `objective ACC·(latency/T)^-0.07 with T = ${state.targetLatencyMs} ms`),
    done > 0 ? `Resuming: ${done} of ${state.candidates.length} candidates already completed` : '',
    `State: ${stateFile(state.id, env)}`,
    '',
  ]
    .filter((line, i, all) => line !== '' || i === all.length - 1)
    .join('\n');
}

function eventJson(event: SearchEvent) {
  return { type: event.type, of: event.of, candidate: event.candidate };
}

function showEvent(io: CliIo, event: SearchEvent): void {
  const c = event.candidate;
  if (event.type === 'candidate-started') {
    io.stdout.write(
      `Candidate ${c.index}/${event.of}: α = ${c.alpha}, β = ${c.beta}, γ = ${c.gamma} (${c.resolution} px, ${c.macs} MACs)\n`,
    );
    return;
  }
  const accuracy = c.accuracy === null ? '' : `: accuracy ${(c.accuracy * 100).toFixed(1)}%, objective ${c.objective!.toFixed(4)}`;
  io.stdout.write(
    `Candidate ${c.index} ${c.status === 'pending' ? 'stopped' : c.status} (run ${c.runIds.at(-1) ?? '-'})${accuracy}${c.message ? ` — ${c.message}` : ''}\n`,
  );
}
