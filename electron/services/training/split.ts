import { createRng, permutation } from './learners/rng';

/** Which rows train the model and which judge it. */
export interface Split {
  train: Int32Array;
  holdout: Int32Array;
  kind: 'time' | 'random';
  /** Time split: the holdout's first and last time. */
  from?: number;
  to?: number;
}

/**
 * The holdout is the last `fraction` of the time range: rows with a time at
 * or after start + (1 - fraction) × span. Never shuffled, so a model is
 * judged on a period it has not seen, as it will be in operation.
 */
export function timeSplit(time: Float64Array, usable: Int32Array, fraction: number): Split {
  if (usable.length === 0) return { train: new Int32Array(0), holdout: new Int32Array(0), kind: 'time' };
  const t0 = time[usable[0]!]!;
  const t1 = time[usable[usable.length - 1]!]!;
  const cut = t0 + (1 - fraction) * (t1 - t0);
  let k = 0;
  while (k < usable.length && time[usable[k]!]! < cut) k++;
  const holdout = usable.slice(k);
  return { train: usable.slice(0, k), holdout, kind: 'time', from: holdout.length ? time[holdout[0]!]! : cut, to: t1 };
}

/**
 * A seeded random split; with classes, each class is split in the same
 * proportion (stratified), so a rare failure class appears on both sides.
 */
export function randomSplit(usable: Int32Array, fraction: number, seed: number, classes?: Int32Array): Split {
  const rng = createRng(seed);
  const train: number[] = [];
  const holdout: number[] = [];
  const groups = new Map<number, number[]>();
  for (let k = 0; k < usable.length; k++) {
    const g = classes ? classes[usable[k]!]! : 0;
    let list = groups.get(g);
    if (!list) groups.set(g, (list = []));
    list.push(usable[k]!);
  }
  for (const g of [...groups.keys()].sort((a, b) => a - b)) {
    const rows = groups.get(g)!;
    const p = permutation(rows.length, rng);
    const nHold = Math.round(rows.length * fraction);
    for (let k = 0; k < rows.length; k++) (k < nHold ? holdout : train).push(rows[p[k]!]!);
  }
  train.sort((a, b) => a - b);
  holdout.sort((a, b) => a - b);
  return { train: Int32Array.from(train), holdout: Int32Array.from(holdout), kind: 'random' };
}

/** Splits off the last part of (time-ordered) training rows for early stopping and anomaly checks. */
export function tailSplit(rows: Int32Array, fraction: number): { fit: Int32Array; valid: Int32Array } {
  const k = Math.max(1, Math.min(rows.length - 1, Math.round(rows.length * (1 - fraction))));
  return { fit: rows.slice(0, k), valid: rows.slice(k) };
}
