/**
 * File → model input, exactly as evaluation prepares an image (app/dataset/pipeline): decode to
 * sRGB RGB (EXIF, alpha, CMYK handled by decodeImage), shrink huge photos, then the centre crop of
 * 0.875 of the shorter side resampled to the model's size. Classify and export verification use
 * this, so their numbers are comparable with the validation accuracy of training.
 */
import { EVAL_CROP_FRACTION, type TransformConfig } from '../dataset/pipeline/config.ts';
import { prepareSource, transformSample } from '../dataset/pipeline/transform.ts';
import { decodeImage } from '../image/decode.ts';

export { EVAL_CROP_FRACTION };

/** NHWC float32 RGB in 0–255, size × size × 3. Throws AppError `unreadable` for a broken file. */
export async function loadEvalImage(file: string, size: number): Promise<Float32Array> {
  const decoded = await decodeImage(file);
  const source = prepareSource({ data: decoded.data, width: decoded.width, height: decoded.height }, size);
  const config: TransformConfig = { imageSize: size, mode: 'eval', augment: null, seed: 0 };
  return transformSample(source, config, 0, 0);
}
