/**
 * Every image the app reads becomes 8-bit sRGB RGB (HWC) here, whatever it was on disk: CMYK and
 * 16-bit are converted, palettes expanded, EXIF orientation applied, alpha composited, and only the
 * first frame of an animated GIF or multi-page TIFF is used. sharp (libvips) decodes everything
 * except BMP, which has its own decoder. Bad input never crashes: it becomes AppError `unreadable`.
 */
import { open, readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { AppError } from '../common/errors.ts';
import { BmpError, decodeBmp, readBmpHeader } from './bmp.ts';
import { describeUnknownContent, detectFormat, formatEntry, type ImageFormat } from './formats.ts';

export { detectFormat, type ImageFormat } from './formats.ts';

export interface DecodedImage {
  /** RGB, HWC (row-major, 3 bytes per pixel), 8-bit sRGB. */
  data: Uint8Array;
  width: number;
  height: number;
  format: ImageFormat;
  /** Stored as grey (1 or 2 channels), or every pixel has R = G = B (a grey palette or a grey photo saved as RGB). */
  wasGrayscale: boolean;
  /** The file had transparent or translucent pixels (now composited onto ALPHA_BACKGROUND). */
  hadAlpha: boolean;
}

export interface ImageProbe {
  format: ImageFormat;
  /** Size as displayed, i.e. after EXIF orientation (a portrait phone photo is taller than wide). */
  width: number;
  height: number;
  /** Channels as stored: 1 grey, 2 grey+alpha, 3 colour, 4 colour+alpha or CMYK. */
  channels: number;
  hasAlpha: boolean;
  /** Bits per channel as stored (8 or 16; 1-8 for palettes and BMP). */
  bitsPerSample: number;
  /** EXIF orientation 1-8 (1 = as stored). */
  orientation: number;
  fileSize: number;
}

/**
 * Decoding allocates width × height × 3 bytes, so a 100-megapixel limit caps one image at 300 MB;
 * a hostile "decompression bomb" header fails before any pixel memory is allocated.
 */
export const DEFAULT_MAX_PIXELS = 100_000_000;

/**
 * Transparent pixels are composited onto mid-grey (128) rather than black or white: after the
 * ImageNet mean/std normalisation that EfficientNet's stem applies (efficientnet-facts.md §1.6,
 * mean ≈ 0.485/0.456/0.406 × 255 ≈ 124/116/104), 128 lands close to zero, so transparent regions
 * carry little signal and do not teach the model "white/black background = this class".
 */
export const ALPHA_BACKGROUND = 128;

/** The first bytes of a file: enough for the magic bytes and a BMP header with a 256-colour palette. */
const HEADER_BYTES = 2048;

export async function probeImage(input: string | Buffer): Promise<ImageProbe> {
  const label = labelOf(input);
  const { head, fileSize } = typeof input === 'string' ? await readHead(input) : { head: input, fileSize: input.length };
  const format = detectFormat(head);
  if (!format) throw unreadable(label, describeUnknownContent(head));
  if (formatEntry(format).decoder === 'bmp') {
    try {
      const header = readBmpHeader(head, fileSize);
      const hasAlpha = Boolean(header.masks?.alpha);
      return {
        format,
        width: header.width,
        height: header.height,
        channels: hasAlpha ? 4 : 3,
        hasAlpha,
        bitsPerSample: header.bitsPerPixel <= 8 ? header.bitsPerPixel : 8,
        orientation: 1,
        fileSize,
      };
    } catch (error) {
      throw unreadable(label, reasonOf(error), error);
    }
  }
  try {
    // sharp reads only the header from a file path (libvips is lazy).
    const meta = await sharp(input, { failOn: 'warning' }).metadata();
    return {
      format,
      width: meta.autoOrient?.width ?? meta.width ?? 0,
      height: meta.autoOrient?.height ?? meta.pageHeight ?? meta.height ?? 0,
      channels: meta.channels ?? 3,
      hasAlpha: meta.hasAlpha ?? false,
      bitsPerSample: meta.bitsPerSample ?? (meta.depth === 'ushort' ? 16 : 8),
      orientation: meta.orientation ?? 1,
      fileSize,
    };
  } catch (error) {
    throw unreadable(label, reasonOf(error), error);
  }
}

export async function decodeImage(input: string | Buffer, options: { maxPixels?: number } = {}): Promise<DecodedImage> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!(maxPixels > 0)) throw new AppError('invalid-argument', `maxPixels must be a positive number, got ${maxPixels}`);
  const label = labelOf(input);
  let bytes: Buffer;
  try {
    bytes = typeof input === 'string' ? await readFile(input) : input;
  } catch (error) {
    throw unreadable(label, fileErrorReason(error), error);
  }
  const format = detectFormat(bytes);
  if (!format) throw unreadable(label, describeUnknownContent(bytes));
  try {
    return formatEntry(format).decoder === 'bmp'
      ? decodeBmpToRgb(bytes, format, maxPixels)
      : await decodeWithSharp(bytes, format, maxPixels, label);
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw unreadable(label, reasonOf(error, missingEnd(bytes, format)), error);
  }
}

