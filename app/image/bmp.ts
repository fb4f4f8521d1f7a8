/**
 * A Windows BMP decoder, because sharp/libvips cannot read BMP (platform-facts.md) and datasets
 * exported from older tools and microscopes often are BMP.
 *
 * Supports the OS/2 core header (12 bytes), BITMAPINFOHEADER (40) and its V2/V3/V4/V5 extensions
 * (52/56/108/124); 1/2/4/8-bit palettes, RLE8 and RLE4, 16/24/32-bit with or without BI_BITFIELDS /
 * BI_ALPHABITFIELDS masks; bottom-up and top-down rows. Colour profiles in V4/V5 headers are ignored
 * (treated as sRGB). Layout reference: Microsoft "BITMAPINFOHEADER"/"BITMAPV5HEADER" docs.
 */

export class BmpError extends Error {
  override readonly name = 'BmpError';
}

const COMPRESSION_NAMES: Record<number, string> = {
  0: 'BI_RGB',
  1: 'BI_RLE8',
  2: 'BI_RLE4',
  3: 'BI_BITFIELDS',
  4: 'BI_JPEG',
  5: 'BI_PNG',
  6: 'BI_ALPHABITFIELDS',
};

export interface BmpMasks {
  readonly red: number;
  readonly green: number;
  readonly blue: number;
  readonly alpha: number;
}

export interface BmpHeader {
  readonly headerSize: number;
  readonly width: number;
  readonly height: number;
  readonly topDown: boolean;
  readonly bitsPerPixel: number;
  readonly compression: string;
  readonly dataOffset: number;
  /** Palette entries present in the file (0 for 16/24/32-bit). */
  readonly paletteSize: number;
  readonly masks?: BmpMasks;
}

export interface BmpImage {
  readonly width: number;
  readonly height: number;
  /** RGBA, row-major top to bottom, 8 bits per channel. */
  readonly data: Uint8Array;
  /** True when the file carries a meaningful alpha channel (an alpha mask and not all zero). */
  readonly hasAlpha: boolean;
}

/**
 * Parses and validates the headers only: cheap, used by probeImage. `bytes` may be just the start
 * of the file (headers and palette fit in the first 2 KiB); `fileSize` is then the whole file's size.
 */
export function readBmpHeader(bytes: Uint8Array, fileSize = bytes.length): BmpHeader {
  return parseHeader(bytes, fileSize).header;
}

export function decodeBmp(bytes: Uint8Array, options: { maxPixels?: number } = {}): BmpImage {
  const { header, palette, view } = parseHeader(bytes, bytes.length);
  const { width, height } = header;
  if (options.maxPixels !== undefined && width * height > options.maxPixels) {
    throw new BmpError(`image is ${width}x${height} pixels, over the limit of ${options.maxPixels} pixels`);
  }
  const rgba = new Uint8Array(width * height * 4);
  if (header.compression === 'BI_RLE8' || header.compression === 'BI_RLE4') {
    const indices = decodeRle(bytes, header);
    for (let i = 0; i < indices.length; i++) writePaletteColour(rgba, i, palette, indices[i]!);
    return { width, height, data: rgba, hasAlpha: false };
  }
  const stride = Math.ceil((header.bitsPerPixel * width) / 32) * 4;
  const needed = header.dataOffset + stride * (height - 1) + Math.ceil((header.bitsPerPixel * width) / 8);
  if (needed > bytes.length) {
    throw new BmpError(`pixel data is truncated: needs ${needed} bytes, the file has ${bytes.length}`);
  }
  const bpp = header.bitsPerPixel;
  const fields = header.masks ? maskFields(header.masks) : undefined;
  const [red, green, blue, alpha] = fields ?? [];
  let alphaSeen = false;
  for (let row = 0; row < height; row++) {
    const y = header.topDown ? row : height - 1 - row;
    const start = header.dataOffset + row * stride;
    for (let x = 0; x < width; x++) {
      const pixel = y * width + x;
      if (bpp <= 8) {
        const bit = x * bpp;
        const index = (bytes[start + (bit >> 3)]! >> (8 - bpp - (bit & 7))) & ((1 << bpp) - 1);
        writePaletteColour(rgba, pixel, palette, index);
      } else if (bpp === 24) {
        const at = start + x * 3;
        const out = pixel * 4;
        rgba[out] = bytes[at + 2]!;
        rgba[out + 1] = bytes[at + 1]!;
        rgba[out + 2] = bytes[at]!;
        rgba[out + 3] = 255;
      } else {
        const at = start + (x * bpp) / 8;
        const value = bpp === 16 ? view.getUint16(at, true) : view.getUint32(at, true);
        const out = pixel * 4;
        rgba[out] = red!(value);
        rgba[out + 1] = green!(value);
        rgba[out + 2] = blue!(value);
        const a = alpha ? alpha(value) : 255;
        if (alpha && a !== 0) alphaSeen = true;
        rgba[out + 3] = a;
      }
    }
  }
  const hasAlphaMask = fields !== undefined && fields.length === 4;
  // Many writers fill an unused alpha byte with 0; a fully transparent picture is never the intent,
  // so all-zero alpha means opaque (as browsers do).
  if (hasAlphaMask && !alphaSeen) for (let i = 3; i < rgba.length; i += 4) rgba[i] = 255;
  return { width, height, data: rgba, hasAlpha: hasAlphaMask && alphaSeen };
}

