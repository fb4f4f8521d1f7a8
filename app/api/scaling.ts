/**
 * The Scaling lab's channels (issue 8): the grid preview, a search started, stopped and resumed in
 * this process (./scaling-runner.ts; its candidates are ordinary runs in worker processes), the
 * saved searches, and step 2's family, whose members train as ordinary runs too.
 */
import { readdir } from 'node:fs/promises';
import { AppError } from '../common/errors.ts';
import type { ChannelResults, ParsedArgs } from '../common/ipc/contract.ts';
import { familyMember, resolveBase, type ScalingBase } from '../common/scaling-lab.ts';
import { openDataset } from '../dataset/readers/registry.ts';
import { queueTraining } from '../jobs/training.ts';
import { attachLatency, chooseCandidate, planSearch } from '../scaling/search.ts';
import { loadState, searchesFolder, type SearchState } from '../scaling/state.ts';
import type { ApiContext } from './context.ts';
import { requirePath } from './paths.ts';
import { ScalingRunner } from './scaling-runner.ts';
import { FAMILY_TAG, FAMILY_TOLERANCE, familyTag, familyView, memberConfig, searchDetail, searchSummary } from './scaling-views.ts';

/** With a time budget alone, epochs only cap it (the CLI's default too). */
const EPOCHS_WITH_MINUTES = 100;
const DEFAULT_EPOCHS = 3;

function base(value: { variant: string; resolution?: number }): ScalingBase {
  return resolveBase(value.variant, value.resolution);
}

