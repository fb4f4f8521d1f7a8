/**
 * A dataset fingerprint: sha256 over the sorted (relative path, label, split, content hash) list.
 * The same files and labels give the same fingerprint on any machine and in any folder; changing one
 * byte, renaming, relabelling or moving a file between splits changes it.
 */
import { createHash } from 'node:crypto';
import { compareText } from './types.ts';
import type { ScannedItem } from './scan.ts';

export const FINGERPRINT_VERSION = 1;

export function datasetFingerprint(scanned: readonly Pick<ScannedItem, 'item' | 'hash'>[]): string {
  // Paths are NFC-normalised: macOS may hand back decomposed (NFD) names for the same folder that
  // Linux and Windows store composed, and the fingerprint must not depend on that.
  const lines = scanned
    .map(({ item, hash }) => JSON.stringify([item.path.normalize('NFC'), item.label.normalize('NFC'), item.split ?? null, hash ?? null]))
    .sort(compareText);
  const digest = createHash('sha256');
  digest.update(`effnet-dataset-fingerprint/${FINGERPRINT_VERSION}\n`);
  for (const line of lines) digest.update(`${line}\n`);
  return digest.digest('hex');
}
