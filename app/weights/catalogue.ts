import { z } from 'zod';
import { isVariantName, VARIANT_NAMES, type VariantName } from '../common/efficientnet/index.ts';
import { AppError } from '../common/errors.ts';
import { readResource } from '../node/resources.ts';

/** Tests point the downloader at 127.0.0.1 with this; it replaces the catalogue's base URL. */
export const BASE_URL_ENV = 'EFFNET_WEIGHTS_BASE_URL';

export interface WeightsEntry {
  readonly variant: VariantName;
  /** true: the 1000-class ImageNet classifier is included (`.h5`); false: `_notop.h5`. */
  readonly top: boolean;
  readonly fileName: string;
  readonly url: string;
  /** Lower-case hex MD5 of the whole file: what verifies a download or an import. */
  readonly md5: string;
  /** Approximate size for display (float32 × parameters + HDF5 overhead): never used to verify. */
  readonly approxBytes: number;
}

const catalogueSchema = z.object({
  baseUrl: z.url(),
  hashAlgorithm: z.literal('md5'),
  approxBytesNote: z.string(),
  files: z
    .array(
      z.object({
        variant: z.enum(VARIANT_NAMES),
        top: z.boolean(),
        fileName: z.string().regex(/^efficientnetb[0-7](_notop)?\.h5$/),
        url: z.url(),
        md5: z.string().regex(/^[0-9a-f]{32}$/),
        approxBytes: z.number().int().positive(),
      }),
    )
    .length(VARIANT_NAMES.length * 2),
});

export type Catalogue = z.infer<typeof catalogueSchema>;

let loaded: Catalogue | undefined;

/** The Keras ImageNet weights (keras.applications, efficientnet-facts.md §1.10), one entry per file:
 * the shipped catalogue, validated once; a broken resource file is a packaging bug, so it throws. */
export function loadCatalogue(): Catalogue {
  loaded ??= catalogueSchema.parse(JSON.parse(readResource('weights/keras-imagenet.json')));
  return loaded;
}

/** Every entry, with EFFNET_WEIGHTS_BASE_URL (when set) in place of the storage.googleapis.com base. */
export function weightsCatalogue(env: NodeJS.ProcessEnv = process.env): readonly WeightsEntry[] {
  const override = env[BASE_URL_ENV]?.trim();
  if (!override) return loadCatalogue().files;
  const base = override.endsWith('/') ? override : `${override}/`;
  if (!URL.canParse(base) || !/^https?:$/.test(new URL(base).protocol)) {
    throw new AppError('weights-url', `${BASE_URL_ENV} must be an http(s) address, got '${override}'`, {
      hint: `Unset ${BASE_URL_ENV} to download from ${loadCatalogue().baseUrl}`,
    });
  }
  return loadCatalogue().files.map((entry) => ({ ...entry, url: new URL(entry.fileName, base).href }));
}

/** `b0`, `B0`, `efficientnetb0` and `efficientnet-b0` all name B0. */
export function parseWeightsVariant(text: string): VariantName {
  const name = text
    .trim()
    .toLowerCase()
    .replace(/^efficientnet-?/, '');
  if (isVariantName(name)) return name;
  throw new AppError('weights-variant', `There are no ImageNet weights for '${text}': choose one of ${VARIANT_NAMES.join(', ')}`, {
    hint: 'Custom φ variants have no pretrained weights; train them from scratch or start from the nearest bX.',
  });
}

export function catalogueEntry(variant: string, top: boolean, env: NodeJS.ProcessEnv = process.env): WeightsEntry {
  const name = parseWeightsVariant(variant);
  const entry = weightsCatalogue(env).find((candidate) => candidate.variant === name && candidate.top === top);
  if (!entry) throw new AppError('internal', `The weights catalogue has no ${name} ${top ? 'top' : 'notop'} entry`);
  return entry;
}

/** `b0` / `b0 (notop)`: how the CLI and UI name an entry. */
export function entryLabel(entry: Pick<WeightsEntry, 'variant' | 'top'>): string {
  return `${entry.variant}${entry.top ? '' : ' (notop)'}`;
}

/** The command that downloads an entry, for hints. */
export function fetchCommand(entry: Pick<WeightsEntry, 'variant' | 'top'>): string {
  return `effnet weights fetch ${entry.variant}${entry.top ? '' : ' --notop'}`;
}
