import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { AppError } from '../common/errors.ts';
import { createRandom } from '../common/random.ts';
import { ALPHA_BACKGROUND, decodeImage, detectFormat, probeImage, type DecodedImage } from './decode.ts';
import { encodeBmp, encodePng, samples16 } from './test-images.ts';

type Rgb = readonly [number, number, number];
const RED: Rgb = [200, 50, 10];
const solid = (width: number, height: number, [r, g, b]: Rgb) => sharp({ create: { width, height, channels: 3, background: { r, g, b } } });
/** Deterministic noise: hard to compress, so a cut lands inside the pixel data, not in the headers. */
const noise = (width: number, height: number) => {
  const random = createRandom(width * 1000 + height);
  const pixels = Buffer.from(Array.from({ length: width * height * 3 }, () => Math.floor(random() * 256)));
  return sharp(pixels, { raw: { width, height, channels: 3 } });
};
/** Left half red, right half blue: after a 90° EXIF rotation the red half must be on top. */
const halves = () =>
  sharp({ create: { width: 32, height: 16, channels: 3, background: { r: 0, g: 0, b: 255 } } }).composite([
    { input: { create: { width: 16, height: 16, channels: 3, background: { r: 255, g: 0, b: 0 } } }, left: 0, top: 0 },
  ]);

interface Good {
  name: string;
  file: string;
  bytes: () => Promise<Buffer>;
  format: DecodedImage['format'];
  size: [number, number];
  grey?: boolean;
  alpha?: boolean;
  /** [x, y, expected RGB, tolerance] */
  pixels: [number, number, Rgb, number][];
}

