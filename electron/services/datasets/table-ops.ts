import { columnArray, type ColumnData, type ColumnSchema } from '../../../shared/datasets';
import { AppError } from '../../../shared/errors';

/** Keeps the rows at `index` (in that order) of a column, in shared memory (see csv-reader's allocate). */
export function takeRows(col: ColumnData, index: Uint32Array): ColumnData {
  const n = index.length;
  switch (col.type) {
    case 'number':
    case 'integer':
    case 'timestamp': {
      const out = new Float64Array(new SharedArrayBuffer(n * 8));
      for (let i = 0; i < n; i++) out[i] = col.values[index[i]!]!;
      return { type: col.type, values: out };
    }
    case 'boolean': {
      const out = new Uint8Array(new SharedArrayBuffer(n));
      for (let i = 0; i < n; i++) out[i] = col.values[index[i]!]!;
      return { type: 'boolean', values: out };
    }
    default: {
      const out = new Int32Array(new SharedArrayBuffer(n * 4));
      for (let i = 0; i < n; i++) out[i] = col.codes[index[i]!]!;
      return { type: col.type, codes: out, dictionary: col.dictionary };
    }
  }
}

/** Row indexes 0..n-1 without the ones in `drop` (any order, duplicates allowed). */
export function keepIndex(rowCount: number, drop: Iterable<Uint32Array>): Uint32Array {
  const dropped = new Uint8Array(rowCount);
  for (const rows of drop) for (let i = 0; i < rows.length; i++) dropped[rows[i]!] = 1;
  let kept = 0;
  for (let i = 0; i < rowCount; i++) kept += dropped[i]! ^ 1;
  const out = new Uint32Array(kept);
  for (let i = 0, j = 0; i < rowCount; i++) if (!dropped[i]) out[j++] = i;
  return out;
}

/**
 * Stable order of rows by time; missing times go last. Returns null when the
 * rows are already in order, so the common case costs one scan.
 */
export function timeOrder(times: Float64Array): Uint32Array | null {
  let sorted = true;
  let prev = -Infinity;
  for (let i = 0; i < times.length; i++) {
    const t = times[i]!;
    if (Number.isNaN(t) || t < prev) {
      sorted = false;
      break;
    }
    prev = t;
  }
  if (sorted) return null;
  const idx = new Uint32Array(times.length);
  for (let i = 0; i < idx.length; i++) idx[i] = i;
  // Typed-array sort with a comparator is stable in V8 (TimSort).
  return idx.sort((a, b) => {
    const ta = times[a]!;
    const tb = times[b]!;
    if (Number.isNaN(ta)) return Number.isNaN(tb) ? a - b : 1;
    if (Number.isNaN(tb)) return -1;
    return ta - tb || a - b;
  });
}

/**
 * Appends tables that share one schema (several monthly exports, say).
 * Columns are matched by name; a missing or retyped column is refused with a
 * sentence naming the file and the column.
 */
export function appendTables(parts: { file: string; schema: ColumnSchema[]; columns: ColumnData[] }[]): ColumnData[] {
  const first = parts[0]!;
  for (const p of parts.slice(1)) {
    const names = new Set(p.schema.map((s) => s.name));
    for (const s of first.schema) {
      const other = p.schema.find((o) => o.name === s.name);
      if (!other) throw new AppError('bad_input', `${p.file} has no column "${s.name}", which ${first.file} has. Files imported together need the same columns.`);
      if (other.type !== s.type) {
        throw new AppError('bad_input', `Column "${s.name}" holds ${other.type} values in ${p.file} but ${s.type} values in ${first.file}.`);
      }
      names.delete(s.name);
    }
    if (names.size) throw new AppError('bad_input', `${p.file} has columns that ${first.file} does not: ${[...names].map((n) => `"${n}"`).join(', ')}.`);
  }
  return first.schema.map((s) => {
    const cols = parts.map((p) => p.columns[p.schema.findIndex((o) => o.name === s.name)]!);
    const total = cols.reduce((n, c) => n + columnArray(c).length, 0);
    const c0 = cols[0]!;
    if (c0.type === 'category' || c0.type === 'text') {
      const dictionary: string[] = [];
      const codeOf = new Map<string, number>();
      const out = new Int32Array(total);
      let off = 0;
      for (const c of cols as Extract<ColumnData, { codes: Int32Array }>[]) {
        const remap = c.dictionary.map((v) => {
          let code = codeOf.get(v);
          if (code === undefined) {
            code = dictionary.length;
            dictionary.push(v);
            codeOf.set(v, code);
          }
          return code;
        });
        for (let i = 0; i < c.codes.length; i++) out[off + i] = c.codes[i]! < 0 ? -1 : remap[c.codes[i]!]!;
        off += c.codes.length;
      }
      return { type: c0.type, codes: out, dictionary };
    }
    if (c0.type === 'boolean') {
      const out = new Uint8Array(total);
      let off = 0;
      for (const c of cols as Extract<ColumnData, { type: 'boolean' }>[]) {
        out.set(c.values, off);
        off += c.values.length;
      }
      return { type: 'boolean', values: out };
    }
    const out = new Float64Array(total);
    let off = 0;
    for (const c of cols as Extract<ColumnData, { values: Float64Array }>[]) {
      out.set(c.values, off);
      off += c.values.length;
    }
    return { type: c0.type, values: out };
  });
}
