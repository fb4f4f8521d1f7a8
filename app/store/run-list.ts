import { AppError } from '../common/errors.ts';
import {
  RUN_STATUSES,
  type RunListPage,
  type RunListQuery,
  type RunListRow,
  type RunSortKey,
  type RunStatus,
} from '../common/store-types.ts';
import type { Statement } from 'better-sqlite3';
import type { Db } from './database.ts';
import type { RunRecord } from './rows.ts';

/** A runs-list row: the run's own columns (without the config and owner) plus what the list joins in. */
type ListRecord = Omit<RunRecord, 'config' | 'owner_pid' | 'owner_host' | 'owner_boot'> & {
  dataset_name: string | null;
  tags: string;
  duration_ms: number | null;
};

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

/** Sort expressions; each ends with id so pages never overlap or skip rows that tie. */
const SORT_COLUMNS: { readonly [key in RunSortKey]: string } = {
  created: 'r.created_at',
  name: 'r.name COLLATE NOCASE',
  bestValAccuracy: 'r.best_val_accuracy',
  finalValAccuracy: 'r.final_val_accuracy',
  duration: 'duration_ms',
};

const DURATION =
  "CASE WHEN r.started_at IS NULL THEN NULL ELSE coalesce(r.finished_at, CASE WHEN r.status = 'running' THEN ? END) - r.started_at END";

/**
 * The runs list: filters, sort and one page. Everything it shows is on the runs row (the summary
 * columns of migration 004), so a page costs a sort over runs, not an aggregate over metrics.
 * Statements are prepared once per distinct filter shape.
 */
export class RunListQueries {
  readonly #db: Db;
  readonly #statements = new Map<string, Statement<unknown[], unknown>>();

  constructor(db: Db) {
    this.#db = db;
  }

  list(query: RunListQuery = {}, now: number = Date.now()): RunListPage {
    const { where, params } = filters(query);
    const sort = query.sort ?? 'created';
    if (!(sort in SORT_COLUMNS))
      throw new AppError('query-invalid', `Unknown sort '${sort}'.`, { details: { known: Object.keys(SORT_COLUMNS) } });
    const direction = (query.direction ?? (sort === 'name' ? 'asc' : 'desc')) === 'asc' ? 'ASC' : 'DESC';
    const limit = clamp(query.limit ?? DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE);
    const offset = Math.max(0, Math.floor(query.offset ?? 0));
    const column = SORT_COLUMNS[sort];

    const order = `ORDER BY (${column}) IS NULL, ${column} ${direction}, r.id ${direction}`;
    // Two steps: sort and cut the page on the runs table alone, then compute tags and the dataset
    // name for the 50 rows of the page only (not for every run the filter matched).
    const sql = `
      WITH page AS (SELECT r.id, ${DURATION} AS duration_ms FROM runs r ${where} ${order} LIMIT ? OFFSET ?)
      SELECT r.id, r.name, r.dataset_id, r.status, r.status_message, r.backend, r.device, r.seed, r.created_at, r.started_at,
             r.finished_at, r.resumed_from, r.epochs_done, r.best_val_accuracy, r.best_epoch, r.final_val_accuracy,
             d.name AS dataset_name,
             (SELECT json_group_array(name) FROM (SELECT t.name FROM run_tags rt JOIN tags t ON t.id = rt.tag_id
                WHERE rt.run_id = r.id ORDER BY t.name)) AS tags,
             page.duration_ms
      FROM page JOIN runs r ON r.id = page.id LEFT JOIN datasets d ON d.id = r.dataset_id
      ${order.replaceAll('duration_ms', 'page.duration_ms')}`;
    const records = this.#prepare(sql).all(now, ...params, limit, offset) as ListRecord[];
    const total = this.#prepare(`SELECT count(*) FROM runs r ${where}`)
      .pluck()
      .get(...params) as number;
    return { rows: records.map(toListRow), total };
  }

  #prepare(sql: string): Statement<unknown[], unknown> {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare<unknown[], unknown>(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }
}

function filters(query: RunListQuery): { where: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  if (query.status !== undefined) {
    const statuses: readonly RunStatus[] = typeof query.status === 'string' ? [query.status] : query.status;
    for (const status of statuses) {
      if (!RUN_STATUSES.includes(status))
        throw new AppError('query-invalid', `Unknown run status '${status}'.`, { details: { known: RUN_STATUSES } });
    }
    if (statuses.length > 0) {
      clauses.push(`r.status IN (${statuses.map(() => '?').join(', ')})`);
      params.push(...statuses);
    }
  }
  for (const tag of query.tags ?? []) {
    // From the tag to its runs through run_tags_tag, not a scan of every run's tags.
    clauses.push('r.id IN (SELECT rt.run_id FROM run_tags rt WHERE rt.tag_id = (SELECT id FROM tags WHERE name = ?))');
    params.push(tag.trim());
  }
  if (query.datasetId !== undefined) {
    clauses.push('r.dataset_id = ?');
    params.push(query.datasetId);
  }
  const search = query.search?.trim();
  if (search) {
    // LIKE is case-insensitive for ASCII; escape its wildcards so "lr_0.1" matches literally.
    clauses.push("r.name LIKE ? ESCAPE '\\'");
    params.push(`%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
  }
  return { where: clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, Math.floor(value)));
}

function toListRow(record: ListRecord): RunListRow {
  return {
    id: record.id,
    name: record.name,
    datasetId: record.dataset_id,
    status: record.status,
    statusMessage: record.status_message,
    backend: record.backend,
    device: record.device,
    seed: record.seed,
    createdAt: record.created_at,
    startedAt: record.started_at,
    finishedAt: record.finished_at,
    resumedFrom: record.resumed_from,
    epochsDone: record.epochs_done,
    bestValAccuracy: record.best_val_accuracy,
    bestEpoch: record.best_epoch,
    finalValAccuracy: record.final_val_accuracy,
    datasetName: record.dataset_name,
    tags: JSON.parse(record.tags) as string[],
    durationMs: record.duration_ms,
  };
}