function parseHeader(bytes: Uint8Array, fileSize: number) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 26) throw new BmpError(`file is truncated: ${bytes.length} bytes is shorter than a BMP header`);
  if (bytes[0] !== 0x42 || bytes[1] !== 0x4d) throw new BmpError('not a BMP file (no "BM" signature)');
  const dataOffset = view.getUint32(10, true);
  const headerSize = view.getUint32(14, true);
  const core = headerSize === 12;
  if (!core && ![40, 52, 56, 108, 124].includes(headerSize)) throw new BmpError(`unsupported BMP header size ${headerSize}`);
  if (bytes.length < 14 + headerSize) throw new BmpError(`file is truncated inside the ${headerSize}-byte BMP header`);
  const width = core ? view.getUint16(18, true) : view.getInt32(18, true);
  const rawHeight = core ? view.getUint16(20, true) : view.getInt32(22, true);
  const bitsPerPixel = view.getUint16(core ? 24 : 28, true);
  const compressionCode = core ? 0 : view.getUint32(30, true);
  const compression = COMPRESSION_NAMES[compressionCode] ?? `unknown (${compressionCode})`;
  const height = Math.abs(rawHeight);
  if (width <= 0 || height === 0) throw new BmpError(`invalid image size ${width}x${rawHeight}`);
  if (![1, 2, 4, 8, 16, 24, 32].includes(bitsPerPixel)) throw new BmpError(`unsupported bit depth ${bitsPerPixel}`);
  if (compression === 'BI_JPEG' || compression === 'BI_PNG')
    throw new BmpError(`${compression} (embedded JPEG/PNG) BMPs are not supported`);
  if (!['BI_RGB', 'BI_RLE8', 'BI_RLE4', 'BI_BITFIELDS', 'BI_ALPHABITFIELDS'].includes(compression)) {
    throw new BmpError(`unsupported compression ${compression}`);
  }
  const rle = compression === 'BI_RLE8' || compression === 'BI_RLE4';
  if ((compression === 'BI_RLE8' && bitsPerPixel !== 8) || (compression === 'BI_RLE4' && bitsPerPixel !== 4)) {
    throw new BmpError(`${compression} needs ${compression === 'BI_RLE8' ? 8 : 4} bits per pixel, the header says ${bitsPerPixel}`);
  }
  if (rle && rawHeight < 0) throw new BmpError('a run-length encoded BMP cannot be top-down (negative height)');
  const bitfields = compression === 'BI_BITFIELDS' || compression === 'BI_ALPHABITFIELDS';
  if (bitfields && bitsPerPixel !== 16 && bitsPerPixel !== 32) throw new BmpError(`${compression} needs 16 or 32 bits per pixel`);

  // BITMAPINFOHEADER stores the masks right after itself; V2+ headers contain them.
  const externalMasks = headerSize === 40 ? (compression === 'BI_BITFIELDS' ? 12 : compression === 'BI_ALPHABITFIELDS' ? 16 : 0) : 0;
  let masks: BmpMasks | undefined;
  if (bitsPerPixel === 16 || bitsPerPixel === 32) {
    if (bitfields || headerSize >= 56) {
      if (bytes.length < 54 + 12) throw new BmpError('file is truncated inside the colour masks');
      const alphaPresent = headerSize >= 56 || compression === 'BI_ALPHABITFIELDS';
      const header = {
        red: view.getUint32(54, true),
        green: view.getUint32(58, true),
        blue: view.getUint32(62, true),
        alpha: alphaPresent && bytes.length >= 70 ? view.getUint32(66, true) : 0,
      };
      // A V3+ header with BI_RGB: the masks are not used by the spec, except alpha (as browsers do).
      masks = bitfields ? header : { ...defaultMasks(bitsPerPixel), alpha: header.alpha };
    } else {
      masks = defaultMasks(bitsPerPixel);
    }
    if (masks.red === 0 || masks.green === 0 || masks.blue === 0) throw new BmpError('a colour mask is zero');
  }

  let palette = new Uint8Array(0);
  let paletteSize = 0;
  if (bitsPerPixel <= 8) {
    const entrySize = core ? 3 : 4;
    const paletteStart = 14 + headerSize + externalMasks;
    const declared = core ? 0 : view.getUint32(46, true);
    if (declared > 1 << bitsPerPixel) throw new BmpError(`palette of ${declared} colours is too large for ${bitsPerPixel}-bit pixels`);
    const wanted = declared || 1 << bitsPerPixel;
    const room = Math.floor((Math.min(dataOffset, bytes.length) - paletteStart) / entrySize);
    paletteSize = Math.max(0, Math.min(wanted, room));
    if (paletteSize === 0) throw new BmpError('the colour palette is missing');
    palette = new Uint8Array(paletteSize * 3);
    for (let i = 0; i < paletteSize; i++) {
      const at = paletteStart + i * entrySize;
      palette.set([bytes[at + 2]!, bytes[at + 1]!, bytes[at]!], i * 3);
    }
  }
  if (dataOffset >= fileSize) throw new BmpError(`pixel data offset ${dataOffset} lies beyond the end of the file (${fileSize} bytes)`);
  const header: BmpHeader = {
    headerSize,
    width,
    height,
    topDown: rawHeight < 0,
    bitsPerPixel,
    compression,
    dataOffset,
    paletteSize,
    masks,
  };
  return { header, palette, view };
}

