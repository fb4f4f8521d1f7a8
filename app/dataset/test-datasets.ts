/**
 * Writes small datasets for tests from a table of relative path → content. Images are tiny PNGs
 * whose colour comes from a number, so every number is a distinct file and equal numbers are exact
 * duplicates. Not used by the app.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { createRandom } from '../common/random.ts';
import { encodePng } from '../image/test-images.ts';

export type FileSpec =
  | { png: number; size?: [number, number]; grey?: boolean }
  | { jpeg: number; truncated?: boolean }
  | { text: string }
  | { bytes: Uint8Array }
  | { folder: true };

export const png = (n: number, size?: [number, number]): FileSpec => ({ png: n, size });
export const greyPng = (n: number): FileSpec => ({ png: n, grey: true });
export const jpeg = (n: number, truncated = false): FileSpec => ({ jpeg: n, truncated });
export const text = (value: string): FileSpec => ({ text: value });
export const emptyFolder: FileSpec = { folder: true };

/** PNG bytes for `n`: an 2×2 (or `size`) image, colour derived from n. */
export function pngBytes(n: number, size: [number, number] = [2, 2], grey = false): Buffer {
  const [width, height] = size;
  const colour = grey ? [n % 256, n % 256, n % 256] : [n % 256, (n >> 8) % 256, 255 - (n % 256)];
  const row = Buffer.from(Array.from({ length: width }, () => colour).flat());
  return encodePng({ width, height, bitDepth: 8, colorType: 2, rows: Array.from({ length: height }, () => row) });
}

async function bytesOf(spec: Exclude<FileSpec, { folder: true }>): Promise<Uint8Array> {
  if ('png' in spec) return pngBytes(spec.png, spec.size, spec.grey);
  if ('text' in spec) return Buffer.from(spec.text, 'utf8');
  if ('bytes' in spec) return spec.bytes;
  // Noise does not compress, so a truncation lands in the entropy-coded data.
  const random = createRandom(spec.jpeg);
  const pixels = Buffer.from(Array.from({ length: 32 * 32 * 3 }, () => Math.floor(random() * 256)));
  const bytes = await sharp(pixels, { raw: { width: 32, height: 32, channels: 3 } })
    .jpeg()
    .toBuffer();
  return spec.truncated ? bytes.subarray(0, Math.floor(bytes.length * 0.6)) : bytes;
}

export async function writeDataset(root: string, files: Readonly<Record<string, FileSpec>>): Promise<void> {
  await mkdir(root, { recursive: true });
  for (const [relative, spec] of Object.entries(files)) {
    const full = path.join(root, ...relative.split('/'));
    if ('folder' in spec) {
      await mkdir(full, { recursive: true });
      continue;
    }
    await mkdir(path.dirname(full), { recursive: true });
    await writeFile(full, await bytesOf(spec));
  }
}
