/**
 * Geometric steps on raw RGB (HWC, 3 channels) buffers, in TypeScript: one crop+resize pass with an
 * antialiased triangle filter (what PIL's bilinear and torchvision's antialias=True do), a small
 * rotation, a mirror. Written here rather than with sharp so that a sample is one pass over the
 * pixels with no per-call native overhead, and so the results are exact enough to test pixel by pixel.
 */

export type Pixels = Uint8Array | Float32Array;

export interface RgbImage<T extends Pixels = Pixels> {
  readonly data: T;
  readonly width: number;
  readonly height: number;
}

/** A rectangle in source pixel coordinates; may be fractional. */
export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

interface AxisFilter {
  /** Taps per output pixel (the widest); unused taps have weight 0 and come last. */
  readonly taps: number;
  /** Taps actually used per output pixel. */
  readonly count: Int32Array;
  /** Source index per (output, tap), clamped to the image (edge pixels repeat outside it). */
  readonly index: Int32Array;
  readonly weight: Float32Array;
}

/**
 * Weights along one axis for mapping [origin, origin + length) onto `outSize` pixels. Pixel j's
 * centre is j + 0.5; the triangle's radius grows with the downscale factor so every source pixel
 * contributes (no aliasing), and is 1 when upscaling (plain linear interpolation).
 */
function axisFilter(origin: number, length: number, outSize: number, sourceSize: number): AxisFilter {
  const scale = length / outSize;
  const radius = Math.max(1, scale);
  const taps = Math.ceil(radius) * 2 + 1;
  const count = new Int32Array(outSize);
  const index = new Int32Array(outSize * taps);
  const weight = new Float32Array(outSize * taps);
  for (let i = 0; i < outSize; i++) {
    const centre = origin + (i + 0.5) * scale;
    const first = Math.ceil(centre - radius - 0.5);
    let total = 0;
    let used = 0;
    for (let t = 0; t < taps; t++) {
      const j = first + t;
      const w = 1 - Math.abs(j + 0.5 - centre) / radius;
      if (w <= 0) continue;
      index[i * taps + used] = Math.min(sourceSize - 1, Math.max(0, j));
      weight[i * taps + used] = w;
      total += w;
      used++;
    }
    count[i] = used;
    for (let t = 0; t < used; t++) weight[i * taps + t]! /= total;
  }
  return { taps, count, index, weight };
}

/** Crop `box` out of `source` and resize it to outWidth × outHeight (float pixels, same scale as the input). */
export function resampleBox(source: RgbImage, box: Box, outWidth: number, outHeight: number): Float32Array {
  const horizontal = axisFilter(box.x, box.width, outWidth, source.width);
  const vertical = axisFilter(box.y, box.height, outHeight, source.height);
  let rowMin = source.height;
  let rowMax = -1;
  for (let y = 0; y < outHeight; y++) {
    for (let t = 0; t < vertical.count[y]!; t++) {
      rowMin = Math.min(rowMin, vertical.index[y * vertical.taps + t]!);
      rowMax = Math.max(rowMax, vertical.index[y * vertical.taps + t]!);
    }
  }
  // Horizontal pass over only the rows the vertical pass reads.
  const rows = rowMax - rowMin + 1;
  const stride = outWidth * 3;
  const temp = new Float32Array(rows * stride);
  const src = source.data;
  const hTaps = horizontal.taps;
  const hIndex = horizontal.index;
  const hWeight = horizontal.weight;
  const hCount = horizontal.count;
  for (let r = 0; r < rows; r++) {
    const sourceRow = (rowMin + r) * source.width * 3;
    const tempRow = r * stride;
    for (let x = 0; x < outWidth; x++) {
      let red = 0;
      let green = 0;
      let blue = 0;
      for (let t = x * hTaps, end = t + hCount[x]!; t < end; t++) {
        const w = hWeight[t]!;
        const p = sourceRow + hIndex[t]! * 3;
        red += w * src[p]!;
        green += w * src[p + 1]!;
        blue += w * src[p + 2]!;
      }
      temp[tempRow + x * 3] = red;
      temp[tempRow + x * 3 + 1] = green;
      temp[tempRow + x * 3 + 2] = blue;
    }
  }
  const out = new Float32Array(outHeight * stride);
  const vTaps = vertical.taps;
  for (let y = 0; y < outHeight; y++) {
    const outRow = y * stride;
    for (let t = y * vTaps, end = t + vertical.count[y]!; t < end; t++) {
      const w = vertical.weight[t]!;
      const tempRow = (vertical.index[t]! - rowMin) * stride;
      for (let k = 0; k < stride; k++) out[outRow + k]! += w * temp[tempRow + k]!;
    }
  }
  return out;
}

/**
 * Shrink by an integer factor, averaging factor × factor blocks (the remainder columns/rows at the
 * right and bottom are dropped). Used to bound what the cache holds for very large photos.
 */
