import type { Command } from '../command.ts';
import { variantsCommand } from './variants.ts';
import { scaleCommand } from './scale.ts';
import { scaleSearchCommand } from './scale-search.ts';
import { scaleFamilyCommand } from './scale-family.ts';
import { doctorCommand } from './doctor.ts';
import { weightsFetchCommand, weightsImportCommand, weightsListCommand } from './weights.ts';
import { datasetInspectCommand } from './dataset-inspect.ts';
import { datasetSplitCommand } from './dataset-split.ts';
import { datasetPreviewCommand } from './dataset-preview.ts';
import { serveCommand } from './serve.ts';
import { exportCommand } from './export.ts';
import { classifyCommand } from './classify.ts';
import { trainCommand } from './train.ts';
import { RUNS_COMMANDS } from './runs.ts';

/** Every CLI command, in the order `effnet --help` lists them. A test walks this table. */
export const COMMANDS: readonly Command[] = [
  variantsCommand,
  scaleCommand,
  scaleSearchCommand,
  scaleFamilyCommand,
  weightsListCommand,
  weightsFetchCommand,
  weightsImportCommand,
  doctorCommand,
  datasetInspectCommand,
  datasetSplitCommand,
  datasetPreviewCommand,
  trainCommand,
  ...RUNS_COMMANDS,
  serveCommand,
  exportCommand,
  classifyCommand,
];
