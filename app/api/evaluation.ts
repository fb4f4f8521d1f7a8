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
});

const EVENT_PAGE = 1000;

export function evaluationFromEvent(event: RunEventRow): (RunEvaluation & { best: boolean }) | null {
  if (event.type !== 'epoch') return null;
  const parsed = epochPayload.safeParse(event.payload);
  if (!parsed.success) return null;
  const { labels, matrix } = parsed.data.confusion;
  if (matrix.length !== labels.length || matrix.some((row) => row.length !== labels.length)) return null;
  return { classes: labels, matrix, split: 'val', epoch: parsed.data.epoch, best: parsed.data.best ?? false };
}

export function findEvaluation(store: Store, runId: number): RunEvaluation | null {
  let best: RunEvaluation | null = null;
  let last: RunEvaluation | null = null;
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
