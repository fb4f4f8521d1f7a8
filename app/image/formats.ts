/**
 * Image formats, recognised by content (magic bytes), never by file extension: datasets scraped
 * from the web are full of PNGs named .jpg. One table; the decoder and the dataset readers read it.
 */

export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'bmp' | 'tiff' | 'avif';

interface FormatEntry {
  readonly format: ImageFormat;
  /** sharp (libvips) decodes everything except BMP, which has its own decoder (bmp.ts). */
  readonly decoder: 'sharp' | 'bmp';
  /** Lower-case file extensions, used only to pick candidate files when listing a dataset. */
  readonly extensions: readonly string[];
  readonly matches: (bytes: Uint8Array) => boolean;
}

/** How many leading bytes detectFormat needs to look at. */
export const MAGIC_BYTES = 32;

function startsWith(bytes: Uint8Array, signature: readonly number[], offset = 0): boolean {
  if (bytes.length < offset + signature.length) return false;
  return signature.every((value, i) => bytes[offset + i] === value);
}

function ascii(text: string): number[] {
  return [...text].map((c) => c.charCodeAt(0));
}

/** The ISO-BMFF `ftyp` brands of the file (major brand first), or [] if there is no ftyp box. */
function isoBrands(bytes: Uint8Array): string[] {
  if (!startsWith(bytes, ascii('ftyp'), 4)) return [];
  const boxSize = Math.min(((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0, bytes.length);
  const brands: string[] = [];
  for (let offset = 8; offset + 4 <= boxSize; offset += 4) {
    if (offset === 12) continue; // minor version, not a brand
    brands.push(String.fromCharCode(...bytes.subarray(offset, offset + 4)));
  }
  return brands;
}

/** Windows BMP: "BM" alone is too weak (a text file may start with it); the DIB header size must be a known one. */
function isBmp(bytes: Uint8Array): boolean {
  if (!startsWith(bytes, ascii('BM')) || bytes.length < 18) return false;
  const headerSize = bytes[14]! | (bytes[15]! << 8) | (bytes[16]! << 16) | (bytes[17]! << 24);
  return [12, 40, 52, 56, 64, 108, 124].includes(headerSize);
}

export const IMAGE_FORMATS: readonly FormatEntry[] = [
  { format: 'jpeg', decoder: 'sharp', extensions: ['jpg', 'jpeg', 'jpe', 'jfif'], matches: (b) => startsWith(b, [0xff, 0xd8, 0xff]) },
  { format: 'png', decoder: 'sharp', extensions: ['png'], matches: (b) => startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
  {
    format: 'webp',
    decoder: 'sharp',
    extensions: ['webp'],
    matches: (b) => startsWith(b, ascii('RIFF')) && startsWith(b, ascii('WEBP'), 8),
  },
  {
    format: 'gif',
    decoder: 'sharp',
    extensions: ['gif'],
    matches: (b) => startsWith(b, ascii('GIF87a')) || startsWith(b, ascii('GIF89a')),
  },
  { format: 'bmp', decoder: 'bmp', extensions: ['bmp', 'dib'], matches: isBmp },
  {
    format: 'tiff',
    decoder: 'sharp',
    extensions: ['tif', 'tiff'],
    // Little- and big-endian classic TIFF, and BigTIFF (version 43), which libtiff also reads.
    matches: (b) => [ascii('II*\0'), ascii('MM\0*'), ascii('II+\0'), ascii('MM\0+')].some((signature) => startsWith(b, signature)),
  },
  {
    format: 'avif',
    decoder: 'sharp',
    extensions: ['avif'],
    matches: (b) => isoBrands(b).some((brand) => brand === 'avif' || brand === 'avis'),
  },
];

/** File extensions (lower case, no dot) that make a file a candidate image when listing a dataset. */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set([
  ...IMAGE_FORMATS.flatMap((entry) => entry.extensions),
  // Not decodable, but listed so that a folder of iPhone photos is reported as unreadable with a
  // reason instead of silently ignored.
  'heic',
  'heif',
]);

/** The format of an image from its first bytes (see MAGIC_BYTES), or undefined. */
export function detectFormat(bytes: Uint8Array): ImageFormat | undefined {
  return IMAGE_FORMATS.find((entry) => entry.matches(bytes))?.format;
}

export function formatEntry(format: ImageFormat): FormatEntry {
  return IMAGE_FORMATS.find((entry) => entry.format === format)!;
}

/** Why bytes that detectFormat rejected are not an image we read, in words for the user. */
export function describeUnknownContent(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'the file is empty (0 bytes)';
  const brands = isoBrands(bytes);
  if (brands.some((brand) => ['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1'].includes(brand))) {
    return 'HEIC/HEIF images are not supported (convert them to JPEG or PNG)';
  }
  if (startsWith(bytes, ascii('BM'))) return 'not a valid BMP file (unknown header)';
  if (startsWith(bytes, ascii('%PDF'))) return 'the file is a PDF document, not an image';
  const head = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, MAGIC_BYTES)).trimStart();
  if (/^<(\?xml|svg)/i.test(head)) return 'SVG/XML vector files are not supported';
  if (/^<(!doctype|html)/i.test(head)) return 'the file is an HTML page, not an image (a failed download?)';
  const sample = bytes.subarray(0, Math.min(bytes.length, 512));
  const printable = sample.filter((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127) || b >= 128).length;
  if (printable === sample.length) return 'the file contains text, not an image';
  const hex = [...bytes.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  return `not a recognised image format (JPEG, PNG, WebP, GIF, BMP, TIFF, AVIF); it starts with bytes ${hex}`;
}