const GOOD: Good[] = [
  {
    name: 'baseline JPEG',
    file: 'a.jpg',
    bytes: () => solid(16, 8, RED).jpeg().toBuffer(),
    format: 'jpeg',
    size: [16, 8],
    pixels: [[3, 3, RED, 3]],
  },
  {
    name: 'progressive JPEG',
    file: 'p.jpg',
    bytes: () => solid(16, 8, RED).jpeg({ progressive: true }).toBuffer(),
    format: 'jpeg',
    size: [16, 8],
    pixels: [[15, 7, RED, 3]],
  },
  {
    name: 'EXIF orientation 6 (rotate 90° clockwise) is applied',
    file: 'rotated.jpg',
    bytes: async () =>
      sharp(await halves().png().toBuffer())
        .jpeg({ quality: 95 })
        .withMetadata({ orientation: 6 })
        .toBuffer(),
    format: 'jpeg',
    size: [16, 32],
    pixels: [
      [8, 4, [255, 0, 0], 12],
      [8, 28, [0, 0, 255], 12],
    ],
  },
  {
    name: 'CMYK JPEG is converted to sRGB',
    file: 'cmyk.jpg',
    bytes: () => solid(16, 16, RED).toColourspace('cmyk').jpeg().toBuffer(),
    format: 'jpeg',
    size: [16, 16],
    pixels: [[5, 5, RED, 16]],
  },
  {
    name: 'greyscale JPEG',
    file: 'grey.jpg',
    bytes: () => solid(8, 8, [90, 90, 90]).toColourspace('b-w').jpeg().toBuffer(),
    format: 'jpeg',
    size: [8, 8],
    grey: true,
    pixels: [[1, 1, [90, 90, 90], 2]],
  },
  {
    name: '8-bit RGB PNG',
    file: 'rgb.png',
    bytes: () => solid(3, 2, RED).png().toBuffer(),
    format: 'png',
    size: [3, 2],
    pixels: [[2, 1, RED, 0]],
  },
  {
    name: '16-bit RGB PNG is reduced to 8 bits',
    file: 'rgb16.png',
    bytes: async () => encodePng({ width: 2, height: 1, bitDepth: 16, colorType: 2, rows: [samples16(65535, 0, 0, 0, 32896, 65535)] }),
    format: 'png',
    size: [2, 1],
    pixels: [
      [0, 0, [255, 0, 0], 0],
      [1, 0, [0, 128, 255], 1],
    ],
  },
  {
    name: '16-bit greyscale PNG',
    file: 'grey16.png',
    bytes: async () => encodePng({ width: 3, height: 1, bitDepth: 16, colorType: 0, rows: [samples16(0, 30000, 65535)] }),
    format: 'png',
    size: [3, 1],
    grey: true,
    pixels: [
      [0, 0, [0, 0, 0], 0],
      [1, 0, [117, 117, 117], 1],
      [2, 0, [255, 255, 255], 0],
    ],
  },
  {
    name: '8-bit grey+alpha PNG: transparent pixels become mid-grey',
    file: 'grey-alpha.png',
    bytes: async () => encodePng({ width: 2, height: 1, bitDepth: 8, colorType: 4, rows: [Buffer.from([20, 255, 20, 0])] }),
    format: 'png',
    size: [2, 1],
    grey: true,
    alpha: true,
    pixels: [
      [0, 0, [20, 20, 20], 0],
      [1, 0, [ALPHA_BACKGROUND, ALPHA_BACKGROUND, ALPHA_BACKGROUND], 0],
    ],
  },
  {
    name: '2-bit palette PNG',
    file: 'palette.png',
    bytes: async () =>
      encodePng({
        width: 4,
        height: 1,
        bitDepth: 2,
        colorType: 3,
        rows: [Buffer.from([0b00011011])],
        palette: [
          [255, 0, 0],
          [0, 255, 0],
          [0, 0, 255],
          [10, 20, 30],
        ],
      }),
    format: 'png',
    size: [4, 1],
    pixels: [
      [0, 0, [255, 0, 0], 0],
      [3, 0, [10, 20, 30], 0],
    ],
  },
  {
    name: 'palette PNG with a transparent entry (tRNS)',
    file: 'palette-trns.png',
    bytes: async () =>
      encodePng({
        width: 2,
        height: 1,
        bitDepth: 8,
        colorType: 3,
        rows: [Buffer.from([0, 1])],
        palette: [
          [255, 0, 0],
          [0, 0, 255],
        ],
        transparency: [0],
      }),
    format: 'png',
    size: [2, 1],
    alpha: true,
    pixels: [
      [0, 0, [128, 128, 128], 0],
      [1, 0, [0, 0, 255], 0],
    ],
  },
  {
    name: 'RGBA PNG: alpha composited on mid-grey',
    file: 'rgba.png',
    bytes: () =>
      sharp(Buffer.from([255, 0, 0, 255, 0, 0, 255, 0, 0, 0, 255, 128]), { raw: { width: 3, height: 1, channels: 4 } })
        .png()
        .toBuffer(),
    format: 'png',
    size: [3, 1],
    alpha: true,
    pixels: [
      [0, 0, [255, 0, 0], 0],
      [1, 0, [128, 128, 128], 0],
      [2, 0, [64, 64, 192], 1],
    ],
  },
  {
    name: 'RGBA PNG that is opaque everywhere has no transparency',
    file: 'opaque-rgba.png',
    bytes: () =>
      sharp(Buffer.from([1, 2, 3, 255, 4, 5, 6, 255]), { raw: { width: 2, height: 1, channels: 4 } })
        .png()
        .toBuffer(),
    format: 'png',
    size: [2, 1],
    pixels: [[1, 0, [4, 5, 6], 0]],
  },
  {
    name: 'lossless WebP',
    file: 'a.webp',
    bytes: () => solid(4, 4, RED).webp({ lossless: true }).toBuffer(),
    format: 'webp',
    size: [4, 4],
    pixels: [[0, 0, RED, 0]],
  },
  {
    name: 'animated GIF: the first frame',
    file: 'anim.gif',
    bytes: async () => {
      const frames = await Promise.all([[255, 0, 0] as const, [0, 0, 255] as const].map((c) => solid(4, 3, c).png().toBuffer()));
      return sharp(frames, { join: { animated: true } })
        .gif()
        .toBuffer();
    },
    format: 'gif',
    size: [4, 3],
    pixels: [[2, 2, [255, 0, 0], 0]],
  },
  {
    name: 'LZW TIFF',
    file: 'a.tiff',
    bytes: () => solid(5, 3, RED).tiff({ compression: 'lzw' }).toBuffer(),
    format: 'tiff',
    size: [5, 3],
    pixels: [[4, 2, RED, 0]],
  },
  {
    name: 'AVIF',
    file: 'a.avif',
    bytes: () => solid(16, 16, RED).avif({ quality: 90 }).toBuffer(),
    format: 'avif',
    size: [16, 16],
    pixels: [[8, 8, RED, 8]],
  },
  {
    name: '24-bit BMP',
    file: 'a.bmp',
    bytes: async () => encodeBmp({ width: 3, height: 2, bitsPerPixel: 24, pixels: Array(6).fill([...RED, 255]) }),
    format: 'bmp',
    size: [3, 2],
    pixels: [[2, 1, RED, 0]],
  },
  {
    name: '32-bit BMP with alpha: composited on mid-grey',
    file: 'alpha.bmp',
    bytes: async () =>
      encodeBmp({
        width: 2,
        height: 1,
        bitsPerPixel: 32,
        header: 'v5',
        compression: 'bitfields',
        masks: { red: 0xff0000, green: 0xff00, blue: 0xff, alpha: 0xff000000 },
        pixels: [
          [255, 0, 0, 0],
          [0, 0, 255, 255],
        ],
      }),
    format: 'bmp',
    size: [2, 1],
    alpha: true,
    pixels: [
      [0, 0, [128, 128, 128], 0],
      [1, 0, [0, 0, 255], 0],
    ],
  },
  {
    name: 'grey 8-bit BMP palette counts as greyscale',
    file: 'grey.bmp',
    bytes: async () =>
      encodeBmp({
        width: 2,
        height: 1,
        bitsPerPixel: 8,
        pixels: [
          [0, 0, 0, 0],
          [1, 0, 0, 0],
        ],
        palette: [
          [10, 10, 10],
          [200, 200, 200],
        ],
      }),
    format: 'bmp',
    size: [2, 1],
    grey: true,
    pixels: [[1, 0, [200, 200, 200], 0]],
  },
  {
    name: 'a PNG named .JPG (content decides)',
    file: 'really-a-png.JPG',
    bytes: () => solid(2, 2, RED).png().toBuffer(),
    format: 'png',
    size: [2, 2],
    pixels: [[1, 1, RED, 0]],
  },
];

