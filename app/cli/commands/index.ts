import type { Command } from '../command.ts';
import { variantsCommand } from './variants.ts';
import { scaleCommand } from './scale.ts';

/** Every CLI command, in the order `effnet --help` lists them. A test walks this table. */
export const COMMANDS: readonly Command[] = [variantsCommand, scaleCommand];
