/**
 * `effnet runs …`: the experiment store from the command line. The same store (EFFNET_HOME) as the
 * desktop app, so a run started in one shows up in the other.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { RUN_STATUSES, type RunListQuery, type RunSortKey, type RunStatus } from '../../common/store-types.ts';
import { JobManager } from '../../jobs/manager.ts';
import { resumeRun, runFolder } from '../../jobs/training.ts';
import { dataPaths } from '../../node/paths.ts';
import { openAppStore, type Store } from '../../store/index.ts';
import { parseNumberOption, parseOptions, UsageError, writeJson, type CliIo, type Command } from '../command.ts';
import { formatTable } from '../terminal.ts';
import { formatComparison, formatRunDetail, formatRunList, runJson } from './runs-format.ts';
import { followTraining } from './training-progress.ts';

const SORTS: Record<string, RunSortKey> = {
  created: 'created',
  name: 'name',
  best: 'bestValAccuracy',
  final: 'finalValAccuracy',
  duration: 'duration',
};

/** Opens the app's store (marking runs of dead processes interrupted), runs `work`, closes it. */
async function withStore<T>(io: CliIo, work: (store: Store) => T | Promise<T>): Promise<T> {
  const { store } = openAppStore(io.env);
  try {
    return await work(store);
  } finally {
    store.close();
  }
}

export function runId(text: string | undefined): number {
  if (text === undefined) throw new UsageError('give the run ID (see `effnet runs list`)');
  const id = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(id) || id < 1)
    throw new UsageError(`a run ID is a whole number (see \`effnet runs list\`), got '${text}'`);
  return id;
}

export const runsListCommand: Command = {
  name: 'runs list',
  summary: 'List training runs: status, dataset, epochs, best and final validation accuracy.',
  usage: `Usage: effnet runs list [--status S] [--tag T] [--search TEXT] [--sort KEY] [--limit N] [--json]

  --status S     only runs in this status (${RUN_STATUSES.join(', ')}); repeatable
  --tag T        only runs with this tag; repeatable (all must match)
  --search TEXT  only runs whose name contains TEXT
  --sort KEY     ${Object.keys(SORTS).join(', ')} (default: created, newest first)
  --limit N      at most N runs (default 50)
  --json         {rows, total}`,
  async run(args, io) {
    const { values } = parseOptions(
      args,
      {
        status: { type: 'string', multiple: true },
        tag: { type: 'string', multiple: true },
        search: { type: 'string' },
        sort: { type: 'string' },
        limit: { type: 'string' },
        json: { type: 'boolean' },
      },
      false,
    );
    for (const status of values.status ?? []) {
      if (!RUN_STATUSES.includes(status as RunStatus))
        throw new UsageError(`--status must be one of ${RUN_STATUSES.join(', ')}, got '${status}'`);
    }
    if (values.sort !== undefined && !(values.sort in SORTS))
      throw new UsageError(`--sort must be one of ${Object.keys(SORTS).join(', ')}, got '${values.sort}'`);
    const query: RunListQuery = {
      status: values.status as RunStatus[] | undefined,
      tags: values.tag,
      search: values.search,
      sort: values.sort === undefined ? undefined : SORTS[values.sort],
      limit: parseNumberOption('limit', values.limit, (n) => Number.isInteger(n) && n >= 1 && n <= 500, 'a whole number from 1 to 500'),
    };
    const page = await withStore(io, (store) => store.runList.list(query));
    if (values.json) writeJson(io, page);
    else io.stdout.write(formatRunList(page));
    return 0;
  },
};

export const runsShowCommand: Command = {
  name: 'runs show',
  summary: 'Show one run: status, config, metrics per epoch, checkpoints, tags and notes.',
  usage: `Usage: effnet runs show ID [--json]

  --json  the run with status, config, bestValAccuracy, finalValAccuracy, metrics (per epoch),
          artifacts, tags, notes, and the runs it continues (resumedFrom)`,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, { json: { type: 'boolean' } });
    const id = runId(onlyOne(positionals));
    await withStore(io, (store) => {
      const detail = store.runDetail(id);
      const ancestors = lineage(store, detail.run.resumedFrom);
      if (values.json) writeJson(io, runJson(detail, ancestors));
      else io.stdout.write(formatRunDetail(detail, ancestors));
    });
    return 0;
  },
};

export const runsCompareCommand: Command = {
  name: 'runs compare',
  summary: 'Compare runs side by side: the settings that differ and their validation accuracy.',
  usage: `Usage: effnet runs compare ID ID… [--json]

  --json  {runs, differences: [{key, values}], metrics: {name: [series per run]}}`,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, { json: { type: 'boolean' } });
    if (positionals.length < 2) throw new UsageError('give two or more run IDs to compare');
    const ids = positionals.map(runId);
    await withStore(io, (store) => {
      const comparison = store.compare(ids);
      const output = formatComparison(comparison);
      if (values.json) writeJson(io, output.json);
      else io.stdout.write(output.text);
    });
    return 0;
  },
};