interface Bad {
  name: string;
  file: string;
  bytes?: () => Promise<Buffer>;
  reason: RegExp;
  maxPixels?: number;
}

const BAD: Bad[] = [
  { name: 'zero-byte file', file: 'empty.jpg', bytes: async () => Buffer.alloc(0), reason: /empty \(0 bytes\)/ },
  { name: 'text named .jpg', file: 'notes.jpg', bytes: async () => Buffer.from('this is not a picture\n'), reason: /contains text/ },
  {
    name: 'HTML page saved as .png',
    file: 'page.png',
    bytes: async () => Buffer.from('<!DOCTYPE html><html>404</html>'),
    reason: /HTML page/,
  },
  {
    name: 'truncated JPEG',
    file: 'cut.jpg',
    bytes: async () => cut(await noise(64, 64).jpeg().toBuffer(), 0.6),
    reason: /truncated: no JPEG end-of-image marker/,
  },
  {
    name: 'truncated progressive JPEG',
    file: 'cut-progressive.jpg',
    bytes: async () => cut(await noise(64, 64).jpeg({ progressive: true }).toBuffer(), 0.95),
    reason: /truncated/,
  },
  {
    name: 'truncated PNG',
    file: 'cut.png',
    bytes: async () => cut(await noise(64, 64).png().toBuffer(), 0.7),
    reason: /truncated: no PNG IEND chunk/,
  },
  {
    name: 'truncated WebP',
    file: 'cut.webp',
    bytes: async () => cut(await noise(64, 64).webp().toBuffer(), 0.5),
    reason: /truncated: the RIFF header declares/,
  },
  {
    name: 'truncated GIF',
    file: 'cut.gif',
    bytes: async () => cut(await noise(64, 64).gif().toBuffer(), 0.5),
    reason: /truncated: no GIF trailer/,
  },
  {
    name: 'JPEG with garbage in the entropy data',
    file: 'garbage.jpg',
    bytes: async () => {
      const bytes = Buffer.from(await noise(64, 64).jpeg().toBuffer());
      for (let i = 1200; i < 1400; i++) bytes[i] = (i * 7) & 0xff;
      return bytes;
    },
    reason: /corrupt/i,
  },
  {
    name: 'truncated BMP',
    file: 'cut.bmp',
    bytes: async () => cut(encodeBmp({ width: 8, height: 8, bitsPerPixel: 24, pixels: Array(64).fill([1, 2, 3, 255]) }), 0.5),
    reason: /pixel data is truncated/,
  },
  {
    name: 'HEIC photo',
    file: 'phone.heic',
    bytes: async () => Buffer.from('\0\0\0\x18ftypheic\0\0\0\0mif1heic', 'latin1'),
    reason: /HEIC\/HEIF images are not supported/,
  },
  {
    name: 'over the pixel limit (sharp)',
    file: 'big.png',
    bytes: () => solid(40, 30, RED).png().toBuffer(),
    maxPixels: 1000,
    reason: /40x30 .*over the limit/,
  },
  {
    name: 'over the pixel limit (BMP)',
    file: 'big.bmp',
    bytes: async () => encodeBmp({ width: 40, height: 30, bitsPerPixel: 24, pixels: Array(1200).fill([1, 2, 3, 255]) }),
    maxPixels: 1000,
    reason: /over the limit/,
  },
  { name: 'missing file', file: 'does-not-exist.png', reason: /does not exist/ },
];

function cut(bytes: Buffer, fraction: number): Buffer {
  return bytes.subarray(0, Math.floor(bytes.length * fraction));
}