export function reduceByFactor(source: RgbImage<Uint8Array>, factor: number): RgbImage<Uint8Array> {
  if (factor <= 1) return source;
  const width = Math.floor(source.width / factor);
  const height = Math.floor(source.height / factor);
  const sums = new Uint32Array(width * 3);
  const data = new Uint8Array(width * height * 3);
  const area = factor * factor;
  for (let y = 0; y < height; y++) {
    sums.fill(0);
    for (let dy = 0; dy < factor; dy++) {
      const row = (y * factor + dy) * source.width * 3;
      for (let x = 0; x < width * factor; x++) {
        const p = row + x * 3;
        const q = Math.floor(x / factor) * 3;
        sums[q]! += source.data[p]!;
        sums[q + 1]! += source.data[p + 1]!;
        sums[q + 2]! += source.data[p + 2]!;
      }
    }
    for (let k = 0; k < width * 3; k++) data[y * width * 3 + k] = Math.round(sums[k]! / area);
  }
  return { data, width, height };
}

/**
 * Rotate `source` by `degrees` (counter-clockwise) about its centre with bilinear sampling and
 * keep the central outWidth × outHeight. The caller passes a source with a margin around the
 * wanted area so the corners hold real image content rather than a fill colour.
 */
export function rotateAboutCentre(source: RgbImage<Float32Array>, degrees: number, outWidth: number, outHeight: number): Float32Array {
  const radians = (degrees * Math.PI) / 180;
  const cos = Math.cos(radians);
  const sin = Math.sin(radians);
  const out = new Float32Array(outWidth * outHeight * 3);
  const cx = source.width / 2;
  const cy = source.height / 2;
  const maxX = source.width - 1;
  const maxY = source.height - 1;
  const src = source.data;
  const stride = source.width * 3;
  for (let y = 0; y < outHeight; y++) {
    const dy = y + 0.5 - outHeight / 2;
    const dx0 = 0.5 - outWidth / 2;
    // Inverse map: where in the source each output pixel comes from (y points down); it moves by
    // (cos, sin) per output column.
    let sx = cx + cos * dx0 - sin * dy - 0.5;
    let sy = cy + sin * dx0 + cos * dy - 0.5;
    for (let x = 0, o = y * outWidth * 3; x < outWidth; x++, o += 3, sx += cos, sy += sin) {
      const px = sx < 0 ? 0 : sx > maxX ? maxX : sx;
      const py = sy < 0 ? 0 : sy > maxY ? maxY : sy;
      const x0 = px | 0;
      const y0 = py | 0;
      const fx = px - x0;
      const fy = py - y0;
      const p00 = y0 * stride + x0 * 3;
      const right = x0 < maxX ? 3 : 0;
      const down = y0 < maxY ? stride : 0;
      const w00 = (1 - fx) * (1 - fy);
      const w01 = fx * (1 - fy);
      const w10 = (1 - fx) * fy;
      const w11 = fx * fy;
      for (let c = 0; c < 3; c++) {
        const p = p00 + c;
        out[o + c] = w00 * src[p]! + w01 * src[p + right]! + w10 * src[p + down]! + w11 * src[p + down + right]!;
      }
    }
  }
  return out;
}

/** Mirror left-right in place. */
export function flipHorizontal(image: RgbImage<Float32Array>): void {
  const { data, width, height } = image;
  for (let y = 0; y < height; y++) {
    const row = y * width * 3;
    for (let left = 0, right = width - 1; left < right; left++, right--) {
      for (let c = 0; c < 3; c++) {
        const a = row + left * 3 + c;
        const b = row + right * 3 + c;
        const swap = data[a]!;
        data[a] = data[b]!;
        data[b] = swap;
      }
    }
  }
}

/** The eval crop: a centred square of `fraction` of the shorter side (resized later to the model's size). */
export function centreCropBox(width: number, height: number, fraction: number): Box {
  const side = Math.min(width, height) * fraction;
  return { x: (width - side) / 2, y: (height - side) / 2, width: side, height: side };
}

/**
 * torchvision's RandomResizedCrop.get_params: ten tries at a box of random area and aspect ratio
 * (log-uniform), then a centre crop clamped to the ratio range. Integer boxes, as torchvision's.
 */
export function randomResizedCropBox(
  width: number,
  height: number,
  scale: readonly [number, number],
  ratio: readonly [number, number],
  random: () => number,
): Box {
  const area = width * height;
  const logLow = Math.log(ratio[0]);
  const logHigh = Math.log(ratio[1]);
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * (scale[0] + random() * (scale[1] - scale[0]));
    const aspect = Math.exp(logLow + random() * (logHigh - logLow));
    const w = Math.round(Math.sqrt(targetArea * aspect));
    const h = Math.round(Math.sqrt(targetArea / aspect));
    if (w > 0 && h > 0 && w <= width && h <= height) {
      const y = Math.floor(random() * (height - h + 1));
      const x = Math.floor(random() * (width - w + 1));
      return { x, y, width: w, height: h };
    }
  }
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < ratio[0]) h = Math.round(w / ratio[0]);
  else if (inRatio > ratio[1]) w = Math.round(h * ratio[1]);
  return { x: Math.floor((width - w) / 2), y: Math.floor((height - h) / 2), width: w, height: h };
}
