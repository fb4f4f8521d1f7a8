/**
 * The runs a screen can take a model from (Export, Classify): a run saves its model at the end of
 * its first epoch, so every run with an epoch done has one. Newest first.
 */
import type { RunListRow } from '../../../app/common/store-types.ts';
import { call } from './api.ts';

export async function runsWithModels(): Promise<RunListRow[]> {
  const page = await call('runs:list', { sort: 'created', direction: 'desc', limit: 500 });
  return page.rows.filter((run) => run.epochsDone > 0);
}
