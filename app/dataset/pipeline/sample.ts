/**
 * Turns one file into one sample: decode (or take the cached pixels), then transform. The same code
 * runs inside worker threads and, with `workers: 0`, on the calling thread.
 */
import { decodeImage } from '../../image/decode.ts';
import { toErrorData, type ErrorData } from '../../common/errors.ts';
import { ByteBudgetCache, type CacheStats } from './cache.ts';
import type { TransformConfig } from './config.ts';
import type { RgbImage } from './geometry.ts';
import { prepareSource, transformSample } from './transform.ts';

export interface SampleTask {
  readonly id: number;
  /** Absolute file path. */
  readonly path: string;
  /** The item's index in the dataset list: with the epoch, it seeds the sample's augmentation. */
  readonly index: number;
  readonly epoch: number;
}

/** A file that cannot be read is skipped, never fatal: `skipped` carries the reason. */
export type SampleOutcome =
  { readonly kind: 'sample'; readonly image: Float32Array } | { readonly kind: 'skipped'; readonly error: ErrorData };

export type Decoder = (path: string) => Promise<RgbImage<Uint8Array>>;

export class SampleProcessor {
  private readonly cache: ByteBudgetCache<RgbImage<Uint8Array>>;

  constructor(
    readonly config: TransformConfig,
    cacheBytes: number,
    private readonly decode: Decoder = decodeImage,
  ) {
    this.cache = new ByteBudgetCache(cacheBytes);
  }

  async process(task: SampleTask): Promise<SampleOutcome> {
    let source = this.cache.get(task.path);
    if (!source) {
      try {
        source = ownedPixels(prepareSource(await this.decode(task.path), this.config.imageSize));
      } catch (error) {
        return { kind: 'skipped', error: toErrorData(error) };
      }
      this.cache.set(task.path, source, source.data.byteLength);
    }
    // Errors past this point are bugs, not bad files: they propagate.
    return { kind: 'sample', image: transformSample(source, this.config, task.epoch, task.index) };
  }

  cacheStats(): CacheStats {
    return this.cache.stats();
  }
}

/** A view into a larger buffer would keep the whole buffer alive in the cache: copy it out. */
function ownedPixels(image: RgbImage<Uint8Array>): RgbImage<Uint8Array> {
  const { data } = image;
  if (data.byteOffset === 0 && data.buffer.byteLength === data.byteLength) return { data, width: image.width, height: image.height };
  return { data: data.slice(), width: image.width, height: image.height };
}
