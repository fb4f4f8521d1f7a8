/**
 * What a training run reports while it runs (app/train emits these; the worker forwards them, the
 * store records them, the renderer draws them). Pure TypeScript and plain JSON data: metric values
 * are numbers, and a NaN a diverging run produces travels as null once serialised.
 *
 * Epochs are counted from 1 in everything reported (the store's `epochsDone` is the last one
 * reported); steps within an epoch too.
 */

/** Flat per-epoch metrics with Keras' names (`loss`, `accuracy`, `val_loss`, `val_accuracy`, …). */
export type EpochMetrics = Readonly<Record<string, number>>;

export interface ClassMetrics {
  readonly label: string;
  /** Of the images predicted as this class, the fraction that are (0 when none were predicted). */
  readonly precision: number;
  /** Of the images of this class, the fraction predicted as it (0 when the class has none). */
  readonly recall: number;
  readonly f1: number;
  /** Images of this class in the evaluated set. */
  readonly support: number;
}

/** `matrix[t][p]`: images of true class t predicted as class p; labels index both axes. */
export interface ConfusionMatrix {
  readonly labels: readonly string[];
  readonly matrix: readonly (readonly number[])[];
}

/**
 * The images of one confusion-matrix cell off the diagonal, most confidently wrong first. `path` is
 * the dataset item's path as the dataset gives it (relative to its root), so the UI can show it.
 */
export interface MisclassifiedCell {
  readonly actual: string;
  readonly predicted: string;
  /** Every image of the cell, even when `items` holds only the most confident few. */
  readonly count: number;
  readonly items: readonly { readonly path: string; readonly confidence: number }[];
}

/** Per epoch, a cell keeps its most confidently wrong images only: the events stay small on big sets. */
export const MISCLASSIFIED_PER_CELL = 24;

export type TrainPhase = 'embed' | 'train' | 'validate';

export type TrainEvent =
  | {
      readonly type: 'started';
      /** tfjs backend of the training steps ('tensorflow' or 'cpu'). */
      readonly backend: string;
      /** The device in words, from the backend ladder. */
      readonly device: string;
      /** Backend of forward-only work (embeddings, validation): may be 'wasm' while training runs on 'cpu'. */
      readonly forwardBackend: string;
      readonly mode: string;
      readonly totalEpochs: number;
      readonly stepsPerEpoch: number;
      readonly classes: readonly string[];
      readonly trainImages: number;
      readonly validationImages: number;
      readonly seed: number;
      readonly datasetFingerprint: string;
      /** Where a resumed run picks up: the epoch in progress and the steps of it already done. */
      readonly resumedAt?: { readonly epoch: number; readonly step: number };
    }
  | {
      readonly type: 'progress';
      readonly phase: TrainPhase;
      readonly epoch: number;
      /** Steps (train), batches (validate) or images (embed) done in this phase. */
      readonly step: number;
      readonly steps: number;
      /** The last optimizer step's loss (train phase); null otherwise. */
      readonly loss: number | null;
      readonly imagesPerSecond: number | null;
      /** Seconds until the whole run ends, at the current pace. */
      readonly etaSeconds: number | null;
      readonly learningRate: number | null;
      /** Optimizer steps since the run began (train phase). */
      readonly globalStep?: number;
    }
  | {
      readonly type: 'epoch';
      readonly epoch: number;
      readonly epochs: number;
      readonly metrics: EpochMetrics;
      /** Validation per-class metrics and confusion (absent when there is no validation set). */
      readonly perClass?: readonly ClassMetrics[];
      readonly confusion?: ConfusionMatrix;
      /** The validation images each off-diagonal confusion cell holds (at most MISCLASSIFIED_PER_CELL each). */
      readonly misclassified?: readonly MisclassifiedCell[];
      /** This epoch improved the monitored metric and is now the best checkpoint. */
      readonly best: boolean;
    }
  | {
      readonly type: 'checkpoint';
      readonly epoch: number;
      /** Steps of `epoch` done when it was written (stepsPerEpoch at an epoch's end). */
      readonly step: number;
      /** The checkpoint folder. */
      readonly path: string;
      readonly best: boolean;
      /** sha256 over the folder's files (names and contents) and their total size. */
      readonly sha256: string;
      readonly bytes: number;
    }
  | { readonly type: 'log'; readonly level: 'debug' | 'info'; readonly message: string }
  | { readonly type: 'warning'; readonly code: string; readonly message: string; readonly details?: unknown };

export type TrainEventType = TrainEvent['type'];

export interface EpochRecord {
  readonly epoch: number;
  readonly metrics: EpochMetrics;
}

export type TrainStatus = 'completed' | 'stopped-early' | 'cancelled';

export interface TrainSummary {
  readonly status: TrainStatus;
  readonly epochsDone: number;
  readonly totalEpochs: number;
  readonly globalSteps: number;
  readonly seed: number;
  readonly classes: readonly string[];
  /** The monitored metric's best value and its epoch (null without validation data). */
  readonly best: { readonly metric: string; readonly value: number; readonly epoch: number } | null;
  readonly history: readonly EpochRecord[];
  /** The final model (saveModel format), written when the run completed or stopped early. */
  readonly modelDir: string | null;
  readonly lastCheckpoint: string | null;
  readonly bestCheckpoint: string | null;
  readonly backend: string;
  readonly seconds: number;
}
