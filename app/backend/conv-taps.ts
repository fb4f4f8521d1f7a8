import type * as tf from '@tensorflow/tfjs';

/**
 * The loop nest every direct convolution gradient walks (NHWC): shared by the cpu kernels
 * (app/train/cpu-kernels.ts) and the wasm depthwise kernels for channel multipliers above 1, which
 * differ only in what they do at each tap and where their arrays live.
 */
/** Calls `visit` for every (output position, filter tap) pair that reads a real (not padded) input pixel. */
export function forEachTap(info: tf.backend_util.Conv2DInfo, visit: (xOffset: number, dyOffset: number, tap: number) => void): void {
  const {
    batchSize,
    inHeight,
    inWidth,
    inChannels,
    outHeight,
    outWidth,
    outChannels,
    filterHeight,
    filterWidth,
    strideHeight,
    strideWidth,
  } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  for (let b = 0; b < batchSize; b++) {
    for (let yr = 0; yr < outHeight; yr++) {
      for (let yc = 0; yc < outWidth; yc++) {
        const dyOffset = ((b * outHeight + yr) * outWidth + yc) * outChannels;
        for (let r = 0; r < filterHeight; r++) {
          const xr = yr * strideHeight - top + r;
          if (xr < 0 || xr >= inHeight) continue;
          for (let c = 0; c < filterWidth; c++) {
            const xc = yc * strideWidth - left + c;
            if (xc < 0 || xc >= inWidth) continue;
            visit(((b * inHeight + xr) * inWidth + xc) * inChannels, dyOffset, r * filterWidth + c);
          }
        }
      }
    }
  }
}
