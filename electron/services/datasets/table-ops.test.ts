import { describe, expect, it } from 'vitest';
import type { ColumnData, ColumnSchema, ColumnType } from '../../../shared/datasets';
import { AppError } from '../../../shared/errors';
import { appendTables, keepIndex, takeRows, timeOrder } from './table-ops';

const idx = (...i: number[]) => Uint32Array.from(i);

function schemaOf(...cols: [string, ColumnType][]): ColumnSchema[] {
  return cols.map(([name, type]) => ({ name, type, unit: null, header: name }));
}

/** The error thrown by fn, so its code and message can be checked. */
function thrown(fn: () => unknown): AppError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return e as AppError;
  }
  throw new Error('expected an AppError');
}

/** Category/text codes decoded to their values (null for missing). */
function decode(col: ColumnData): (string | null)[] {
  if (!('codes' in col)) throw new Error('not a coded column');
  return [...col.codes].map((c) => (c < 0 ? null : col.dictionary[c]!));
}

describe('takeRows', () => {
  const order = idx(3, 0, 3, 1);

  it.each(['number', 'integer', 'timestamp'] as const)('keeps the chosen %s values in index order, NaN included', (type) => {
    const col: ColumnData = { type, values: Float64Array.from([1.5, NaN, -0, 4e12]) };
    const out = takeRows(col, order);
    expect(out.type).toBe(type);
    expect(out).toHaveProperty('values');
    const v = (out as { values: Float64Array }).values;
    expect(v).toBeInstanceOf(Float64Array);
    expect([...v]).toEqual([4e12, 1.5, 4e12, NaN]);
    // The source is not modified.
    expect(Object.is((col as { values: Float64Array }).values[2], -0)).toBe(true);
  });

  it('keeps -0 as -0 (bit-exact copy of numbers)', () => {
    const out = takeRows({ type: 'number', values: Float64Array.from([-0, 0]) }, idx(0, 1)) as { values: Float64Array };
    expect(Object.is(out.values[0], -0)).toBe(true);
    expect(Object.is(out.values[1], 0)).toBe(true);
  });

  it('keeps booleans as a Uint8Array, 255 (missing) included', () => {
    const out = takeRows({ type: 'boolean', values: Uint8Array.from([0, 1, 255, 1]) }, idx(2, 3, 0, 2));
    expect(out.type).toBe('boolean');
    expect((out as { values: Uint8Array }).values).toBeInstanceOf(Uint8Array);
    expect([...(out as { values: Uint8Array }).values]).toEqual([255, 1, 0, 255]);
  });

  it.each(['category', 'text'] as const)('keeps %s codes (-1 for missing) and the same dictionary', (type) => {
    const dictionary = ['a', 'b', 'c'];
    const out = takeRows({ type, codes: Int32Array.from([2, -1, 0, 1]), dictionary }, order);
    expect(out.type).toBe(type);
    const coded = out as { codes: Int32Array; dictionary: string[] };
    expect(coded.codes).toBeInstanceOf(Int32Array);
    expect([...coded.codes]).toEqual([1, 2, 1, -1]);
    expect(coded.dictionary).toEqual(['a', 'b', 'c']);
    expect(decode(out)).toEqual(['b', 'c', 'b', null]);
  });

  it('returns an empty column for an empty index', () => {
    const out = takeRows({ type: 'number', values: Float64Array.from([1, 2]) }, new Uint32Array(0)) as { values: Float64Array };
    expect(out.values.length).toBe(0);
  });
});

