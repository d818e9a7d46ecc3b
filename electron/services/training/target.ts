import type { ColumnData } from '../../../shared/datasets';
import { AppError } from '../../../shared/errors';
import type { Task } from '../../../shared/training';

/** The target as learners see it: numbers, or class indices into sorted class labels. */
export type Target =
  | { kind: 'regression'; y: Float64Array; usable: Int32Array }
  | { kind: 'classes'; y: Int32Array; classes: string[]; usable: Int32Array; counts: number[] };

/** Class labels from a column, with missing as null. */
export function labelsOf(col: ColumnData): (string | null)[] {
  const n = 'codes' in col ? col.codes.length : col.values.length;
  const out: (string | null)[] = new Array(n);
  for (let i = 0; i < n; i++) {
    switch (col.type) {
      case 'category':
      case 'text':
        out[i] = col.codes[i]! < 0 ? null : col.dictionary[col.codes[i]!]!;
        break;
      case 'boolean':
        out[i] = col.values[i] === 255 ? null : col.values[i] ? 'true' : 'false';
        break;
      default: {
        const v = col.values[i]!;
        out[i] = Number.isNaN(v) ? null : String(v);
      }
    }
  }
  return out;
}

/**
 * Sorted like scikit-learn's np.unique: numerically when every label is a
 * number, otherwise as text. The positive class of a binary goal is the last.
 */
export function sortClasses(labels: Iterable<string>): string[] {
  const list = [...new Set(labels)];
  const numeric = list.every((s) => s.trim() !== '' && Number.isFinite(Number(s)));
  return numeric ? list.sort((a, b) => Number(a) - Number(b)) : list.sort();
}

export function encodeTarget(col: ColumnData, name: string, task: Task): Target {
  if (task === 'regression') {
    if (col.type !== 'number' && col.type !== 'integer') {
      throw new AppError('bad_input', `"${name}" holds ${col.type === 'boolean' ? 'yes/no values' : 'text'}, so it cannot be predicted as a value. Choose "Predict a category or failure" instead.`, 'target');
    }
    const usable: number[] = [];
    for (let i = 0; i < col.values.length; i++) if (Number.isFinite(col.values[i]!)) usable.push(i);
    return { kind: 'regression', y: col.values, usable: Int32Array.from(usable) };
  }
  if (col.type === 'timestamp') throw new AppError('bad_input', `"${name}" is a time column; it cannot be predicted.`, 'target');
  const labels = labelsOf(col);
  const classes = sortClasses(labels.filter((l): l is string => l !== null));
  if (classes.length < 2) {
    throw new AppError('bad_input', `"${name}" has only one value${classes.length ? ` ("${classes[0]}")` : ''} in the data, so there is nothing to tell apart.`, 'target');
  }
  if (classes.length > 50) throw new AppError('bad_input', `"${name}" has ${classes.length} different values; a category goal handles at most 50. Predict it as a value instead.`, 'target');
  const index = new Map(classes.map((c, k) => [c, k]));
  const y = new Int32Array(labels.length).fill(-1);
  const counts = new Array<number>(classes.length).fill(0);
  const usable: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l === null || l === undefined) continue;
    const k = index.get(l)!;
    y[i] = k; counts[k]!++; usable.push(i);
  }
  return { kind: 'classes', y, classes, usable: Int32Array.from(usable), counts };
}