let dir = '';
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'effnet-decode-'));
  for (const c of [...GOOD, ...BAD]) if (c.bytes) await writeFile(path.join(dir, c.file), await c.bytes());
  await mkdir(path.join(dir, 'folder.jpg'));
});
after(() => rm(dir, { recursive: true, force: true }));

function pixelAt(image: DecodedImage, x: number, y: number): Rgb {
  const at = (y * image.width + x) * 3;
  return [image.data[at]!, image.data[at + 1]!, image.data[at + 2]!];
}

for (const c of GOOD) {
  test(`decodes ${c.name} to 8-bit RGB`, async () => {
    const file = path.join(dir, c.file);
    for (const image of [await decodeImage(file), await decodeImage(await c.bytes())]) {
      assert.equal(image.format, c.format);
      assert.deepEqual([image.width, image.height], c.size);
      assert.equal(image.data.length, c.size[0] * c.size[1] * 3);
      assert.ok(image.data instanceof Uint8Array);
      assert.equal(image.wasGrayscale, Boolean(c.grey), 'wasGrayscale');
      assert.equal(image.hadAlpha, Boolean(c.alpha), 'hadAlpha');
      for (const [x, y, expected, tolerance] of c.pixels) {
        const actual = pixelAt(image, x, y);
        assert.ok(
          actual.every((value, i) => Math.abs(value - expected[i]!) <= tolerance),
          `pixel (${x},${y}) is ${actual}, expected ${expected} ± ${tolerance}`,
        );
      }
    }
    const probe = await probeImage(file);
    assert.equal(probe.format, c.format);
    assert.deepEqual([probe.width, probe.height], c.size, 'probe size is the displayed (oriented) size');
  });
}

for (const c of [...BAD, { name: 'a folder', file: 'folder.jpg', reason: /folder/ } as Bad]) {
  test(`reports ${c.name} as unreadable, naming the file and the reason`, async () => {
    const file = path.join(dir, c.file);
    await assert.rejects(decodeImage(file, { maxPixels: c.maxPixels }), (error: unknown) => {
      assert.ok(error instanceof AppError, String(error));
      assert.equal(error.code, 'unreadable');
      assert.ok(error.message.includes(file), error.message);
      assert.match((error.details as { reason: string }).reason, c.reason);
      assert.ok(error.hint);
      return true;
    });
  });
}

test('many broken files decoded at once all reject cleanly', async () => {
  const results = await Promise.allSettled(BAD.map((c) => decodeImage(path.join(dir, c.file), { maxPixels: c.maxPixels })));
  assert.ok(results.every((r) => r.status === 'rejected' && r.reason instanceof AppError && r.reason.code === 'unreadable'));
});

test('probeImage reads the header only: 16-bit depth, EXIF orientation, and a truncated file still probes', async () => {
  const png16 = await probeImage(path.join(dir, 'rgb16.png'));
  assert.equal(png16.bitsPerSample, 16);
  const rotated = await probeImage(path.join(dir, 'rotated.jpg'));
  assert.equal(rotated.orientation, 6);
  const truncated = await probeImage(path.join(dir, 'cut.bmp'));
  assert.deepEqual([truncated.width, truncated.height, truncated.format], [8, 8, 'bmp']);
  await assert.rejects(probeImage(path.join(dir, 'notes.jpg')), /contains text/);
  await assert.rejects(probeImage(path.join(dir, 'empty.jpg')), /empty/);
});

test('detectFormat goes by magic bytes only', () => {
  const cases: [string, number[] | string, string | undefined][] = [
    ['JPEG', [0xff, 0xd8, 0xff, 0xe0], 'jpeg'],
    ['PNG', [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'png'],
    ['WebP', 'RIFF\x10\0\0\0WEBPVP8 ', 'webp'],
    ['GIF87a', 'GIF87a', 'gif'],
    ['GIF89a', 'GIF89a', 'gif'],
    ['TIFF little-endian', 'II*\0', 'tiff'],
    ['TIFF big-endian', 'MM\0*', 'tiff'],
    ['AVIF', '\0\0\0\x1cftypavif\0\0\0\0avifmif1', 'avif'],
    ['HEIC', '\0\0\0\x18ftypheic\0\0\0\0mif1heic', undefined],
    ['text that starts with BM', 'BMW parts list, 2024 edition', undefined],
    ['RIFF audio', 'RIFF\x10\0\0\0WAVEfmt ', undefined],
    ['empty', [], undefined],
  ];
  for (const [name, bytes, expected] of cases) {
    const buffer = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : Buffer.from(bytes);
    assert.equal(detectFormat(buffer), expected, name);
  }
  assert.equal(detectFormat(encodeBmp({ width: 1, height: 1, bitsPerPixel: 24, pixels: [[0, 0, 0, 255]] })), 'bmp');
});
