/**
 * The done-criterion, end to end through the CLI, the job manager, real worker processes
 * and the store: `effnet scale search` on a small generated dataset trains 3 candidates (1 epoch
 * each, a 7-block base at 32 px), is stopped after the first by Ctrl-C (the CLI's signal), and
 * `--resume` finishes the other two without retraining the first. Then: the chosen coefficients
 * satisfy the constraint, the table and the SVG chart exist, and every candidate is a completed
 * run in the store carrying the search's tag. `effnet scale family` is checked too (instant).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { flopsGrowth, makeSpec, modelFacts } from '../../common/efficientnet/index.ts';
import { dataPaths } from '../../node/paths.ts';
import { openStore } from '../../store/index.ts';
import { temporaryFolder } from '../../store/test-support.ts';
import { writeSyntheticDataset } from '../../train/test-support.ts';
import type { CliIo } from '../command.ts';
import { main } from '../main.ts';

const temp = temporaryFolder('effnet-scale-search-');
const env = { ...process.env, EFFNET_HOME: temp.file('home'), EFFNET_BACKEND: 'cpu' };
const dataset = temp.file('shapes');

type Line = Record<string, unknown> & { type: string };

async function cli(args: string[], options: { onLine?: (line: Line) => void; signal?: AbortSignal } = {}) {
  let stdout = '';
  let stderr = '';
  let pending = '';
  const io: CliIo = {
    stdout: new Writable({
      write(chunk, _encoding, done) {
        stdout += String(chunk);
        pending += String(chunk);
        for (let newline = pending.indexOf('\n'); newline >= 0; newline = pending.indexOf('\n')) {
          const text = pending.slice(0, newline);
          pending = pending.slice(newline + 1);
          if (options.onLine && text.startsWith('{') && text.endsWith('}')) options.onLine(JSON.parse(text) as Line);
        }
        done();
      },
    }),
    stderr: new Writable({
      write(chunk, _encoding, done) {
        stderr += String(chunk);
        done();
      },
    }),
    env,
    cwd: temp.folder,
    signal: options.signal ?? new AbortController().signal,
  };
  const code = await main(args, io);
  const lines = stdout
    .split('\n')
    .filter((line) => line.startsWith('{') && line.endsWith('}'))
    .map((line) => JSON.parse(line) as Line);
  return { code, stdout, stderr, lines };
}

before(async () => {
  await writeSyntheticDataset(dataset, { perClass: 8, size: 32, seed: 3 });
});
after(() => temp.remove());

interface Candidate {
  index: number;
  alpha: number;
  beta: number;
  gamma: number;
  status: string;
  runIds: number[];
  accuracy: number | null;
  objective: number | null;
  macs: number;
  params: number;
  width: number;
  depth: number;
  resolution: number;
}

describe('effnet scale search', () => {
  test('3 candidates end to end: stopped after one, resumed, chosen within the constraint, chart and runs in the store', async () => {
    const started = performance.now();
    const controller = new AbortController();
    const first = await cli(
      [
        'scale',
        'search',
        dataset,
        ...['--base', 'phi:-8', '--base-resolution', '32', '--max-candidates', '3', '--budget-epochs', '1'],
        ...['--batch-size', '8', '--lr', '0.01', '--val-split', '0.25', '--no-augment', '--workers', '0', '--seed', '11', '--json'],
      ],
      {
        signal: controller.signal,
        onLine: (line) => {
          if (line.type === 'candidate-ended') controller.abort();
        },
      },
    );
    assert.equal(first.code, 130, first.stderr);
    const stoppedResult = first.lines.at(-1)!;
    assert.equal(stoppedResult.type, 'result');
    assert.equal(stoppedResult.stopped, true);
    const search = first.lines[0]!;
    assert.equal(search.type, 'search');
    assert.ok((search.gridTotal as number) === 729 && (search.gridKept as number) > 3, 'the full grid size is reported');
    const id = search.id as string;
    const afterStop = (stoppedResult.search as { candidates: Candidate[] }).candidates;
    assert.equal(afterStop[0]!.status, 'completed');
    assert.equal(afterStop[0]!.runIds.length, 1);
    const firstRun = afterStop[0]!.runIds[0]!;

    const chart = temp.file('chart.svg');
    const second = await cli(['scale', 'search', '--resume', id, '--chart', chart, '--phi-max', '3', '--json']);
    const seconds = (performance.now() - started) / 1000;
    assert.equal(second.code, 0, second.stderr);
    const started2 = second.lines.filter((line) => line.type === 'candidate-started').map((line) => (line.candidate as Candidate).index);
    assert.ok(!started2.includes(1), `candidate 1 is not trained again (started: ${started2.join(', ')})`);
    const result = second.lines.at(-1)! as Line & {
      search: { candidates: Candidate[]; targetMacs: number; tolerance: number };
      chosen: Candidate;
      constraint: { satisfied: boolean; value: number };
      family: { phi: number; macs: number; width: number; depth: number; resolution: number }[];
      tag: string;
    };
    const candidates = result.search.candidates;
    console.log(
      `scale search: ${seconds.toFixed(1)} s; ` +
        candidates
          .map((c) => `#${c.index} α=${c.alpha} β=${c.beta} γ=${c.gamma} acc=${c.accuracy} obj=${c.objective?.toFixed(4)}`)
          .join('; '),
    );
    assert.equal(candidates.length, 3);
    assert.deepEqual(candidates[0]!.runIds, [firstRun], 'candidate 1 keeps its one run');
    for (const c of candidates) {
      assert.equal(c.status, 'completed');
      assert.ok(c.accuracy !== null && c.accuracy >= 0 && c.accuracy <= 1);
      assert.ok(Math.abs(c.objective! - c.accuracy * (c.macs / result.search.targetMacs) ** -0.07) < 1e-12);
      const facts = modelFacts(makeSpec('b0', { width: c.width, depth: c.depth, resolution: c.resolution, numClasses: 3 }));
      assert.equal(c.macs, facts.macs);
    }
    // The chosen coefficients: the best objective, and within the constraint.
    assert.equal(result.chosen.objective, Math.max(...candidates.map((c) => c.objective!)));
    assert.ok(Math.abs(flopsGrowth(result.chosen) - 2) <= result.search.tolerance + 1e-12);
    assert.equal(result.constraint.satisfied, true);
    assert.deepEqual(
      result.family.map((m) => m.phi),
      [0, 1, 2, 3],
    );
    assert.equal(result.family[1]!.macs, result.chosen.macs, 'φ = 1 of the family is the chosen candidate');

    // The chart: an SVG with B0–B7 and the three candidates, and its data as JSON beside it.
    const svg = readFileSync(chart, 'utf8');
    assert.ok(svg.startsWith('<svg') && svg.includes('B7') && svg.includes('#3'));
    assert.ok((svg.match(/<circle /g) ?? []).length >= 8 + 3);
    const data = JSON.parse(readFileSync(temp.file('chart.json'), 'utf8')) as { series: { id: string; points: unknown[] }[] };
    assert.deepEqual(
      data.series.map((s) => [s.id, s.points.length]),
      [
        ['b-series', 8],
        ['candidates', 3],
        ['family', 4],
      ],
    );

    // Every candidate is an ordinary completed run, tagged with the search.
    const store = openStore(dataPaths(env).database);
    try {
      const tagged = store.runList.list({ tags: [result.tag] }).rows.map((run) => run.id);
      const runIds = candidates.flatMap((c) => c.runIds);
      assert.deepEqual([...tagged].sort(), [...runIds].sort());
      for (const c of candidates) {
        const run = store.runs.require(c.runIds.at(-1)!);
        assert.equal(run.status, 'completed');
        assert.equal(run.bestValAccuracy, c.accuracy);
        assert.equal((run.config as { model: { resolution: number } }).model.resolution, c.resolution);
      }
    } finally {
      store.close();
    }

    // The human-readable table of the finished search.
    const table = await cli(['scale', 'search', '--resume', id, '--phi-max', '2']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /α·β²·γ²\s+px\s+params\s+MACs\s+accuracy\s+objective\s+time/);
    assert.match(table.stdout, /Chosen \(highest objective\): α = [\d.]+, β = [\d.]+, γ = [\d.]+; α·β²·γ² = [\d.]+ \(2 ± 0.1: satisfied\)/);
    assert.match(table.stdout, /Resuming: 3 of 3 candidates already completed/);
  });

  test('usage errors name the problem', async () => {
    const cases: [string[], RegExp][] = [
      [['scale', 'search'], /expected one DATASET/],
      [['scale', 'search', dataset, '--grid', 'alpha=0.5:1:0.1'], /below 1/],
      [['scale', 'search', dataset, '--base', 'b9'], /Unknown variant/],
      [['scale', 'search', dataset, '--grid', 'alpha=1,beta=1,gamma=1'], /No α, β, γ of the grid/],
      [['scale', 'search', '--resume', 'x1', dataset], /--resume continues a search/],
      [['scale', 'search', '--resume', 'missing-search'], /No search with this id/],
    ];
    for (const [args, pattern] of cases) {
      const { code, stderr } = await cli(args);
      assert.notEqual(code, 0, args.join(' '));
      assert.match(stderr, pattern, args.join(' '));
    }
  });
});

describe('effnet scale family', () => {
  test('φ = 0…N with the given coefficients; φ = 0 is the base; --json has the model config of each member', async () => {
    const { code, stdout, stderr } = await cli([
      'scale',
      'family',
      '--alpha',
      '1.25',
      '--beta',
      '1.1',
      '--gamma',
      '1.15',
      '--phi-max',
      '3',
      '--json',
    ]);
    assert.equal(code, 0, stderr);
    const out = JSON.parse(stdout) as {
      constraint: { satisfied: boolean };
      members: { phi: number; macs: number; params: number; resolution: number; model: { variant: string; resolution: number } }[];
    };
    assert.equal(out.constraint.satisfied, true);
    assert.deepEqual(
      out.members.map((m) => m.phi),
      [0, 1, 2, 3],
    );
    const b0 = modelFacts(makeSpec('b0'));
    assert.equal(out.members[0]!.macs, b0.macs);
    assert.equal(out.members[0]!.params, b0.totalParams);
    assert.deepEqual(out.members[1]!.model, { variant: 'b0', width: 1.1, depth: 1.25, resolution: 256 });
    for (let phi = 1; phi <= 3; phi++) assert.ok(out.members[phi]!.macs > out.members[phi - 1]!.macs);

    const text = await cli(['scale', 'family', '--phi-max', '1', '--base', 'phi:-4', '--base-resolution', '32']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /base phi:-4 at 32 px/);
    assert.match(text.stdout, /α·β²·γ² = 1\.9203 \(target ≈ 2 ± 0\.1: satisfied\)/);
    const missing = await cli(['scale', 'family']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--phi-max is required/);
  });
});