export function scalingHandlers(context: ApiContext) {
  const runner = new ScalingRunner(context);
  /** The live state of a search running here, else its file. */
  const state = async (id: string): Promise<SearchState> =>
    (runner.active(id)?.state as SearchState | undefined) ?? loadState(id, context.env);

  return {
    'scaling:plan': async (args: ParsedArgs<'scaling:plan'>[0]): Promise<ChannelResults['scaling:plan']> => {
      const plan = planSearch({
        dataset: '',
        classes: Array.from({ length: args.numClasses }, (_, i) => String(i)),
        base: base(args.base),
        grid: args.grid,
        tolerance: args.tolerance,
        maxCandidates: args.maxCandidates,
        training: { epochs: 1, batchSize: 1, learningRate: 1, validationSplit: 0.2, augment: false },
        seed: 0,
        id: 'preview',
      });
      return {
        base: plan.base,
        tolerance: plan.tolerance,
        gridTotal: plan.gridTotal,
        gridKept: plan.gridKept,
        baseParams: plan.baseParams,
        baseMacs: plan.baseMacs,
        targetMacs: plan.targetMacs,
        candidates: plan.candidates.map(({ index, alpha, beta, gamma, growth, width, depth, resolution, params, macs }) => ({
          index,
          alpha,
          beta,
          gamma,
          growth,
          width,
          depth,
          resolution,
          params,
          macs,
        })),
      };
    },

    'scaling:start': async (args: ParsedArgs<'scaling:start'>[0]): Promise<ChannelResults['scaling:start']> => {
      runner.requireIdle();
      const source = await requirePath(args.dataset, 'file-or-folder', 'dataset');
      const dataset = await openDataset(source);
      if (dataset.classes.length < 2) {
        throw new AppError(
          'scaling-dataset',
          `dataset: ${dataset.source} has ${dataset.classes.length} class(es); a search needs at least 2.`,
          {
            hint: 'Give a dataset with one folder (or manifest label) per class.',
          },
        );
      }
      const { epochs, minutes } = args.budget;
      let planned = planSearch({
        dataset: dataset.source,
        classes: dataset.classes,
        base: base(args.base),
        grid: args.grid,
        tolerance: args.tolerance,
        maxCandidates: args.maxCandidates,
        training: {
          epochs: epochs ?? (minutes === undefined ? DEFAULT_EPOCHS : EPOCHS_WITH_MINUTES),
          ...(minutes === undefined ? {} : { minutes }),
          batchSize: args.batchSize,
          learningRate: args.learningRate,
          validationSplit: args.validationSplit,
          augment: args.augment,
        },
        seed: args.seed ?? Math.floor(Math.random() * 0x100000000),
        targetMacs: args.target && 'macs' in args.target ? args.target.macs : undefined,
      });
      if (args.target && 'latencyMs' in args.target) {
        // Loaded on demand: measuring pulls in TensorFlow.js, which the API process otherwise never needs.
        const { measureLatency } = await import('../scaling/latency.ts');
        const shapes = [planned.base, ...planned.candidates];
        runner.publish(planned.id, 'measuring', { message: `Measuring the latency of ${shapes.length} networks…` });
        const report = await measureLatency(shapes, planned.classes.length, {
          env: context.env,
          onMeasured: (index) => runner.publish(planned.id, 'measuring', { message: `Measured ${index + 1} of ${shapes.length} networks` }),
        });
        planned = attachLatency(planned, args.target.latencyMs, {
          backend: report.backend,
          device: report.device,
          baseMs: report.ms[0]!,
          candidateMs: report.ms.slice(1),
        });
      }
      runner.begin(planned);
      return { id: planned.id, candidates: planned.candidates.length };
    },

    'scaling:stop': async (id: string): Promise<ChannelResults['scaling:stop']> => {
      if (runner.stop(id)) return { stopping: true };
      await loadState(id, context.env); // a clear error for an unknown id
      return { stopping: false };
    },

    'scaling:resume': async (id: string): Promise<ChannelResults['scaling:resume']> => {
      if (runner.active(id)) throw new AppError('scaling-running', `Scaling search ${id} is already running.`);
      runner.requireIdle();
      const saved = await loadState(id, context.env);
      const left = saved.candidates.filter((c) => c.status !== 'completed');
      if (left.length === 0) {
        throw new AppError(
          'scaling-finished',
          `Scaling search ${id} has trained all ${saved.candidates.length} candidates; nothing to resume.`,
          {
            hint: 'Start a new search to try other coefficients, or train members of its family.',
          },
        );
      }
      // The job manager marks runs of a process that died as interrupted when it starts; a
      // candidate run still `running` after that belongs to a live process (the CLI?).
      context.jobs();
      for (const candidate of left) {
        const last = candidate.runIds.at(-1);
        const run = last === undefined ? undefined : context.store().runs.get(last);
        if (run?.status === 'running') {
          throw new AppError(
            'scaling-running',
            `Candidate ${candidate.index} of search ${id} is training in another process (run ${run.id}).`,
            {
              hint: 'Stop it there (Ctrl-C in `effnet scale search`), then resume here.',
            },
          );
        }
      }
      runner.begin(saved);
      return { id, candidates: left.length };
    },

    'scaling:list': async (): Promise<ChannelResults['scaling:list']> => {
      const names = await readdir(searchesFolder(context.env)).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return [];
        throw error;
      });
      const summaries = [];
      for (const name of names) {
        if (!name.endsWith('.json')) continue;
        const id = name.slice(0, -'.json'.length);
        // A file that is not a search state (or one being written) is skipped, not fatal to the list.
        const loaded = await state(id).catch(() => null);
        if (loaded) summaries.push(searchSummary(loaded, runner.active(id)));
      }
      return summaries.sort((a, b) => b.createdAt - a.createdAt);
    },

    'scaling:get': async ({ id, phiMax }: ParsedArgs<'scaling:get'>[0]): Promise<ChannelResults['scaling:get']> =>
      searchDetail(await state(id), context.store(), phiMax, runner.active(id), runner.error(id)),

    'scaling:family': async (args: ParsedArgs<'scaling:family'>[0]): Promise<ChannelResults['scaling:family']> => {
      const coefficients = { alpha: args.alpha, beta: args.beta, gamma: args.gamma };
      if (args.searchId === undefined) {
        return familyView(
          null,
          null,
          base(args.base ?? { variant: 'b0' }),
          coefficients,
          args.phiMax,
          args.numClasses ?? 1000,
          FAMILY_TOLERANCE,
        );
      }
      if (args.base !== undefined || args.numClasses !== undefined) {
        throw new AppError('invalid-request', 'scaling:family: give a searchId or a base and numClasses, not both (a search fixes them).');
      }
      const search = await state(args.searchId);
      return familyView(context.store(), search.id, search.base, coefficients, args.phiMax, search.classes.length, search.tolerance);
    },

    'scaling:trainMember': async (args: ParsedArgs<'scaling:trainMember'>[0]): Promise<ChannelResults['scaling:trainMember']> => {
      const search = await state(args.searchId);
      const coefficients = args.coefficients ?? chooseCandidate(search);
      if (!coefficients) {
        throw new AppError('scaling-no-choice', `Scaling search ${search.id} has no completed candidate yet, so no chosen α, β, γ.`, {
          hint: 'Let a candidate finish (or resume the search), or give the coefficients yourself.',
        });
      }
      const member = familyMember(search.base, coefficients, args.phi, search.classes.length);
      await requirePath(search.dataset, 'file-or-folder', `the dataset of search ${search.id}`);
      const c = coefficients;
      const name = args.name ?? `${search.id} φ=${args.phi} α=${c.alpha} β=${c.beta} γ=${c.gamma}`;
      const queued = queueTraining(
        context.jobs(),
        context.store(),
        { config: memberConfig(search, member, args.epochs), name },
        context.env,
      );
      context.store().tags.add(queued.run.id, [familyTag(search.id), FAMILY_TAG]);
      context.events.publish({ type: 'runs:changed', runId: queued.run.id });
      return { runId: queued.run.id, jobId: queued.job.id };
    },
  };
}
