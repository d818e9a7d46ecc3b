/**
 * Text encodings of plant exports: which one a file uses, and turning its bytes
 * into text. Historians and Excel write UTF-8 (with or without a byte order
 * mark), UTF-16 ("Unicode text") or the Windows ANSI code page 1252.
 */
import { TextDecoder } from 'node:util';
import { AppError } from '../../../../shared/errors';
import type { TextEncoding } from '../../../../shared/datasets';

export interface EncodingGuess {
  encoding: TextEncoding;
  /** Bytes of byte order mark to skip. */
  bom: number;
  /** One plain sentence for the wizard. */
  reason: string;
}

/** How many leading bytes the checks look at. */
const CHECK_BYTES = 64 * 1024;

/**
 * Guesses the encoding from the first bytes of a file (a few kB to 1 MB).
 * Throws `bad_input` when the bytes are not text at all (a workbook, an archive,
 * a database…), naming `fileName`.
 */
export function detectEncoding(head: Uint8Array, fileName = 'The file'): EncodingGuess {
  if (head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) {
    return { encoding: 'utf-8', bom: 3, reason: 'The file starts with a UTF-8 byte order mark.' };
  }
  if (head.length >= 2 && head[0] === 0xff && head[1] === 0xfe) {
    return { encoding: 'utf-16le', bom: 2, reason: 'The file starts with a UTF-16 (little-endian) byte order mark, as Excel\'s "Unicode text" does.' };
  }
  if (head.length >= 2 && head[0] === 0xfe && head[1] === 0xff) {
    return { encoding: 'utf-16be', bom: 2, reason: 'The file starts with a UTF-16 (big-endian) byte order mark.' };
  }
  const n = Math.min(head.length, CHECK_BYTES);
  const bomless = guessBomlessUtf16(head, n);
  if (bomless) {
    return {
      encoding: bomless,
      bom: 0,
      reason: `Every other byte is zero, which is how UTF-16 (${bomless === 'utf-16le' ? 'little' : 'big'}-endian) stores plain text.`,
    };
  }
  assertText(head, n, fileName);
  // The sample may end inside a character when it was cut from a longer file.
  if (isValidUtf8(head, n, true)) {
    return { encoding: 'utf-8', bom: 0, reason: hasHighBytes(head, n) ? 'The text is valid UTF-8.' : 'The text is plain ASCII, read as UTF-8.' };
  }
  return {
    encoding: 'windows-1252',
    bom: 0,
    reason: 'The text is not valid UTF-8, so it is read as Windows Western European (code page 1252), as older Windows programs write.',
  };
}

function guessBomlessUtf16(head: Uint8Array, n: number): 'utf-16le' | 'utf-16be' | null {
  const pairs = n >> 1;
  if (pairs < 8) return null;
  let zeroEven = 0;
  let zeroOdd = 0;
  for (let i = 0; i + 1 < n; i += 2) {
    if (head[i] === 0) zeroEven++;
    if (head[i + 1] === 0) zeroOdd++;
  }
  // Latin text in UTF-16 has a zero in nearly every pair, always on the same side.
  if (zeroOdd > pairs * 0.7 && zeroEven < pairs * 0.05) return 'utf-16le';
  if (zeroEven > pairs * 0.7 && zeroOdd < pairs * 0.05) return 'utf-16be';
  return null;
}

function hasHighBytes(head: Uint8Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (head[i]! >= 0x80) return true;
  return false;
}

const SIGNATURES: [number[], string][] = [
  [[0x50, 0x4b, 0x03, 0x04], 'It looks like an Excel workbook (.xlsx) or a ZIP archive.'],
  [[0xd0, 0xcf, 0x11, 0xe0], 'It looks like an old Excel workbook (.xls) or another Office file.'],
  [[0x1f, 0x8b], 'It looks like a compressed (gzip) file; unpack it first.'],
  [[0x50, 0x41, 0x52, 0x31], 'It looks like a Parquet file.'],
  [[0x53, 0x51, 0x4c, 0x69, 0x74, 0x65], 'It looks like an SQLite database.'],
  [[0x25, 0x50, 0x44, 0x46], 'It looks like a PDF document.'],
];

