import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { columnArray, type ColumnData, type ColumnSchema } from '../../../shared/datasets';
import { AppError } from '../../../shared/errors';
import { BlobStore } from '../workspace/blobs';
import { cellValue, loadColumn, storeColumns, typedBytes } from './column-store';

let dir: string;
let blobs: BlobStore;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-colstore-'));
  blobs = new BlobStore(path.join(dir, 'blobs'), path.join(dir, 'tmp'));
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A NaN with a payload other than the canonical one, to prove bytes are copied, not values. */
function oddNaN(): number {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setUint32(0, 0x7ff80000, false);
  dv.setUint32(4, 0x00000123, false);
  return dv.getFloat64(0, false);
}

function bytes(col: ColumnData): Buffer {
  const a = columnArray(col);
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

const SCHEMA: ColumnSchema[] = [
  { name: 'Time', type: 'timestamp', unit: null, header: 'Time' },
  { name: 'Flow', type: 'number', unit: 'm3/h', header: 'Flow [m3/h]' },
  { name: 'Count', type: 'integer', unit: null, header: 'Count' },
  { name: 'Running', type: 'boolean', unit: null, header: 'Running' },
  { name: 'Mode', type: 'category', unit: null, header: 'Mode' },
  { name: 'Note', type: 'text', unit: null, header: 'Note' },
];

/** Six rows of every column type, with missing values, -0 and NaN payloads. */
function sampleColumns(): ColumnData[] {
  return [
    { type: 'timestamp', values: Float64Array.from([1_700_000_000_000, 1_700_000_060_000, NaN, 1_700_000_180_000, -1, 0]) },
    { type: 'number', values: Float64Array.from([1.25, -0, NaN, oddNaN(), Number.MAX_VALUE, Number.MIN_VALUE]) },
    { type: 'integer', values: Float64Array.from([0, -7, 2 ** 53 - 1, NaN, 42, -0]) },
    { type: 'boolean', values: Uint8Array.from([0, 1, 255, 1, 0, 255]) },
    { type: 'category', codes: Int32Array.from([0, 1, -1, 1, 0, 2]), dictionary: ['auto', 'manuell', 'Störung'] },
    { type: 'text', codes: Int32Array.from([-1, 0, 1, 2, 3, 4]), dictionary: ['a "quoted" note', 'line\nbreak', '', '日本語', 'x,y'] },
  ];
}

function thrown(fn: () => unknown): AppError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return e as AppError;
  }
  throw new Error('expected an AppError');
}