describe('keepIndex', () => {
  it('drops the union of overlapping, unsorted drop sets with duplicates', () => {
    const keep = keepIndex(10, [idx(5, 1, 3), idx(3, 5, 7, 7), idx(9, 1)]);
    expect(keep).toBeInstanceOf(Uint32Array);
    expect([...keep]).toEqual([0, 2, 4, 6, 8]);
  });

  it('keeps every row when nothing is dropped, and none when everything is', () => {
    expect([...keepIndex(4, [])]).toEqual([0, 1, 2, 3]);
    expect([...keepIndex(4, [new Uint32Array(0)])]).toEqual([0, 1, 2, 3]);
    expect([...keepIndex(4, [idx(0, 1), idx(2, 3, 1)])]).toEqual([]);
  });

  it('matches a plain set computation on a large random case', () => {
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const n = 5000;
    const sets = [0, 1, 2].map(() => Uint32Array.from({ length: 800 }, () => rand(n)));
    const dropped = new Set(sets.flatMap((s) => [...s]));
    const expected = Array.from({ length: n }, (_, i) => i).filter((i) => !dropped.has(i));
    expect([...keepIndex(n, sets)]).toEqual(expected);
  });
});

describe('timeOrder', () => {
  it('returns null for rows already in order, ties included, and for no rows', () => {
    expect(timeOrder(Float64Array.from([1, 2, 2, 3, 10]))).toBeNull();
    expect(timeOrder(Float64Array.from([-5]))).toBeNull();
    expect(timeOrder(new Float64Array(0))).toBeNull();
  });

  it('orders rows by time and keeps ties in their original order', () => {
    const order = timeOrder(Float64Array.from([30, 10, 30, 10, 20]));
    expect(order).toBeInstanceOf(Uint32Array);
    expect([...order!]).toEqual([1, 3, 4, 0, 2]);
  });

  it('puts missing (NaN) times last, in their original order', () => {
    const order = timeOrder(Float64Array.from([NaN, 2, 1, NaN, 0]));
    expect([...order!]).toEqual([4, 2, 1, 0, 3]);
  });

  it('treats a NaN among sorted times as out of place', () => {
    const order = timeOrder(Float64Array.from([1, NaN, 2]));
    expect(order).not.toBeNull();
    expect([...order!]).toEqual([0, 2, 1]);
  });

  it('is a stable sort on a large case with many ties and NaNs', () => {
    let seed = 42;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const n = 20_000;
    const times = Float64Array.from({ length: n }, () => (rand() < 0.05 ? NaN : Math.floor(rand() * 50) * 1000));
    const key = (t: number) => (Number.isNaN(t) ? Infinity : t);
    // Array.prototype.sort is stable (ES2019), so it is the reference.
    const expected = Array.from({ length: n }, (_, i) => i).sort((a, b) => key(times[a]!) - key(times[b]!) || a - b);
    expect([...timeOrder(times)!]).toEqual(expected);
  });
});

