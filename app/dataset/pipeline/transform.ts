/**
 * One file's pixels to one sample: crop and resize (random-resized-crop in training, the centre
 * crop in evaluation), rotation, flip, colour jitter, random erasing. Every random draw comes from
 * (seed, epoch, sample index), so the result does not depend on the worker or the timing.
 */
import { EVAL_CROP_FRACTION, type TransformConfig } from './config.ts';
import { colorJitter, randomErasing } from './color.ts';
import {
  centreCropBox,
  flipHorizontal,
  randomResizedCropBox,
  reduceByFactor,
  resampleBox,
  rotateAboutCentre,
  type RgbImage,
} from './geometry.ts';
import { sampleRandom, STREAM } from './seeds.ts';

/**
 * Shrink huge photos by an integer factor while the shorter side stays at least twice the model's
 * input size: the crop that follows still downsamples (antialiased), and the cache holds a
 * 12-megapixel photo as ~0.7 MB instead of 36 MB.
 */
export function prepareSource(decoded: RgbImage<Uint8Array>, imageSize: number): RgbImage<Uint8Array> {
  const factor = Math.max(1, Math.floor(Math.min(decoded.width, decoded.height) / (2 * imageSize)));
  return reduceByFactor(decoded, factor);
}

/** The sample for item `index` in `epoch`: imageSize² RGB floats in 0–255, HWC. */
export function transformSample(source: RgbImage<Uint8Array>, config: TransformConfig, epoch: number, index: number): Float32Array {
  if (source.data.length !== source.width * source.height * 3 || source.width < 1 || source.height < 1) {
    throw new Error(`pixel buffer of ${source.data.length} bytes does not hold a ${source.width}x${source.height} RGB image`);
  }
  const size = config.imageSize;
  const augment = config.mode === 'train' ? config.augment : null;
  const random = (stream: number) => sampleRandom(config.seed, epoch, index, stream);
  const box = augment?.crop.enabled
    ? randomResizedCropBox(source.width, source.height, augment.crop.scale, augment.crop.ratio, random(STREAM.crop))
    : centreCropBox(source.width, source.height, EVAL_CROP_FRACTION);

  const angle = augment?.rotation.enabled ? (random(STREAM.rotation)() * 2 - 1) * augment.rotation.strength : 0;
  let pixels: Float32Array;
  if (angle === 0) {
    pixels = resampleBox(source, box, size, size);
  } else {
    // Resample a margin around the box too, so the rotated corners show the surrounding image.
    const radians = (Math.abs(angle) * Math.PI) / 180;
    const margin = Math.ceil((size / 2) * (Math.cos(radians) + Math.sin(radians) - 1)) + 2;
    const scaleX = box.width / size;
    const scaleY = box.height / size;
    const padded = size + 2 * margin;
    const expanded = {
      x: box.x - margin * scaleX,
      y: box.y - margin * scaleY,
      width: box.width + 2 * margin * scaleX,
      height: box.height + 2 * margin * scaleY,
    };
    const data = resampleBox(source, expanded, padded, padded);
    pixels = rotateAboutCentre({ data, width: padded, height: padded }, angle, size, size);
  }
  const image = { data: pixels, width: size, height: size };
  if (augment?.flip.enabled && random(STREAM.flip)() < augment.flip.strength) flipHorizontal(image);
  if (augment?.colorJitter.enabled) colorJitter(image, augment.colorJitter.strength, random(STREAM.colorJitter));
  if (augment?.erasing.enabled) randomErasing(image, augment.erasing.strength, random(STREAM.erasing));
  return pixels;
}