describe('storeColumns / loadColumn', () => {
  it('round-trips every column type bit-exactly', () => {
    const cols = sampleColumns();
    const { stored, contentHash } = storeColumns(blobs, SCHEMA, cols, 6);
    expect(contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(stored.map((s) => [s.name, s.type, s.unit, s.header])).toEqual(SCHEMA.map((s) => [s.name, s.type, s.unit, s.header]));
    for (let i = 0; i < cols.length; i++) {
      const back = loadColumn(blobs, stored[i]!, 6);
      expect(back.type).toBe(cols[i]!.type);
      expect(columnArray(back).constructor).toBe(columnArray(cols[i]!).constructor);
      expect(bytes(back).equals(bytes(cols[i]!)), `column ${SCHEMA[i]!.name}`).toBe(true);
      if ('codes' in back) expect(back.dictionary).toEqual((cols[i] as { dictionary: string[] }).dictionary);
    }
    const num = loadColumn(blobs, stored[1]!, 6) as { values: Float64Array };
    expect(Object.is(num.values[1], -0)).toBe(true);
    expect(Number.isNaN(num.values[2])).toBe(true);
  });

  it('stores each column as a blob named by the sha256 of its bytes, and dictionaries only for coded columns', () => {
    const cols = sampleColumns();
    const { stored } = storeColumns(blobs, SCHEMA, cols, 6);
    for (let i = 0; i < cols.length; i++) {
      expect(blobs.has(stored[i]!.blob)).toBe(true);
      expect(blobs.read(stored[i]!.blob).equals(bytes(cols[i]!))).toBe(true);
      expect(blobs.verify(stored[i]!.blob)).toBe(true);
    }
    expect(stored.map((s) => s.dictionary !== undefined)).toEqual([false, false, false, false, true, true]);
    expect(JSON.parse(blobs.read(stored[4]!.dictionary!).toString('utf8'))).toEqual(['auto', 'manuell', 'Störung']);
  });

  it('stores only the viewed bytes of a column that is a view into a larger buffer', () => {
    const big = Float64Array.from([9, 9, 1, 2, 3, 9]);
    const view = big.subarray(2, 5);
    const ints = Int32Array.from([7, 7, 0, 1, 0, 7]).subarray(2, 5);
    const schema: ColumnSchema[] = [
      { name: 'v', type: 'number', unit: null, header: 'v' },
      { name: 'c', type: 'category', unit: null, header: 'c' },
    ];
    const { stored } = storeColumns(blobs, schema, [{ type: 'number', values: view }, { type: 'category', codes: ints, dictionary: ['p', 'q'] }], 3);
    expect([...(loadColumn(blobs, stored[0]!, 3) as { values: Float64Array }).values]).toEqual([1, 2, 3]);
    expect([...(loadColumn(blobs, stored[1]!, 3) as { codes: Int32Array }).codes]).toEqual([0, 1, 0]);
  });

  it('loads a copy: changing what was loaded does not change the next load', () => {
    const { stored } = storeColumns(blobs, SCHEMA, sampleColumns(), 6);
    const first = loadColumn(blobs, stored[1]!, 6) as { values: Float64Array };
    first.values[0] = 999;
    const again = loadColumn(blobs, stored[1]!, 6) as { values: Float64Array };
    expect(again.values[0]).toBe(1.25);
  });
});

describe('content hash', () => {
  const hashOf = (store: BlobStore, schema: ColumnSchema[], cols: ColumnData[], rows = 6) => storeColumns(store, schema, cols, rows).contentHash;

  it('is the same for the same content stored separately, in another store, with another header text', () => {
    const other = new BlobStore(path.join(dir, 'blobs2'), path.join(dir, 'tmp2'));
    const a = hashOf(blobs, SCHEMA, sampleColumns());
    const b = hashOf(other, SCHEMA, sampleColumns());
    expect(b).toBe(a);
    // Two files that spell a header differently but mean the same column hold the same data.
    const reheadered = SCHEMA.map((s) => (s.name === 'Flow' ? { ...s, header: 'Flow (m3/h)' } : s));
    expect(hashOf(blobs, reheadered, sampleColumns())).toBe(a);
  });

  it('changes when one value changes', () => {
    const base = hashOf(blobs, SCHEMA, sampleColumns());
    const cols = sampleColumns();
    (cols[1] as { values: Float64Array }).values[0] = 1.2500000000000002;
    expect(hashOf(blobs, SCHEMA, cols)).not.toBe(base);
    // -0 and 0 are different bytes, so different content.
    const signed = sampleColumns();
    (signed[1] as { values: Float64Array }).values[1] = 0;
    expect(hashOf(blobs, SCHEMA, signed)).not.toBe(base);
    const bools = sampleColumns();
    (bools[3] as { values: Uint8Array }).values[2] = 0;
    expect(hashOf(blobs, SCHEMA, bools)).not.toBe(base);
  });

  it('changes when a column name, a unit or a type changes', () => {
    const base = hashOf(blobs, SCHEMA, sampleColumns());
    const renamed = SCHEMA.map((s) => (s.name === 'Count' ? { ...s, name: 'Counter' } : s));
    expect(hashOf(blobs, renamed, sampleColumns())).not.toBe(base);
    const reunited = SCHEMA.map((s) => (s.name === 'Flow' ? { ...s, unit: 'l/s' } : s));
    expect(hashOf(blobs, reunited, sampleColumns())).not.toBe(base);
    const noUnit = SCHEMA.map((s) => (s.name === 'Flow' ? { ...s, unit: null } : s));
    expect(hashOf(blobs, noUnit, sampleColumns())).not.toBe(base);
    // Same bytes read as integers instead of numbers.
    const retyped = sampleColumns();
    retyped[1] = { type: 'integer', values: (retyped[1] as { values: Float64Array }).values };
    expect(hashOf(blobs, SCHEMA, retyped)).not.toBe(base);
  });

  it('changes when a dictionary changes but the codes do not', () => {
    const base = hashOf(blobs, SCHEMA, sampleColumns());
    const cols = sampleColumns();
    (cols[4] as { dictionary: string[] }).dictionary = ['auto', 'manuell', 'Stoerung'];
    expect(hashOf(blobs, SCHEMA, cols)).not.toBe(base);
  });

  it('changes when the columns are in another order', () => {
    const base = hashOf(blobs, SCHEMA, sampleColumns());
    const cols = sampleColumns();
    expect(hashOf(blobs, [...SCHEMA].reverse(), [...cols].reverse())).not.toBe(base);
  });
});

describe('damaged and missing blobs', () => {
  it('reports a truncated blob as damaged (code io), naming the column', () => {
    const { stored } = storeColumns(blobs, SCHEMA, sampleColumns(), 6);
    const file = blobs.pathOf(stored[1]!.blob);
    fs.chmodSync(file, 0o644);
    fs.truncateSync(file, 6 * 8 - 3);
    const e = thrown(() => loadColumn(blobs, stored[1]!, 6));
    expect(e.code).toBe('io');
    expect(e.message).toContain('"Flow"');
    expect(e.message).toMatch(/damaged/);
    expect(e.message).toContain('45 bytes, expected 48');
  });

  it('reports a blob shorter than the row count by whole values as damaged too', () => {
    const { stored } = storeColumns(blobs, SCHEMA, sampleColumns(), 6);
    for (const i of [0, 3, 4]) {
      const e = thrown(() => loadColumn(blobs, stored[i]!, 7));
      expect(e.code).toBe('io');
      expect(e.message).toContain(`"${SCHEMA[i]!.name}"`);
    }
  });

  it('reports a deleted blob as not_found', () => {
    const { stored } = storeColumns(blobs, SCHEMA, sampleColumns(), 6);
    fs.rmSync(blobs.pathOf(stored[3]!.blob), { force: true });
    expect(thrown(() => loadColumn(blobs, stored[3]!, 6)).code).toBe('not_found');
  });
});

describe('cellValue and typedBytes', () => {
  it('gives JSON-friendly cells: numbers, null for missing, booleans, strings', () => {
    const cols = sampleColumns();
    expect([0, 1, 2, 3, 4, 5].map((r) => cellValue(cols[0]!, r))).toEqual([1_700_000_000_000, 1_700_000_060_000, null, 1_700_000_180_000, -1, 0]);
    expect(cellValue(cols[1]!, 0)).toBe(1.25);
    expect(cellValue(cols[1]!, 2)).toBeNull();
    expect(cellValue(cols[1]!, 3)).toBeNull();
    expect([0, 1, 2].map((r) => cellValue(cols[3]!, r))).toEqual([false, true, null]);
    expect([0, 1, 2, 5].map((r) => cellValue(cols[4]!, r))).toEqual(['auto', 'manuell', null, 'Störung']);
    expect(cellValue(cols[5]!, 0)).toBeNull();
    expect(cellValue(cols[5]!, 3)).toBe('');
  });

  it('counts the bytes of the typed arrays', () => {
    expect(typedBytes(sampleColumns())).toBe(6 * 8 * 3 + 6 + 6 * 4 * 2);
  });
});
