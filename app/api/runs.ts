/** The Experiments and Run detail screens' channels: the runs list, compare, tags, notes, delete. */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { configDiff } from '../common/config-diff.ts';
import type { ChannelResults, ParsedArgs } from '../common/ipc/contract.ts';
import { dataPaths } from '../node/paths.ts';
import type { ApiContext } from './context.ts';
import { findEvaluation } from './evaluation.ts';

export function runHandlers(context: ApiContext) {
  const store = () => context.store();
  const changed = (runId: number | null) => context.events.publish({ type: 'runs:changed', runId });

  return {
    'runs:list': async (query: ParsedArgs<'runs:list'>[0]) => store().runList.list(query),
    'runs:get': async (id: number) => store().runDetail(id),
    'runs:compare': async (ids: number[]): Promise<ChannelResults['runs:compare']> => {
      const comparison = store().compare(ids);
      return { ...comparison, differences: configDiff(comparison.runs.map((run) => run.config)) };
    },
    'runs:evaluation': async (id: number) => {
      store().runs.require(id);
      return findEvaluation(store(), id);
    },
    'runs:events': async (id: number, afterSeq: number) => {
      store().runs.require(id);
      return store().events.since(id, afterSeq);
    },
    'runs:tags': async () => store().tags.all(),
    'runs:tag': async ({ run, add, remove }: ParsedArgs<'runs:tag'>[0]) => {
      store().runs.require(run);
      store().transaction(() => {
        if (add.length) store().tags.add(run, add);
        if (remove.length) store().tags.remove(run, remove);
      });
      changed(run);
      return store().tags.forRun(run);
    },
    'runs:rename': async (id: number, name: string) => {
      const run = store().runs.rename(id, name);
      changed(id);
      return { id: run.id, name: run.name };
    },
    'runs:addNote': async (id: number, body: string) => {
      const note = store().notes.add(id, body);
      changed(id);
      return note;
    },
    'runs:updateNote': async (noteId: number, body: string) => store().notes.update(noteId, body),
    'runs:deleteNote': async (noteId: number) => ({ deleted: store().notes.remove(noteId) }),
    'runs:delete': async (id: number): Promise<ChannelResults['runs:delete']> => {
      const { artifactPaths } = store().runs.delete(id);
      changed(id);
      return removeArtifacts(artifactPaths, context.env);
    },
  };
}

/**
 * Deletes the files of a deleted run that the app itself wrote (under the data folder's runs/ and
 * exports/). Anything elsewhere (an export the user saved to their own folder) is theirs: kept, and listed.
 */
async function removeArtifacts(files: readonly string[], env: NodeJS.ProcessEnv): Promise<{ deletedFiles: number; keptFiles: string[] }> {
  const folders = dataPaths(env);
  const owned = (file: string) =>
    [folders.runs, folders.exports].some((folder) => {
      const relative = path.relative(folder, path.resolve(file));
      return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
    });
  let deletedFiles = 0;
  const keptFiles: string[] = [];
  for (const file of files) {
    if (!owned(file)) {
      keptFiles.push(file);
      continue;
    }
    await rm(file, { recursive: true, force: true });
    deletedFiles++;
  }
  return { deletedFiles, keptFiles };
}
