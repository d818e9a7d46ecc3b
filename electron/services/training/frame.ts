import type { ColumnData } from '../../../shared/datasets';
import { AppError } from '../../../shared/errors';
import { loadColumn, type StoredColumn } from '../datasets/column-store';
import type { BlobStore } from '../workspace/blobs';

/**
 * The columns a training run reads, in time order when there is a time
 * column. Rows without a time are left out of time-ordered training (they
 * cannot be placed before or after the holdout).
 */
export interface Frame {
  rows: number;
  columns: Map<string, ColumnData>;
  schema: StoredColumn[];
  timeColumn: string | null;
  /** Epoch ms per row, ascending; null without a time column. */
  time: Float64Array | null;
  /** Rows dropped because their time was missing. */
  droppedNoTime: number;
}

export function loadFrame(blobs: BlobStore, schema: StoredColumn[], rowCount: number, names: string[], timeColumn: string | null): Frame {
  const want = new Set(names);
  if (timeColumn) want.add(timeColumn);
  const columns = new Map<string, ColumnData>();
  for (const name of want) {
    const stored = schema.find((c) => c.name === name);
    if (!stored) throw new AppError('bad_input', `The dataset has no column "${name}".`, 'columns');
    columns.set(name, loadColumn(blobs, stored, rowCount));
  }
  return frameFromColumns(columns, schema, rowCount, timeColumn);
}

/** Orders rows by time (stable), dropping rows without a time. */
export function frameFromColumns(columns: Map<string, ColumnData>, schema: StoredColumn[], rowCount: number, timeColumn: string | null): Frame {
  if (!timeColumn) return { rows: rowCount, columns, schema, timeColumn: null, time: null, droppedNoTime: 0 };
  const t = columns.get(timeColumn);
  if (!t || t.type !== 'timestamp') throw new AppError('bad_input', `"${timeColumn}" is not a time column.`, 'timeColumn');
  const times = t.values;
  let sorted = true;
  let missing = 0;
  for (let i = 0; i < rowCount; i++) {
    if (Number.isNaN(times[i]!)) missing++;
    else if (i > 0 && times[i]! < times[i - 1]!) sorted = false;
  }
  if (sorted && missing === 0) return { rows: rowCount, columns, schema, timeColumn, time: times, droppedNoTime: 0 };
  const order: number[] = [];
  for (let i = 0; i < rowCount; i++) if (!Number.isNaN(times[i]!)) order.push(i);
  if (!sorted) order.sort((a, b) => times[a]! - times[b]! || a - b);
  const idx = Int32Array.from(order);
  const out = new Map<string, ColumnData>();
  for (const [name, col] of columns) out.set(name, takeRows(col, idx));
  const newTime = out.get(timeColumn) as { values: Float64Array };
  return { rows: idx.length, columns: out, schema, timeColumn, time: newTime.values, droppedNoTime: missing };
}

export function takeRows(col: ColumnData, idx: Int32Array): ColumnData {
  switch (col.type) {
    case 'number':
    case 'integer':
    case 'timestamp': {
      const v = new Float64Array(idx.length);
      for (let i = 0; i < idx.length; i++) v[i] = col.values[idx[i]!]!;
      return { type: col.type, values: v };
    }
    case 'boolean': {
      const v = new Uint8Array(idx.length);
      for (let i = 0; i < idx.length; i++) v[i] = col.values[idx[i]!]!;
      return { type: 'boolean', values: v };
    }
    case 'category':
    case 'text': {
      const c = new Int32Array(idx.length);
      for (let i = 0; i < idx.length; i++) c[i] = col.codes[idx[i]!]!;
      return { type: col.type, codes: c, dictionary: col.dictionary };
    }
  }
}

/** Median spacing of consecutive times (ms), or null. */
export function medianInterval(time: Float64Array | null): number | null {
  if (!time || time.length < 2) return null;
  const step = Math.max(1, Math.floor((time.length - 1) / 20_000));
  const gaps: number[] = [];
  for (let i = step; i < time.length; i += step) {
    const g = time[i]! - time[i - 1]!;
    if (g > 0) gaps.push(g);
  }
  if (!gaps.length) return null;
  gaps.sort((a, b) => a - b);
  return gaps[gaps.length >> 1]!;
}

/** A numeric view of any column: numbers as they are, booleans 0/1, categories as NaN (they are one-hot encoded elsewhere). */
export function numericValues(col: ColumnData): Float64Array {
  switch (col.type) {
    case 'number':
    case 'integer':
    case 'timestamp':
      return col.values;
    case 'boolean': {
      const v = new Float64Array(col.values.length);
      for (let i = 0; i < v.length; i++) v[i] = col.values[i] === 255 ? NaN : col.values[i]!;
      return v;
    }
    default:
      return new Float64Array(col.codes.length).fill(NaN);
  }
}
