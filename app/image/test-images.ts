/**
 * Tiny image writers for tests: BMP in every layout bmp.ts reads, and PNG with exact bit depths and
 * palettes (sharp cannot be told to write a 16-bit grey PNG from raw samples reliably). The bytes are
 * exactly what the specs describe, so the decoders are tested against the formats, not against
 * themselves. Not used by the app.
 */
import { crc32, deflateSync } from 'node:zlib';

export type Rgba = readonly [number, number, number, number];

export interface BmpOptions {
  width: number;
  height: number;
  bitsPerPixel: 1 | 2 | 4 | 8 | 16 | 24 | 32;
  /** Pixels top row first: RGBA for 16/24/32-bit, palette indices (as [index,0,0,0]) otherwise. */
  pixels: readonly Rgba[];
  palette?: readonly (readonly [number, number, number])[];
  header?: 'core' | 'info' | 'v4' | 'v5';
  topDown?: boolean;
  compression?: 'rgb' | 'bitfields' | 'alphabitfields' | 'rle8' | 'rle4';
  masks?: { red: number; green: number; blue: number; alpha: number };
}

const HEADER_SIZES = { core: 12, info: 40, v4: 108, v5: 124 } as const;
const COMPRESSION_CODES = { rgb: 0, rle8: 1, rle4: 2, bitfields: 3, alphabitfields: 6 } as const;

export function encodeBmp(options: BmpOptions): Buffer {
  const { width, height, bitsPerPixel: bpp } = options;
  const header = options.header ?? 'info';
  const headerSize = HEADER_SIZES[header];
  const compression = options.compression ?? 'rgb';
  const masks =
    options.masks ??
    (bpp === 16 ? { red: 0x7c00, green: 0x03e0, blue: 0x001f, alpha: 0 } : { red: 0xff0000, green: 0xff00, blue: 0xff, alpha: 0 });
  const externalMasks = header === 'info' ? (compression === 'bitfields' ? 12 : compression === 'alphabitfields' ? 16 : 0) : 0;
  const palette = options.palette ?? [];
  const paletteBytes = palette.length * (header === 'core' ? 3 : 4);

  const rows: Buffer[] = [];
  let pixelData: Buffer;
  if (compression === 'rle8' || compression === 'rle4') {
    pixelData = encodeRle(options, compression === 'rle4');
  } else {
    const stride = Math.ceil((bpp * width) / 32) * 4;
    for (let y = 0; y < height; y++) {
      const row = Buffer.alloc(stride);
      for (let x = 0; x < width; x++) {
        const [r, g, b, a] = options.pixels[y * width + x]!;
        if (bpp <= 8) {
          const bit = x * bpp;
          row[bit >> 3]! |= r << (8 - bpp - (bit & 7));
        } else if (bpp === 24) {
          row.set([b, g, r], x * 3);
        } else {
          const value = (pack(r, masks.red) | pack(g, masks.green) | pack(b, masks.blue) | pack(a, masks.alpha)) >>> 0;
          if (bpp === 16) row.writeUInt16LE(value, x * 2);
          else row.writeUInt32LE(value, x * 4);
        }
      }
      rows.push(row);
    }
    pixelData = Buffer.concat(options.topDown ? rows : rows.reverse());
  }

  const dataOffset = 14 + headerSize + externalMasks + paletteBytes;
  const file = Buffer.alloc(dataOffset + pixelData.length);
  file.write('BM', 0, 'ascii');
  file.writeUInt32LE(file.length, 2);
  file.writeUInt32LE(dataOffset, 10);
  file.writeUInt32LE(headerSize, 14);
  if (header === 'core') {
    file.writeUInt16LE(width, 18);
    file.writeUInt16LE(height, 20);
    file.writeUInt16LE(1, 22);
    file.writeUInt16LE(bpp, 24);
  } else {
    file.writeInt32LE(width, 18);
    file.writeInt32LE(options.topDown ? -height : height, 22);
    file.writeUInt16LE(1, 26);
    file.writeUInt16LE(bpp, 28);
    file.writeUInt32LE(COMPRESSION_CODES[compression], 30);
    file.writeUInt32LE(pixelData.length, 34);
    file.writeUInt32LE(palette.length, 46);
    if (header !== 'info' || externalMasks > 0) {
      file.writeUInt32LE(masks.red >>> 0, 54);
      file.writeUInt32LE(masks.green >>> 0, 58);
      file.writeUInt32LE(masks.blue >>> 0, 62);
      if (header !== 'info' || externalMasks === 16) file.writeUInt32LE(masks.alpha >>> 0, 66);
    }
    if (header !== 'info') file.write('BGRs', 70, 'latin1'); // LCS_sRGB, reversed as on disk
  }
  let at = 14 + headerSize + externalMasks;
  for (const [r, g, b] of palette) {
    file.set(header === 'core' ? [b, g, r] : [b, g, r, 0], at);
    at += header === 'core' ? 3 : 4;
  }
  pixelData.copy(file, dataOffset);
  return file;
}

