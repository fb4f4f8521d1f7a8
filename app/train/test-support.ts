/**
 * Small generated datasets and environments for the training tests. Not used by the app.
 *
 * Three classes that a tiny network can tell apart after a few epochs but that are not trivially
 * constant images: `red` blobs, `green` horizontal stripes and `blue` vertical stripes, each on a
 * random dark background with per-pixel noise and a random offset.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { createRandom } from '../common/random.ts';

export const SYNTHETIC_CLASSES = ['blue', 'green', 'red'] as const;

export interface SyntheticOptions {
  readonly perClass: number;
  readonly size?: number;
  readonly seed?: number;
  /** Folder (class) names instead of blue/green/red, in that order. */
  readonly names?: readonly [string, string, string];
}

/** Writes `root/<class>/<n>.png` images; returns the number written. */
export async function writeSyntheticDataset(root: string, options: SyntheticOptions): Promise<number> {
  const size = options.size ?? 40;
  const random = createRandom(options.seed ?? 1);
  let written = 0;
  for (const [index, name] of SYNTHETIC_CLASSES.entries()) {
    const folder = options.names?.[index] ?? name;
    await mkdir(path.join(root, folder), { recursive: true });
    for (let n = 0; n < options.perClass; n++) {
      const pixels = Buffer.alloc(size * size * 3);
      const background = [random() * 60, random() * 60, random() * 60];
      const offset = Math.floor(random() * 8);
      const period = 6 + Math.floor(random() * 4);
      const [cx, cy] = [size * (0.3 + 0.4 * random()), size * (0.3 + 0.4 * random())];
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          let colour = background;
          if (name === 'red' && (x - cx) ** 2 + (y - cy) ** 2 < (size * 0.3) ** 2) colour = [200, 40, 40];
          if (name === 'green' && Math.floor((y + offset) / (period / 2)) % 2 === 0) colour = [40, 190, 60];
          if (name === 'blue' && Math.floor((x + offset) / (period / 2)) % 2 === 0) colour = [40, 70, 200];
          for (let c = 0; c < 3; c++) {
            const noisy = colour[c]! + (random() - 0.5) * 50;
            pixels[(y * size + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(noisy)));
          }
        }
      }
      await sharp(pixels, { raw: { width: size, height: size, channels: 3 } })
        .png()
        .toFile(path.join(root, folder, `${String(n).padStart(3, '0')}.png`));
      written++;
    }
  }
  return written;
}

/** A temporary folder removed by the returned cleanup. */
export async function temporaryFolder(prefix: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** An environment for train(): the cpu backend and a private data folder (for the embedding cache). */
export function testEnvironment(home: string): NodeJS.ProcessEnv {
  return { ...process.env, EFFNET_BACKEND: 'cpu', EFFNET_HOME: home };
}
