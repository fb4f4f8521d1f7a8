import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBmp, readBmpHeader } from './bmp.ts';
import { encodeBmp, quantise, type BmpOptions, type Rgba } from './test-images.ts';

// A 5×3 picture: an odd width exercises row padding, three rows tell bottom-up from top-down.
const WIDTH = 5;
const HEIGHT = 3;
const COLOURS: readonly Rgba[] = [
  [255, 0, 0, 255],
  [0, 255, 0, 128],
  [0, 0, 255, 0],
  [255, 255, 255, 64],
  [12, 200, 77, 255],
  [90, 30, 160, 200],
  [0, 0, 0, 255],
];
const DIRECT = Array.from({ length: WIDTH * HEIGHT }, (_, i) => COLOURS[i % COLOURS.length]!);
const PALETTE = [
  [0, 0, 0],
  [255, 255, 255],
  [200, 10, 30],
  [10, 120, 250],
  [70, 70, 70],
] as const;
const indexImage = (levels: number): Rgba[] =>
  Array.from({ length: WIDTH * HEIGHT }, (_, i) => [(i * 7 + Math.floor(i / WIDTH)) % levels, 0, 0, 0]);

interface Case {
  name: string;
  options: Omit<BmpOptions, 'width' | 'height'>;
  /** Bits kept per channel (r, g, b, a); alpha 0 means the decoder must report no alpha. */
  bits?: readonly [number, number, number, number];
}

const CASES: Case[] = [
  { name: '1-bit palette, BITMAPINFOHEADER', options: { bitsPerPixel: 1, pixels: indexImage(2), palette: PALETTE.slice(0, 2) } },
  {
    name: '1-bit palette, OS/2 core header',
    options: { bitsPerPixel: 1, header: 'core', pixels: indexImage(2), palette: PALETTE.slice(0, 2) },
  },
  { name: '2-bit palette', options: { bitsPerPixel: 2, pixels: indexImage(4), palette: PALETTE.slice(0, 4) } },
  { name: '4-bit palette', options: { bitsPerPixel: 4, pixels: indexImage(5), palette: PALETTE } },
  { name: '8-bit palette, top-down', options: { bitsPerPixel: 8, topDown: true, pixels: indexImage(5), palette: PALETTE } },
  { name: '8-bit palette, V5 header', options: { bitsPerPixel: 8, header: 'v5', pixels: indexImage(5), palette: PALETTE } },
  { name: 'RLE8', options: { bitsPerPixel: 8, compression: 'rle8', pixels: runs(5), palette: PALETTE } },
  { name: 'RLE4', options: { bitsPerPixel: 4, compression: 'rle4', pixels: runs(5), palette: PALETTE } },
  { name: '16-bit X1R5G5B5 (BI_RGB default)', options: { bitsPerPixel: 16, pixels: DIRECT }, bits: [5, 5, 5, 0] },
  {
    name: '16-bit R5G6B5 bitfields after an info header',
    options: { bitsPerPixel: 16, compression: 'bitfields', masks: { red: 0xf800, green: 0x07e0, blue: 0x001f, alpha: 0 }, pixels: DIRECT },
    bits: [5, 6, 5, 0],
  },
  {
    name: '16-bit A4R4G4B4, V5 header',
    options: {
      bitsPerPixel: 16,
      header: 'v5',
      compression: 'bitfields',
      masks: { red: 0x0f00, green: 0x00f0, blue: 0x000f, alpha: 0xf000 },
      pixels: DIRECT,
    },
    bits: [4, 4, 4, 4],
  },
  { name: '24-bit bottom-up', options: { bitsPerPixel: 24, pixels: DIRECT }, bits: [8, 8, 8, 0] },
  { name: '24-bit top-down', options: { bitsPerPixel: 24, topDown: true, pixels: DIRECT }, bits: [8, 8, 8, 0] },
  { name: '24-bit, OS/2 core header', options: { bitsPerPixel: 24, header: 'core', pixels: DIRECT }, bits: [8, 8, 8, 0] },
  {
    name: '32-bit BI_RGB: the fourth byte is not alpha',
    options: { bitsPerPixel: 32, masks: { red: 0xff0000, green: 0xff00, blue: 0xff, alpha: 0xff000000 }, pixels: DIRECT },
    bits: [8, 8, 8, 0],
  },
  {
    name: '32-bit BGRA bitfields, V4 header',
    options: {
      bitsPerPixel: 32,
      header: 'v4',
      compression: 'bitfields',
      masks: { red: 0xff0000, green: 0xff00, blue: 0xff, alpha: 0xff000000 },
      pixels: DIRECT,
    },
    bits: [8, 8, 8, 8],
  },
  {
    name: '32-bit BI_ALPHABITFIELDS after an info header, RGBA byte order',
    options: {
      bitsPerPixel: 32,
      compression: 'alphabitfields',
      masks: { red: 0xff, green: 0xff00, blue: 0xff0000, alpha: 0xff000000 },
      pixels: DIRECT,
    },
    bits: [8, 8, 8, 8],
  },
  {
    name: '32-bit V5 with an alpha mask but all-zero alpha is opaque',
    options: {
      bitsPerPixel: 32,
      header: 'v5',
      compression: 'bitfields',
      masks: { red: 0xff0000, green: 0xff00, blue: 0xff, alpha: 0xff000000 },
      pixels: DIRECT.map(([r, g, b]) => [r, g, b, 0] as const),
    },
    bits: [8, 8, 8, 0],
  },
];