/** Throws when the bytes are clearly not text: zero bytes or many control characters. */
function assertText(head: Uint8Array, n: number, fileName: string): void {
  for (const [sig, what] of SIGNATURES) {
    if (n >= sig.length && sig.every((b, i) => head[i] === b)) {
      throw new AppError('bad_input', `${fileName} is not a text file. ${what} Choose a CSV or text export.`);
    }
  }
  let zeros = 0;
  let controls = 0;
  for (let i = 0; i < n; i++) {
    const b = head[i]!;
    if (b === 0) zeros++;
    else if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x0c && b !== 0x1a) controls++;
  }
  if (zeros > Math.max(2, n * 0.001) || controls > Math.max(8, n * 0.05)) {
    throw new AppError(
      'bad_input',
      `${fileName} is not a text file: it contains binary data. Choose a CSV or text export (from Excel: "Save as" → "CSV").`,
    );
  }
}

/**
 * Strict UTF-8 validation (no overlong forms, no surrogates). When `truncated`,
 * a multi-byte sequence cut off at the end of the sample is accepted.
 */
export function isValidUtf8(b: Uint8Array, n: number, truncated: boolean): boolean {
  let i = 0;
  while (i < n) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (c >= 0xc2 && c <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else {
      return false;
    }
    if (i + need >= n) {
      // The sequence runs past the sample: fine when the sample was cut there.
      if (!truncated) return false;
      for (let k = i + 1; k < n; k++) if ((b[k]! & 0xc0) !== 0x80) return false;
      return true;
    }
    let cp = c & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const cc = b[i + k]!;
      if ((cc & 0xc0) !== 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += need + 1;
  }
  return true;
}

/** Code points of bytes 0x80–0x9F in Windows-1252 (where it differs from Latin-1). */
const CP1252_HIGH = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f, 0x90, 0x2018,
  0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
];

const utf8Decoder = new TextDecoder('utf-8');
const utf16leDecoder = new TextDecoder('utf-16le');
const utf16beDecoder = new TextDecoder('utf-16be');

/**
 * Decodes bytes. Windows-1252 is done here because Node's TextDecoder treats
 * that label as Latin-1 (0x80 would come out as a control character, not €).
 */
export function decodeBytes(bytes: Uint8Array, encoding: TextEncoding): string {
  switch (encoding) {
    case 'utf-8':
      return utf8Decoder.decode(bytes);
    case 'utf-16le':
      return utf16leDecoder.decode(bytes);
    case 'utf-16be':
      return utf16beDecoder.decode(bytes);
    case 'windows-1252':
      return decodeWindows1252(bytes, 0, bytes.length);
  }
}

/** Decodes `bytes[start, end)` as Windows-1252. */
export function decodeWindows1252(bytes: Uint8Array, start: number, end: number): string {
  const latin1 = Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
  return /[\x80-\x9f]/.test(latin1) ? latin1.replace(/[\x80-\x9f]/g, (ch) => String.fromCharCode(CP1252_HIGH[ch.charCodeAt(0) - 0x80]!)) : latin1;
}

/**
 * Turns UTF-16 bytes into UTF-8 bytes piece by piece, so the byte-level reader
 * can read UTF-16 files without holding them in memory. Code units and
 * surrogate pairs split across pieces are carried over.
 */
export class Utf16ToUtf8 {
  private readonly decoder: TextDecoder;

  constructor(encoding: 'utf-16le' | 'utf-16be') {
    this.decoder = new TextDecoder(encoding);
  }

  push(bytes: Uint8Array): Buffer {
    return Buffer.from(this.decoder.decode(bytes, { stream: true }), 'utf8');
  }

  end(): Buffer {
    return Buffer.from(this.decoder.decode(), 'utf8');
  }
}