async function decodeWithSharp(bytes: Buffer, format: ImageFormat, maxPixels: number, label: string): Promise<DecodedImage> {
  // failOn 'warning' (sharp's advice for untrusted input) rejects truncated files and corrupt entropy
  // data that libjpeg would otherwise paint grey and pass on to training.
  const image = sharp(bytes, { failOn: 'warning', limitInputPixels: false });
  const meta = await image.metadata();
  const width = meta.width ?? 0;
  const height = meta.pageHeight ?? meta.height ?? 0;
  if (width * height > maxPixels) throw unreadable(label, tooLarge(width, height, maxPixels));
  const { data, info } = await image
    .rotate() // applies the EXIF orientation
    .toColourspace('srgb') // CMYK, grey and 16-bit all end as 8-bit sRGB (alpha kept, composited below)
    .raw()
    .toBuffer({ resolveWithObject: true });
  const storedGrey = meta.channels !== undefined && meta.channels <= 2;
  return finish(new Uint8Array(data.buffer, data.byteOffset, data.length), info.channels, info.width, info.height, format, storedGrey);
}

function decodeBmpToRgb(bytes: Uint8Array, format: ImageFormat, maxPixels: number): DecodedImage {
  const bmp = decodeBmp(bytes, { maxPixels });
  return finish(bmp.data, 4, bmp.width, bmp.height, format, false);
}

/**
 * Any channel layout (grey, grey+alpha, RGB, RGBA) to RGB, compositing alpha over ALPHA_BACKGROUND.
 * `hadAlpha` means some pixel is not fully opaque: libvips loads every GIF with an alpha channel, and
 * many PNGs carry an alpha channel that is 255 everywhere; neither is transparency worth reporting.
 */
function finish(data: Uint8Array, channels: number, width: number, height: number, format: ImageFormat, storedGrey: boolean): DecodedImage {
  if (channels === 3) return { data, width, height, format, wasGrayscale: storedGrey || isGreyContent(data), hadAlpha: false };
  const pixels = width * height;
  const rgb = new Uint8Array(pixels * 3);
  const colour = channels >= 3;
  const alphaAt = channels === 2 || channels === 4 ? channels - 1 : -1;
  let transparent = false;
  for (let i = 0, at = 0, out = 0; i < pixels; i++, at += channels, out += 3) {
    const alpha = alphaAt < 0 ? 255 : data[at + alphaAt]!;
    if (alpha !== 255) transparent = true;
    for (let c = 0; c < 3; c++) {
      const value = data[at + (colour ? c : 0)]!;
      // Integer "over" compositing with rounding: (c·a + bg·(255 − a)) / 255.
      rgb[out + c] = alpha === 255 ? value : ((value * alpha + ALPHA_BACKGROUND * (255 - alpha) + 127) / 255) | 0;
    }
  }
  return { data: rgb, width, height, format, wasGrayscale: storedGrey || !colour || isGreyContent(rgb), hadAlpha: transparent };
}

