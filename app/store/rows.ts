/** SQL rows (snake_case, JSON as text) to the typed rows of app/common/store-types.ts. */
import type {
  ArtifactRow,
  DatasetRow,
  DatasetSplit,
  JsonObject,
  JsonValue,
  NoteRow,
  RunEventRow,
  RunEventType,
  RunRow,
  RunStatus,
} from '../common/store-types.ts';

export interface RunRecord {
  id: number;
  name: string;
  dataset_id: number | null;
  config: string;
  status: RunStatus;
  status_message: string | null;
  backend: string | null;
  device: string | null;
  seed: number | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  resumed_from: number | null;
  owner_pid: number | null;
  owner_host: string | null;
  owner_boot: string | null;
  epochs_done: number;
  best_val_accuracy: number | null;
  best_epoch: number | null;
  final_val_accuracy: number | null;
}

export function toRun(record: RunRecord): RunRow {
  return {
    id: record.id,
    name: record.name,
    datasetId: record.dataset_id,
    config: JSON.parse(record.config) as JsonObject,
    status: record.status,
    statusMessage: record.status_message,
    backend: record.backend,
    device: record.device,
    seed: record.seed,
    createdAt: record.created_at,
    startedAt: record.started_at,
    finishedAt: record.finished_at,
    resumedFrom: record.resumed_from,
    ownerPid: record.owner_pid,
    ownerHost: record.owner_host,
    epochsDone: record.epochs_done,
    bestValAccuracy: record.best_val_accuracy,
    bestEpoch: record.best_epoch,
    finalValAccuracy: record.final_val_accuracy,
  };
}

export interface DatasetRecord {
  id: number;
  path: string;
  fingerprint: string;
  name: string;
  classes: string;
  split: string;
  created_at: number;
  last_used_at: number;
}

export function toDataset(record: DatasetRecord): DatasetRow {
  return {
    id: record.id,
    path: record.path,
    fingerprint: record.fingerprint,
    name: record.name,
    classes: JSON.parse(record.classes) as string[],
    split: JSON.parse(record.split) as DatasetSplit,
    createdAt: record.created_at,
    lastUsedAt: record.last_used_at,
  };
}

export interface ArtifactRecord {
  id: number;
  run_id: number;
  kind: string;
  path: string;
  sha256: string;
  bytes: number;
  epoch: number | null;
  created_at: number;
}

export function toArtifact(record: ArtifactRecord): ArtifactRow {
  return {
    id: record.id,
    runId: record.run_id,
    kind: record.kind,
    path: record.path,
    sha256: record.sha256,
    bytes: record.bytes,
    epoch: record.epoch,
    createdAt: record.created_at,
  };
}

export interface NoteRecord {
  id: number;
  run_id: number;
  body: string;
  created_at: number;
  updated_at: number;
}

export function toNote(record: NoteRecord): NoteRow {
  return { id: record.id, runId: record.run_id, body: record.body, createdAt: record.created_at, updatedAt: record.updated_at };
}

export interface EventRecord {
  run_id: number;
  seq: number;
  type: RunEventType;
  payload: string;
  time: number;
}

export function toEvent(record: EventRecord): RunEventRow {
  return { runId: record.run_id, seq: record.seq, type: record.type, payload: JSON.parse(record.payload) as JsonValue, time: record.time };
}