/** Scales an 8-bit value into the bit field `mask`. */
function pack(value: number, mask: number): number {
  if (!mask) return 0;
  const unsigned = mask >>> 0;
  let shift = 0;
  while (((unsigned >>> shift) & 1) === 0) shift++;
  const max = unsigned >>> shift;
  return (Math.round((value * max) / 255) * 2 ** shift) >>> 0;
}

/** What an 8-bit value reads back as after a round trip through a `bits`-wide field. */
export function quantise(value: number, bits: number): number {
  const max = 2 ** bits - 1;
  return Math.round(Math.round((value * max) / 255) * (255 / max));
}

/** RLE: runs of equal indices as encoded runs, other stretches of 3+ as absolute runs; bottom row first. */
function encodeRle(options: BmpOptions, four: boolean): Buffer {
  const out: number[] = [];
  for (let y = options.height - 1; y >= 0; y--) {
    const row = options.pixels.slice(y * options.width, (y + 1) * options.width).map((p) => p[0]);
    let x = 0;
    while (x < row.length) {
      let run = 1;
      while (x + run < row.length && row[x + run] === row[x] && run < 255) run++;
      if (run >= 2) {
        out.push(run, four ? (row[x]! << 4) | row[x]! : row[x]!);
        x += run;
        continue;
      }
      let end = x + 1;
      while (end < row.length && end - x < 255 && row[end] !== row[end + 1]) end++;
      const literal = row.slice(x, end);
      if (literal.length < 3) {
        out.push(1, four ? row[x]! << 4 : row[x]!);
        x += 1;
        continue;
      }
      out.push(0, literal.length);
      const bytes: number[] = [];
      for (let i = 0; i < literal.length; i++) {
        if (!four) bytes.push(literal[i]!);
        else if (i % 2 === 0) bytes.push(literal[i]! << 4);
        else bytes[bytes.length - 1]! |= literal[i]!;
      }
      if (bytes.length % 2) bytes.push(0);
      out.push(...bytes);
      x = end;
    }
    out.push(0, 0);
  }
  out.push(0, 1);
  return Buffer.from(out);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/**
 * A PNG from raw scanlines (each row exactly as the PNG spec packs it, without the filter byte).
 * colorType: 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA.
 */
export function encodePng(options: {
  width: number;
  height: number;
  bitDepth: 1 | 2 | 4 | 8 | 16;
  colorType: 0 | 2 | 3 | 4 | 6;
  rows: readonly Buffer[];
  palette?: readonly (readonly [number, number, number])[];
  transparency?: readonly number[];
}): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(options.width, 0);
  ihdr.writeUInt32BE(options.height, 4);
  ihdr[8] = options.bitDepth;
  ihdr[9] = options.colorType;
  const scanlines = Buffer.concat(options.rows.map((row) => Buffer.concat([Buffer.from([0]), row])));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    ...(options.palette ? [pngChunk('PLTE', Buffer.from(options.palette.flat()))] : []),
    ...(options.transparency ? [pngChunk('tRNS', Buffer.from(options.transparency))] : []),
    pngChunk('IDAT', deflateSync(scanlines)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Big-endian 16-bit samples, as PNG stores them. */
export function samples16(...values: number[]): Buffer {
  const buffer = Buffer.alloc(values.length * 2);
  values.forEach((value, i) => buffer.writeUInt16BE(value, i * 2));
  return buffer;
}
