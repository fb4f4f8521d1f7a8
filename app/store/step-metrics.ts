import { AppError } from '../common/errors.ts';
import type { StepSeries } from '../common/store-types.ts';
import type { Db } from './database.ts';
import { translateRunError } from './errors.ts';

/** Points per stored chunk: a chunk row is at most 1 KiB of blobs, so rewriting it per append is cheap. */
export const STEP_CHUNK = 128;

export interface StepPoint {
  /** Global step (batches since the run began), increasing. */
  readonly step: number;
  readonly values: { readonly [name: string]: number };
}

interface ChunkRecord {
  id: number;
  chunk: number;
  count: number;
  last_step: number;
  steps: Buffer;
  vals: Buffer;
}

interface SeriesChunk {
  name: string;
  count: number;
  steps: Buffer;
  vals: Buffer;
}

/**
 * Per-step metrics (loss and accuracy per batch), packed in chunks (see migration 003): about
 * 8 bytes a point. Appends are stateless (read the last chunk, rewrite it) so several processes
 * can write and nothing is lost to an in-memory buffer when a process dies.
 */
export class StepMetricRepository {
  readonly #db: Db;
  readonly #last;
  readonly #update;
  readonly #insert;
  readonly #read;

  constructor(db: Db) {
    this.#db = db;
    this.#last = db.prepare<[number, string], ChunkRecord>(
      'SELECT id, chunk, count, last_step, steps, vals FROM step_metrics WHERE run_id = ? AND name = ? ORDER BY chunk DESC LIMIT 1',
    );
    this.#update = db.prepare<[number, number, Buffer, Buffer, number]>(
      'UPDATE step_metrics SET last_step = ?, count = ?, steps = ?, vals = ? WHERE id = ?',
    );
    this.#insert = db.prepare<[number, string, number, number, number, number, Buffer, Buffer]>(
      'INSERT INTO step_metrics (run_id, name, chunk, first_step, last_step, count, steps, vals) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.#read = db.prepare<[number, number], SeriesChunk>(
      'SELECT name, count, steps, vals FROM step_metrics WHERE run_id = ? AND last_step > ? ORDER BY name, chunk',
    );
  }

  /** Appends points (steps increasing, after any stored step of the same metric) in one transaction. */
  append(runId: number, points: readonly StepPoint[]): void {
    const byName = new Map<string, { steps: number[]; values: number[] }>();
    for (const point of points) {
      if (!Number.isInteger(point.step) || point.step < 0 || point.step > 0xffffffff) {
        throw new AppError('metric-invalid', `Run ${runId}: step must be a whole number from 0 to 2³²−1, got ${point.step}.`);
      }
      for (const [name, value] of Object.entries(point.values)) {
        if (typeof value !== 'number') throw new AppError('metric-invalid', `Run ${runId}, step ${point.step}: ${name} is not a number.`);
        const series = byName.get(name) ?? { steps: [], values: [] };
        byName.set(name, series);
        series.steps.push(point.step);
        series.values.push(value);
      }
    }
    try {
      this.#db.transaction(() => {
        for (const [name, series] of byName) this.#appendSeries(runId, name, series.steps, series.values);
      })();
    } catch (error) {
      throw translateRunError(runId, error);
    }
  }

  /** Step series of one run; `afterStep` returns only newer points (live charts poll with it). */
  series(runId: number, afterStep = -1): Record<string, StepSeries> {
    const result: Record<string, { steps: number[]; values: number[] }> = {};
    for (const chunk of this.#read.iterate(runId, afterStep)) {
      const series = (result[chunk.name] ??= { steps: [], values: [] });
      for (let i = 0; i < chunk.count; i++) {
        const step = chunk.steps.readUInt32LE(i * 4);
        if (step <= afterStep) continue;
        series.steps.push(step);
        series.values.push(chunk.vals.readFloatLE(i * 4));
      }
    }
    return result;
  }

  #appendSeries(runId: number, name: string, steps: number[], values: number[]): void {
    const last = this.#last.get(runId, name);
    let previous = last?.last_step ?? -1;
    for (const step of steps) {
      if (step <= previous) {
        throw new AppError('metric-invalid', `Run ${runId}: step ${step} of ${name} is not after step ${previous}.`, {
          hint: 'Step metrics are appended in order of increasing global step.',
        });
      }
      previous = step;
    }
    let next = 0;
    if (last && last.count < STEP_CHUNK) {
      const take = Math.min(STEP_CHUNK - last.count, steps.length);
      const count = last.count + take;
      const packed = pack(steps, values, 0, take);
      this.#update.run(
        steps[take - 1]!,
        count,
        Buffer.concat([last.steps, packed.steps]),
        Buffer.concat([last.vals, packed.vals]),
        last.id,
      );
      next = take;
    }
    let chunk = last ? last.chunk + 1 : 0;
    for (; next < steps.length; next += STEP_CHUNK, chunk++) {
      const end = Math.min(next + STEP_CHUNK, steps.length);
      const packed = pack(steps, values, next, end);
      this.#insert.run(runId, name, chunk, steps[next]!, steps[end - 1]!, end - next, packed.steps, packed.vals);
    }
  }
}

function pack(steps: number[], values: number[], start: number, end: number): { steps: Buffer; vals: Buffer } {
  const packedSteps = Buffer.alloc((end - start) * 4);
  const packedValues = Buffer.alloc((end - start) * 4);
  for (let i = start; i < end; i++) {
    packedSteps.writeUInt32LE(steps[i]!, (i - start) * 4);
    packedValues.writeFloatLE(values[i]!, (i - start) * 4);
  }
  return { steps: packedSteps, vals: packedValues };
}