function defaultMasks(bitsPerPixel: number): BmpMasks {
  // BI_RGB defaults: 16-bit is X1R5G5B5, 32-bit is X8R8G8B8 (the fourth byte unused).
  return bitsPerPixel === 16
    ? { red: 0x7c00, green: 0x03e0, blue: 0x001f, alpha: 0 }
    : { red: 0x00ff0000, green: 0x0000ff00, blue: 0x000000ff, alpha: 0 };
}

/** One extractor per mask: shifts the field down and scales it to 0..255. Alpha is omitted when its mask is 0. */
function maskFields(masks: BmpMasks): ((value: number) => number)[] {
  const channels = [masks.red, masks.green, masks.blue, ...(masks.alpha ? [masks.alpha] : [])];
  return channels.map((mask) => {
    const unsigned = mask >>> 0;
    let shift = 0;
    while (((unsigned >>> shift) & 1) === 0) shift++;
    const max = unsigned >>> shift;
    return (value: number) => Math.round((((value >>> 0) & unsigned) >>> shift) * (255 / max));
  });
}

function writePaletteColour(rgba: Uint8Array, pixel: number, palette: Uint8Array, index: number): void {
  // An index past the palette is black, as Windows draws it.
  const at = index * 3;
  const inside = at + 2 < palette.length;
  const out = pixel * 4;
  rgba[out] = inside ? palette[at]! : 0;
  rgba[out + 1] = inside ? palette[at + 1]! : 0;
  rgba[out + 2] = inside ? palette[at + 2]! : 0;
  rgba[out + 3] = 255;
}

/** Run-length decoding (BI_RLE8/BI_RLE4) to palette indices, top row first. Pixels skipped by a delta keep index 0. */
function decodeRle(bytes: Uint8Array, header: BmpHeader): Uint8Array {
  const { width, height } = header;
  const four = header.compression === 'BI_RLE4';
  const indices = new Uint8Array(width * height);
  let x = 0;
  let y = 0; // counted from the bottom row, as RLE bitmaps are stored
  let at = header.dataOffset;
  const put = (index: number) => {
    if (x < width && y < height) indices[(height - 1 - y) * width + x] = index;
    x++;
  };
  const truncated = () => new BmpError(`run-length data is truncated at byte ${at} (row ${y + 1} of ${height})`);
  while (y < height) {
    if (at + 1 >= bytes.length) {
      // Some writers omit the end-of-bitmap marker after the last row; anything shorter is truncated.
      if (y >= height - 1 && x >= width) break;
      throw truncated();
    }
    const count = bytes[at++]!;
    const value = bytes[at++]!;
    if (count > 0) {
      for (let i = 0; i < count; i++) put(four ? (i % 2 === 0 ? value >> 4 : value & 15) : value);
    } else if (value === 0) {
      x = 0;
      y++;
    } else if (value === 1) {
      break;
    } else if (value === 2) {
      if (at + 1 >= bytes.length) throw truncated();
      x += bytes[at++]!;
      y += bytes[at++]!;
    } else {
      const length = four ? Math.ceil(value / 2) : value;
      if (at + length > bytes.length) throw truncated();
      for (let i = 0; i < value; i++) put(four ? (i % 2 === 0 ? bytes[at + (i >> 1)]! >> 4 : bytes[at + (i >> 1)]! & 15) : bytes[at + i]!);
      at += length + (length % 2); // absolute runs are padded to a 16-bit boundary
    }
  }
  return indices;
}