export const runsResumeCommand: Command = {
  name: 'runs resume',
  summary: 'Continue an interrupted, cancelled or failed run from its last checkpoint (as a new linked run).',
  usage: `Usage: effnet runs resume ID [--epochs N] [--name NAME] [--json]

  --epochs N   train to N epochs in all (default: the run's own number)
  --name NAME  name of the new run (default: "<name> (resumed)")
  --json       one JSON object per line, as \`effnet train --json\`

The new run starts where the newest checkpoint left off (schedule, optimizer state, data order)
and carries the earlier epochs' metrics; the stopped run stays as it was.`,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, { epochs: { type: 'string' }, name: { type: 'string' }, json: { type: 'boolean' } });
    const id = runId(onlyOne(positionals));
    const epochs = parseNumberOption('epochs', values.epochs, (n) => Number.isInteger(n) && n >= 1, 'a whole number ≥ 1');
    return withStore(io, async (store) => {
      const jobs = new JobManager({ store, env: io.env });
      return followTraining(
        io,
        jobs,
        store,
        (listener) => resumeRun(jobs, store, id, { epochs, name: values.name, listener }, io.env),
        Boolean(values.json),
        (queued) =>
          queued.resumeFrom
            ? `Continuing run ${id} from ${queued.resumeFrom}\n`
            : `Run ${id} has no checkpoint: training it again from the start.\n`,
      );
    });
  },
};

export const runsTagCommand: Command = {
  name: 'runs tag',
  summary: 'Add tags to a run (or remove them with --remove).',
  usage: `Usage: effnet runs tag ID TAG… [--remove] [--json]

  --remove  remove these tags instead
  --json    {id, tags}`,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, { remove: { type: 'boolean' }, json: { type: 'boolean' } });
    const [first, ...tags] = positionals;
    const id = runId(first);
    if (tags.length === 0) throw new UsageError('give one or more tags');
    const result = await withStore(io, (store) => {
      store.runs.require(id);
      if (values.remove) store.tags.remove(id, tags);
      else store.tags.add(id, tags);
      return { id, tags: store.tags.forRun(id) };
    });
    if (values.json) writeJson(io, result);
    else io.stdout.write(`Run ${id} tags: ${result.tags.length > 0 ? result.tags.join(', ') : '(none)'}\n`);
    return 0;
  },
};

export const runsNoteCommand: Command = {
  name: 'runs note',
  summary: 'Add a note to a run.',
  usage: `Usage: effnet runs note ID TEXT [--json]

  TEXT    the note (quote it); several words are joined with spaces
  --json  the note {id, runId, body, createdAt, updatedAt}`,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, { json: { type: 'boolean' } });
    const [first, ...words] = positionals;
    const id = runId(first);
    if (words.length === 0) throw new UsageError('give the text of the note');
    const note = await withStore(io, (store) => store.notes.add(store.runs.require(id).id, words.join(' ')));
    if (values.json) writeJson(io, note);
    else io.stdout.write(`Added note ${note.id} to run ${id}.\n`);
    return 0;
  },
};

export const runsDeleteCommand: Command = {
  name: 'runs delete',
  summary: 'Delete a run with its metrics, checkpoints and files in the data folder.',
  usage: `Usage: effnet runs delete ID [--keep-files] [--json]

  --keep-files  delete only the database records; leave checkpoints and models on disk
  --json        {id, deletedFiles, keptFiles}

Files outside the data folder (an export you saved elsewhere) are never deleted. A running run
cannot be deleted: cancel it first.`,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, { 'keep-files': { type: 'boolean' }, json: { type: 'boolean' } });
    const id = runId(onlyOne(positionals));
    const { artifactPaths } = await withStore(io, (store) => store.runs.delete(id));
    const root = dataPaths(io.env).root;
    const inside = (file: string) => !path.relative(root, file).startsWith('..') && !path.isAbsolute(path.relative(root, file));
    const candidates = [...new Set([...artifactPaths, runFolder(id, io.env)])];
    const deletable = values['keep-files'] ? [] : candidates.filter(inside);
    for (const file of deletable) await rm(file, { recursive: true, force: true });
    const kept = candidates.filter((file) => !deletable.includes(file));
    if (values.json) writeJson(io, { id, deletedFiles: deletable, keptFiles: kept });
    else {
      io.stdout.write(`Deleted run ${id}.\n`);
      if (kept.length > 0)
        io.stdout.write(
          formatTable(
            ['kept on disk'],
            kept.map((file) => [file]),
          ),
        );
    }
    return 0;
  },
};

export const RUNS_COMMANDS: readonly Command[] = [
  runsListCommand,
  runsShowCommand,
  runsCompareCommand,
  runsResumeCommand,
  runsTagCommand,
  runsNoteCommand,
  runsDeleteCommand,
];

function onlyOne(positionals: readonly string[]): string | undefined {
  if (positionals.length > 1) throw new UsageError(`expected one run ID, got ${positionals.length}: ${positionals.join(' ')}`);
  return positionals[0];
}

/** The runs this one continues, newest first: `runs show` names where the earlier epochs came from. */
function lineage(store: Store, from: number | null): { id: number; name: string; status: RunStatus }[] {
  const chain: { id: number; name: string; status: RunStatus }[] = [];
  for (let id = from; id !== null && chain.length < 100;) {
    const run = store.runs.get(id);
    if (!run) break;
    chain.push({ id: run.id, name: run.name, status: run.status });
    id = run.resumedFrom;
  }
  return chain;
}