function isGreyContent(rgb: Uint8Array): boolean {
  for (let i = 0; i < rgb.length; i += 3) {
    if (rgb[i] !== rgb[i + 1] || rgb[i] !== rgb[i + 2]) return false;
  }
  return true;
}

async function readHead(path: string): Promise<{ head: Buffer; fileSize: number }> {
  let handle;
  try {
    handle = await open(path, 'r');
    const { size } = await handle.stat();
    const head = Buffer.alloc(Math.min(HEADER_BYTES, size));
    await handle.read(head, 0, head.length, 0);
    return { head, fileSize: size };
  } catch (error) {
    throw unreadable(path, fileErrorReason(error), error);
  } finally {
    await handle?.close();
  }
}

function labelOf(input: string | Buffer): string {
  return typeof input === 'string' ? input : 'image data';
}

function unreadable(label: string, reason: string, cause?: unknown): AppError {
  return new AppError('unreadable', `Cannot read ${label}: ${reason}`, {
    hint: 'Re-export or re-download the file, or remove it from the dataset.',
    details: { path: label, reason },
    cause,
  });
}

function tooLarge(width: number, height: number, maxPixels: number): string {
  return `the image is ${width}x${height} (${((width * height) / 1e6).toFixed(1)} megapixels), over the limit of ${(maxPixels / 1e6).toFixed(1)} megapixels`;
}

function fileErrorReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return 'the file does not exist';
  if (code === 'EISDIR') return 'it is a folder, not a file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return error instanceof Error ? error.message : String(error);
}

/**
 * libvips messages repeat lines and carry prefixes; keep one of each and say "truncated" plainly.
 * With several decodes in flight libvips sometimes loses the warning text and reports only "Warning
 * treated as error", so a structural check of the file's end (`missingEnd`) names truncation too.
 */
function reasonOf(error: unknown, truncation?: string): string {
  if (error instanceof BmpError) return error.message;
  const raw = error instanceof Error ? error.message : String(error);
  const lines = [...new Set(raw.split('\n').map((line) => line.trim().replace(/^Input (buffer|file) has corrupt header: /, '')))];
  const text = lines.filter((line) => line && !/^Warning treated as error/i.test(line)).join('; ');
  if (/exceeds pixel limit/i.test(text)) return 'the image has too many pixels';
  if (truncation) return `the file is truncated: ${truncation}${text ? ` (${text})` : ''}`;
  if (/premature end|unexpected end|truncat|read error|not enough data/i.test(text)) return `the file is truncated or corrupt (${text})`;
  return text ? `the image data is corrupt (${text})` : 'the image data is corrupt (the decoder reported a problem)';
}

/** Whether the file lacks the end its format requires; only asked after a decode failed. */
function missingEnd(bytes: Uint8Array, format: ImageFormat): string | undefined {
  const tail = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).subarray(Math.max(0, bytes.length - 4096));
  switch (format) {
    case 'jpeg':
      return tail.includes(Buffer.from([0xff, 0xd9])) ? undefined : 'no JPEG end-of-image marker';
    case 'png':
      return tail.includes(Buffer.from('IEND', 'latin1')) ? undefined : 'no PNG IEND chunk';
    case 'gif': {
      let end = tail.length - 1;
      while (end > 0 && tail[end] === 0) end--; // some writers pad after the trailer
      return tail[end] === 0x3b ? undefined : 'no GIF trailer';
    }
    case 'webp': {
      const declared = bytes.length >= 8 ? (bytes[4]! | (bytes[5]! << 8) | (bytes[6]! << 16) | (bytes[7]! << 24)) >>> 0 : 0;
      return declared + 8 > bytes.length ? `the RIFF header declares ${declared + 8} bytes, the file has ${bytes.length}` : undefined;
    }
    default:
      return undefined;
  }
}
