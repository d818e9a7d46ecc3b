import type { SeriesResult } from '../../../shared/api';
import type { ColumnData } from '../../../shared/datasets';
import { minMaxDownsample } from '../../../shared/downsample';
import { AppError } from '../../../shared/errors';
import type { Workspace } from '../workspace/workspace';
import { cellValue, loadColumn } from './column-store';
import { findVersion, type VersionRecord } from './versions';

/**
 * Serves the table and chart views from stored versions. Columns are loaded
 * on first use and kept for the last few versions viewed, so scrolling and
 * zooming do not reread blobs.
 */
export class DatasetReader {
  private readonly cache = new Map<number, Map<string, ColumnData>>();

  constructor(
    private readonly ws: Workspace,
    private readonly maxVersions = 2,
  ) {}

  version(ref: string, version?: number): VersionRecord {
    return findVersion(this.ws.db, ref, version);
  }

  column(v: VersionRecord, name: string): ColumnData {
    let cols = this.cache.get(v.id);
    if (!cols) {
      cols = new Map();
      this.cache.set(v.id, cols);
      while (this.cache.size > this.maxVersions) this.cache.delete(this.cache.keys().next().value!);
    } else {
      // Most recently used last.
      this.cache.delete(v.id);
      this.cache.set(v.id, cols);
    }
    let col = cols.get(name);
    if (!col) {
      const stored = v.schema.find((c) => c.name === name);
      if (!stored) throw new AppError('not_found', `Dataset "${v.datasetName}" has no column "${name}".`, 'columns');
      col = loadColumn(this.ws.blobs, stored, v.rowCount);
      cols.set(name, col);
    }
    return col;
  }

  rows(ref: string, version: number | undefined, offset: number, limit: number): { total: number; rows: (string | number | boolean | null)[][] } {
    const v = this.version(ref, version);
    const end = Math.min(v.rowCount, offset + limit);
    const cols = v.schema.map((c) => this.column(v, c.name));
    const rows: (string | number | boolean | null)[][] = [];
    for (let r = offset; r < end; r++) rows.push(cols.map((c) => cellValue(c, r)));
    return { total: v.rowCount, rows };
  }

  series(ref: string, version: number | undefined, names: string[], buckets: number, from?: number, to?: number): SeriesResult {
    const v = this.version(ref, version);
    if (!v.timeColumn || v.timeStart === null || v.timeEnd === null) {
      throw new AppError('bad_input', `Dataset "${v.datasetName}" has no time column, so it cannot be drawn over time.`, 'dataset');
    }
    const t = this.column(v, v.timeColumn) as Extract<ColumnData, { values: Float64Array }>;
    const gapMs = 5 * medianStep(t.values);
    const lo = from ?? v.timeStart;
    const hi = to ?? v.timeEnd;
    if (!(hi > lo)) throw new AppError('bad_input', 'The end of the range must be after its start.', 'to');
    return {
      timeColumn: v.timeColumn,
      fullRange: [v.timeStart, v.timeEnd],
      from: lo,
      to: hi,
      series: names.map((name) => {
        const col = this.column(v, name);
        const stored = v.schema.find((c) => c.name === name)!;
        let y: Float64Array;
        if ('codes' in col) throw new AppError('bad_input', `"${name}" holds text, which cannot be drawn as a trend.`, 'columns');
        if (col.type === 'boolean') {
          y = new Float64Array(col.values.length);
          for (let i = 0; i < y.length; i++) y[i] = col.values[i] === 255 ? NaN : col.values[i]!;
        } else y = col.values;
        return { name, unit: stored.unit, data: minMaxDownsample(t.values, y, lo, hi, buckets, gapMs) };
      }),
    };
  }

  forget(): void {
    this.cache.clear();
  }
}

/** Typical sampling interval, from up to 1,000 steps spread over the column; a line breaks at gaps of five of them. */
function medianStep(t: Float64Array): number {
  const n = t.length;
  if (n < 2) return Infinity;
  const k = Math.min(1000, n - 1);
  const steps: number[] = [];
  for (let j = 0; j < k; j++) {
    const i = Math.floor((j * (n - 1)) / k);
    const d = t[i + 1]! - t[i]!;
    if (d > 0) steps.push(d);
  }
  if (!steps.length) return Infinity;
  steps.sort((a, b) => a - b);
  return steps[steps.length >> 1]!;
}
