/**
 * A run's confusion matrix, from its `epoch` events (app/common/train-types.ts: each carries the
 * validation `confusion` as `{ labels, matrix }`). The run's final model is its best epoch's
 * weights (earlyStopping.restoreBest), so the best epoch's matrix is the one shown; without a
 * `best` mark, the last epoch's.
 */
import { z } from 'zod';
import type { RunEvaluation } from '../common/ipc/contract.ts';
import type { RunEventRow } from '../common/store-types.ts';
import type { Store } from '../store/index.ts';

const epochPayload = z.object({
  epoch: z.number().int(),
  best: z.boolean().optional(),
  confusion: z.object({ labels: z.array(z.string()).min(1), matrix: z.array(z.array(z.number().int().nonnegative())) }),
  misclassified: z
    .array(
      z.object({
        actual: z.string(),
        predicted: z.string(),
        count: z.number().int().nonnegative(),
        items: z.array(z.object({ path: z.string(), confidence: z.number() })),
      }),
    )
    .optional(),
});

const EVENT_PAGE = 1000;

type EventEvaluation = Omit<RunEvaluation, 'datasetSource'> & { best: boolean };

export function evaluationFromEvent(event: RunEventRow): EventEvaluation | null {
  if (event.type !== 'epoch') return null;
  const parsed = epochPayload.safeParse(event.payload);
  if (!parsed.success) return null;
  const { labels, matrix } = parsed.data.confusion;
  if (matrix.length !== labels.length || matrix.some((row) => row.length !== labels.length)) return null;
  return {
    classes: labels,
    matrix,
    split: 'val',
    epoch: parsed.data.epoch,
    misclassified: parsed.data.misclassified ?? null,
    best: parsed.data.best ?? false,
  };
}

export function findEvaluation(store: Store, runId: number): RunEvaluation | null {
  const found = findEventEvaluation(store, runId);
  return found ? { ...found, datasetSource: datasetSource(store, runId) } : null;
}

/** The run's dataset as recorded, or as its config names it (a run queued before its dataset row). */
function datasetSource(store: Store, runId: number): string | null {
  const run = store.runs.require(runId);
  const recorded = run.datasetId === null ? undefined : store.datasets.get(run.datasetId)?.path;
  if (recorded) return recorded;
  const configured = (run.config as { dataset?: { path?: unknown } }).dataset?.path;
  return typeof configured === 'string' ? configured : null;
}

function findEventEvaluation(store: Store, runId: number): Omit<RunEvaluation, 'datasetSource'> | null {
  let best: Omit<RunEvaluation, 'datasetSource'> | null = null;
  let last: Omit<RunEvaluation, 'datasetSource'> | null = null;
  for (let after = 0; ;) {
    const page = store.events.since(runId, after, EVENT_PAGE);
    for (const event of page) {
      const found = evaluationFromEvent(event);
      if (!found) continue;
      const { best: isBest, ...evaluation } = found;
      last = evaluation;
      if (isBest) best = evaluation;
    }
    if (page.length < EVENT_PAGE) return best ?? last;
    after = page.at(-1)!.seq;
  }
}
