import crypto from 'node:crypto';
import os from 'node:os';
import { columnArray, type ColumnData, type ColumnSchema } from '../../../shared/datasets';
import { AppError } from '../../../shared/errors';
import type { BlobStore } from '../workspace/blobs';

/** A column of a stored version: its schema plus the blobs holding its content. */
export interface StoredColumn extends ColumnSchema {
  /** sha256 of the values (Float64 / Int32 codes / Uint8, little-endian). */
  blob: string;
  /** sha256 of the JSON dictionary for category and text columns. */
  dictionary?: string;
}

if (os.endianness() !== 'LE') {
  // Blobs are little-endian typed arrays written as-is; every supported desktop is LE.
  throw new Error('Millwright needs a little-endian CPU.');
}

function bytesOf(col: ColumnData): Uint8Array {
  const arr = columnArray(col);
  return new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
}

/**
 * Writes each column as an immutable blob and returns the stored schema and
 * the version's content hash: the hash of the canonical description (names,
 * types, units, blob hashes, row count), so the same content always gets the
 * same hash whatever file it came from.
 */
export function storeColumns(
  blobs: BlobStore,
  schema: ColumnSchema[],
  columns: ColumnData[],
  rowCount: number,
): { stored: StoredColumn[]; contentHash: string } {
  const stored = schema.map((s, i): StoredColumn => {
    const col = columns[i]!;
    const blob = blobs.put(bytesOf(col));
    const out: StoredColumn = { name: s.name, type: col.type, unit: s.unit, header: s.header, blob };
    if (col.type === 'category' || col.type === 'text') out.dictionary = blobs.put(JSON.stringify(col.dictionary));
    return out;
  });
  return { stored, contentHash: contentHashOf(stored, rowCount) };
}

/** A version's content hash from its stored columns (see storeColumns), for columns some of which are stored already. */
export function contentHashOf(stored: readonly StoredColumn[], rowCount: number): string {
  const canonical = JSON.stringify({
    rows: rowCount,
    columns: stored.map((c) => [c.name, c.type, c.unit, c.blob, c.dictionary ?? null]),
  });
  return crypto.createHash('sha256').update(canonical).digest('hex');
}

/** Reads one stored column back into a typed array (a copy, aligned for its element size). */
export function loadColumn(blobs: BlobStore, col: StoredColumn, rowCount: number): ColumnData {
  const buf = blobs.read(col.blob);
  const expectBytes = rowCount * (col.type === 'boolean' ? 1 : col.type === 'category' || col.type === 'text' ? 4 : 8);
  if (buf.byteLength !== expectBytes) {
    throw new AppError('io', `Stored data for column "${col.name}" is damaged (${buf.byteLength} bytes, expected ${expectBytes}).`);
  }
  const aligned = new Uint8Array(buf.byteLength);
  aligned.set(buf);
  switch (col.type) {
    case 'number':
    case 'integer':
    case 'timestamp':
      return { type: col.type, values: new Float64Array(aligned.buffer) };
    case 'boolean':
      return { type: 'boolean', values: aligned };
    case 'category':
    case 'text':
      return {
        type: col.type,
        codes: new Int32Array(aligned.buffer),
        dictionary: JSON.parse(blobs.read(col.dictionary!).toString('utf8')) as string[],
      };
  }
}

/** The value of one cell as JSON-friendly data: numbers, epoch ms, strings, booleans or null. */
export function cellValue(col: ColumnData, row: number): string | number | boolean | null {
  switch (col.type) {
    case 'number':
    case 'integer':
    case 'timestamp': {
      const v = col.values[row]!;
      return Number.isNaN(v) ? null : v;
    }
    case 'boolean': {
      const v = col.values[row]!;
      return v === 255 ? null : v === 1;
    }
    default: {
      const c = col.codes[row]!;
      return c < 0 ? null : col.dictionary[c]!;
    }
  }
}

/** Bytes the typed columns take in memory; the import benchmark compares peak memory with it. */
export function typedBytes(columns: ColumnData[]): number {
  return columns.reduce((n, c) => n + columnArray(c).byteLength, 0);
}