/** Rows with runs and literal stretches, so the RLE writer emits both encoded and absolute runs. */
function runs(levels: number): Rgba[] {
  const pattern = [1, 1, 1, 2, 3, 4, 0, 0, 2, 2, 4, 3, 1, 0, 2];
  return pattern.map((index) => [index % levels, 0, 0, 0]);
}

function expectedPixels(c: Case): Rgba[] {
  if (c.options.bitsPerPixel <= 8) {
    return c.options.pixels.map(([index]) => {
      const [r, g, b] = c.options.palette![index]!;
      return [r, g, b, 255];
    });
  }
  const [rb, gb, bb, ab] = c.bits!;
  return c.options.pixels.map(([r, g, b, a]) => [quantise(r, rb), quantise(g, gb), quantise(b, bb), ab ? quantise(a, ab) : 255]);
}

for (const c of CASES) {
  test(`decodes a BMP: ${c.name}`, () => {
    const file = encodeBmp({ width: WIDTH, height: HEIGHT, ...c.options });
    const header = readBmpHeader(file);
    assert.equal(header.width, WIDTH);
    assert.equal(header.height, HEIGHT);
    assert.equal(header.bitsPerPixel, c.options.bitsPerPixel);
    assert.equal(header.topDown, Boolean(c.options.topDown));
    const image = decodeBmp(file);
    assert.equal(image.width, WIDTH);
    assert.equal(image.height, HEIGHT);
    assert.equal(image.hasAlpha, Boolean(c.bits?.[3]));
    const actual: Rgba[] = [];
    for (let i = 0; i < image.data.length; i += 4)
      actual.push([image.data[i]!, image.data[i + 1]!, image.data[i + 2]!, image.data[i + 3]!]);
    assert.deepEqual(actual, expectedPixels(c));
  });
}

test('RLE8 delta escapes skip pixels, which keep palette index 0', () => {
  const base = encodeBmp({
    width: 4,
    height: 2,
    bitsPerPixel: 8,
    compression: 'rle8',
    pixels: Array(8).fill([0, 0, 0, 0]),
    palette: PALETTE,
  });
  const offset = base.readUInt32LE(10);
  // Bottom row: two pixels of index 1; delta right 1, up 1; one pixel of index 2; end of bitmap.
  const file = Buffer.concat([base.subarray(0, offset), Buffer.from([2, 1, 0, 2, 1, 1, 1, 2, 0, 1])]);
  const image = decodeBmp(file);
  const rows = [...image.data].filter((_, i) => i % 4 === 0);
  assert.deepEqual(rows, [0, 0, 0, 200, 255, 255, 0, 0]);
});

const ERRORS: { name: string; file: () => Buffer; message: RegExp; maxPixels?: number }[] = [
  {
    name: 'truncated pixel data',
    file: () => encodeBmp({ width: 8, height: 8, bitsPerPixel: 24, pixels: Array(64).fill([1, 2, 3, 255]) }).subarray(0, 200),
    message: /truncated/,
  },
  {
    name: 'truncated header',
    file: () => encodeBmp({ width: 2, height: 2, bitsPerPixel: 24, pixels: Array(4).fill([1, 2, 3, 255]) }).subarray(0, 30),
    message: /truncated inside the 40-byte BMP header/,
  },
  { name: 'unknown header size', file: () => patch32(smallBmp(), 14, 20), message: /unsupported BMP header size 20/ },
  { name: 'impossible bit depth', file: () => patch16(smallBmp(), 28, 7), message: /unsupported bit depth 7/ },
  { name: 'zero width', file: () => patch32(smallBmp(), 18, 0), message: /invalid image size 0x2/ },
  { name: 'embedded JPEG', file: () => patch32(smallBmp(), 30, 4), message: /BI_JPEG .*not supported/ },
  { name: 'pixel data offset past the end', file: () => patch32(smallBmp(), 10, 10_000), message: /beyond the end of the file/ },
  {
    name: 'missing palette',
    file: () => patch32(encodeBmp({ width: 2, height: 2, bitsPerPixel: 8, pixels: Array(4).fill([0, 0, 0, 0]), palette: [] }), 46, 0),
    message: /palette is missing/,
  },
  {
    name: 'truncated run-length data',
    file: () => {
      const file = encodeBmp({
        width: 6,
        height: 4,
        bitsPerPixel: 8,
        compression: 'rle8',
        pixels: runs(5).concat(runs(5)).slice(0, 24),
        palette: PALETTE,
      });
      return file.subarray(0, file.length - 8);
    },
    message: /run-length data is truncated/,
  },
  { name: 'over the pixel limit', file: () => smallBmp(), maxPixels: 3, message: /over the limit of 3 pixels/ },
];

function smallBmp(): Buffer {
  return encodeBmp({ width: 2, height: 2, bitsPerPixel: 24, pixels: Array(4).fill([1, 2, 3, 255]) });
}
function patch32(file: Buffer, offset: number, value: number): Buffer {
  const copy = Buffer.from(file);
  copy.writeUInt32LE(value, offset);
  return copy;
}
function patch16(file: Buffer, offset: number, value: number): Buffer {
  const copy = Buffer.from(file);
  copy.writeUInt16LE(value, offset);
  return copy;
}

for (const c of ERRORS) {
  test(`rejects a broken BMP with a clear reason: ${c.name}`, () => {
    assert.throws(
      () => decodeBmp(c.file(), { maxPixels: c.maxPixels }),
      (error: Error) => {
        assert.equal(error.name, 'BmpError');
        assert.match(error.message, c.message);
        return true;
      },
    );
  });
}
