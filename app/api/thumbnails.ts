/**
 * Small JPEG thumbnails as data: URLs, so the renderer never needs file:// access or a second,
 * separately authenticated image endpoint. Decoded through app/image (the same decoder training
 * uses: BMP, CMYK, EXIF orientation), so a thumbnail shows what the model will see.
 */
import sharp from 'sharp';
import type { Thumbnail } from '../common/ipc/contract.ts';
import { decodeImage } from '../image/decode.ts';

/** Thumbnails decode whole images; a few at a time keeps memory flat on large photos. */
const CONCURRENCY = 4;
/** Thumbnails never need more than this; a bigger image fails fast instead of filling memory. */
const MAX_PIXELS = 60_000_000;

export interface ThumbnailRequest {
  /** Relative to the dataset root, POSIX separators (what the report lists). */
  readonly path: string;
  readonly label: string;
  /** Absolute file, already checked to be inside the dataset. */
  readonly file: string;
}

export async function makeThumbnail(file: string, size: number): Promise<string> {
  const image = await decodeImage(file, { maxPixels: MAX_PIXELS });
  const jpeg = await sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), {
    raw: { width: image.width, height: image.height, channels: 3 },
  })
    .resize(size, size, { fit: 'cover', kernel: image.width < size ? 'nearest' : 'lanczos3' })
    .jpeg({ quality: 72 })
    .toBuffer();
  return `data:image/jpeg;base64,${jpeg.toString('base64')}`;
}

export async function makeThumbnails(requests: readonly ThumbnailRequest[], size: number): Promise<Thumbnail[]> {
  const results: Thumbnail[] = new Array(requests.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < requests.length) {
      const index = next++;
      const { path, label, file } = requests[index]!;
      try {
        results[index] = { path, label, dataUrl: await makeThumbnail(file, size) };
      } catch (error) {
        results[index] = { path, label, dataUrl: null, error: error instanceof Error ? error.message : String(error) };
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, requests.length) }, worker));
  return results;
}

/** `count` items spread evenly over `items` (the first, then every n-th), so a class shows variety. */
export function spread<T>(items: readonly T[], count: number): T[] {
  if (items.length <= count) return [...items];
  const step = items.length / count;
  return Array.from({ length: count }, (_, i) => items[Math.floor(i * step)]!);
}