describe('appendTables', () => {
  it('concatenates numbers and booleans and matches columns by name, not position', () => {
    const out = appendTables([
      {
        file: 'jan.csv',
        schema: schemaOf(['t', 'timestamp'], ['flow', 'number'], ['ok', 'boolean']),
        columns: [
          { type: 'timestamp', values: Float64Array.from([1, 2]) },
          { type: 'number', values: Float64Array.from([0.5, NaN]) },
          { type: 'boolean', values: Uint8Array.from([1, 255]) },
        ],
      },
      {
        file: 'feb.csv',
        schema: schemaOf(['ok', 'boolean'], ['t', 'timestamp'], ['flow', 'number']),
        columns: [
          { type: 'boolean', values: Uint8Array.from([0]) },
          { type: 'timestamp', values: Float64Array.from([3]) },
          { type: 'number', values: Float64Array.from([-0]) },
        ],
      },
    ]);
    expect(out.map((c) => c.type)).toEqual(['timestamp', 'number', 'boolean']);
    expect([...(out[0] as { values: Float64Array }).values]).toEqual([1, 2, 3]);
    const flow = (out[1] as { values: Float64Array }).values;
    expect(flow).toBeInstanceOf(Float64Array);
    expect([...flow]).toEqual([0.5, NaN, -0]);
    expect(Object.is(flow[2], -0)).toBe(true);
    const ok = (out[2] as { values: Uint8Array }).values;
    expect(ok).toBeInstanceOf(Uint8Array);
    expect([...ok]).toEqual([1, 255, 0]);
  });

  it.each(['category', 'text'] as const)('merges %s dictionaries: one code per value, missing stays -1', (type) => {
    const out = appendTables([
      { file: 'jan.csv', schema: schemaOf(['mode', type]), columns: [{ type, codes: Int32Array.from([0, 1, -1, 0]), dictionary: ['auto', 'manual'] }] },
      { file: 'feb.csv', schema: schemaOf(['mode', type]), columns: [{ type, codes: Int32Array.from([1, 0, -1, 2]), dictionary: ['service', 'auto', 'off'] }] },
      { file: 'mar.csv', schema: schemaOf(['mode', type]), columns: [{ type, codes: Int32Array.from([-1, 0]), dictionary: ['manual'] }] },
    ]);
    const mode = out[0]!;
    expect(mode.type).toBe(type);
    const coded = mode as { codes: Int32Array; dictionary: string[] };
    // Each value appears once in the merged dictionary.
    expect(new Set(coded.dictionary).size).toBe(coded.dictionary.length);
    expect([...coded.dictionary].sort()).toEqual(['auto', 'manual', 'off', 'service']);
    expect(decode(mode)).toEqual(['auto', 'manual', null, 'auto', 'auto', 'service', null, 'off', null, 'manual']);
    // The same value has the same code whichever file it came from.
    expect(coded.codes[0]).toBe(coded.codes[4]);
    expect(coded.codes[1]).toBe(coded.codes[9]);
    expect([...coded.codes].filter((c) => c < 0)).toEqual([-1, -1, -1]);
    for (const c of coded.codes) expect(c).toBeLessThan(coded.dictionary.length);
  });

  it('refuses a file that lacks a column, naming both files and the column', () => {
    const e = thrown(() =>
      appendTables([
        { file: 'jan.csv', schema: schemaOf(['t', 'timestamp'], ['flow', 'number']), columns: [{ type: 'timestamp', values: new Float64Array(1) }, { type: 'number', values: new Float64Array(1) }] },
        { file: 'feb.csv', schema: schemaOf(['t', 'timestamp']), columns: [{ type: 'timestamp', values: new Float64Array(1) }] },
      ]),
    );
    expect(e.code).toBe('bad_input');
    expect(e.message).toContain('feb.csv');
    expect(e.message).toContain('"flow"');
    expect(e.message).toContain('jan.csv');
  });

  it('refuses a column whose type differs, naming the column, both types and both files', () => {
    const e = thrown(() =>
      appendTables([
        { file: 'jan.csv', schema: schemaOf(['flow', 'number']), columns: [{ type: 'number', values: new Float64Array(1) }] },
        { file: 'feb.csv', schema: schemaOf(['flow', 'text']), columns: [{ type: 'text', codes: new Int32Array(1), dictionary: ['x'] }] },
      ]),
    );
    expect(e.code).toBe('bad_input');
    expect(e.message).toContain('"flow"');
    expect(e.message).toContain('feb.csv');
    expect(e.message).toContain('jan.csv');
    expect(e.message).toContain('text');
    expect(e.message).toContain('number');
  });

  it('refuses a file with an extra column, naming the file and the column', () => {
    const e = thrown(() =>
      appendTables([
        { file: 'jan.csv', schema: schemaOf(['flow', 'number']), columns: [{ type: 'number', values: new Float64Array(1) }] },
        { file: 'jan.csv', schema: schemaOf(['flow', 'number']), columns: [{ type: 'number', values: new Float64Array(1) }] },
        {
          file: 'mar.csv',
          schema: schemaOf(['flow', 'number'], ['level', 'number']),
          columns: [{ type: 'number', values: new Float64Array(1) }, { type: 'number', values: new Float64Array(1) }],
        },
      ]),
    );
    expect(e.code).toBe('bad_input');
    expect(e.message).toContain('mar.csv');
    expect(e.message).toContain('"level"');
  });

  it('returns the only table unchanged in content when given one part', () => {
    const out = appendTables([{ file: 'a.csv', schema: schemaOf(['x', 'integer']), columns: [{ type: 'integer', values: Float64Array.from([3, 4]) }] }]);
    expect([...(out[0] as { values: Float64Array }).values]).toEqual([3, 4]);
  });
});
