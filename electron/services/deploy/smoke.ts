import * as ort from 'onnxruntime-node';
import type { ColumnData } from '../../../shared/datasets';
import type { DeployCheck } from '../../../shared/deploy';
import { cellValue } from '../datasets/column-store';
import { scoreColumns, type Scored } from '../scoring/inference';
import { numericValues, takeRows } from '../training/frame';
import type { EdgePrediction } from './client';
import { textCell, type VersionRows } from './rows';

/**
 * The smoke test of a deployment: holdout rows of the version sent to the
 * endpoint's /predict, its answers compared with the app's own (ONNX Runtime
 * in this process, on the same model.onnx).
 */

export const SMOKE_ROWS = 20;
/**
 * Sent with the smoke test's request: the endpoint answers and counts it in
 * /metrics as any other, but leaves its rows out of the monitoring buckets
 * and anomaly events, so 20 holdout rows right after a deploy are not taken
 * for live traffic (resources/runtime/lib/app.js).
 */
export const SMOKE_HEADERS: Readonly<Record<string, string>> = { 'X-Millwright-Check': 'smoke' };
/** Numbers may differ by this much; labels and flags not at all. */
export const SMOKE_TOLERANCE = 1e-6;

export interface SmokePlan {
  /** The rows to send, in order (window models: the past rows first). */
  request: Record<string, unknown>[];
  /** For each compared row: its place in the request and its row number in the dataset version (time order). */
  compare: { at: number; row: number }[];
  /** The app's answers for the whole request, in request order. */
  expected: Scored;
  classes: string[] | null;
  /** The `source` field added to every row (window models), or null. */
  source: string | null;
}

/** A row as /predict takes it: each input by name, null when missing. */
function requestRow(rows: VersionRows, cols: Map<string, ColumnData>, i: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const input of rows.sig.inputs) {
    const col = cols.get(input.name)!;
    if (input.type === 'string') {
      const t = textCell(col, i);
      out[input.name] = t === '' ? null : t;
    } else if (input.kind === 'boolean') {
      out[input.name] = cellValue(col, i);
    } else {
      const x = numericValues(col)[i]!;
      out[input.name] = Number.isFinite(x) ? x : null;
    }
  }
  return out;
}

/**
 * Up to SMOKE_ROWS rows of the version's holdout, and the app's answers for
 * them. Models that read history get the rows before the first one as well,
 * sent in the same request under a source of their own, so the endpoint's
 * window sees the same past as the app does.
 */
export async function smokePlan(rows: VersionRows, opts: { source?: string; timeColumn?: string | null } = {}): Promise<SmokePlan> {
  const { frame, split, stored, sig } = rows;
  const hold = split.holdout.length ? split.holdout : split.train;
  let picked: Int32Array;
  let range: Int32Array;
  if (sig.historyRows > 0) {
    // A contiguous stretch: the past the first compared row needs, then the rows up to the last one.
    const first = hold[0]!;
    const from = Math.max(0, first - sig.historyRows);
    const last = hold[Math.min(hold.length, SMOKE_ROWS) - 1]!;
    const to = Math.min(last, first + SMOKE_ROWS * 10);
    picked = hold.filter((i) => i <= to).slice(0, SMOKE_ROWS);
    range = Int32Array.from({ length: to - from + 1 }, (_, k) => from + k);
  } else {
    picked = hold.slice(0, SMOKE_ROWS);
    range = picked;
  }
  const cols = new Map<string, ColumnData>();
  for (const input of sig.inputs) cols.set(input.name, takeRows(frame.columns.get(input.name)!, range));
  const session = await ort.InferenceSession.create(stored.bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  let expected: Scored | null = null;
  try {
    await scoreColumns(session, sig, cols, range.length, (b) => { expected = b; }, { chunkRows: range.length });
  } finally {
    await session.release();
  }
  const position = new Map(Array.from(range, (row, at) => [row, at]));
  const time = sig.historyRows > 0 && opts.timeColumn && frame.time ? frame.time : null;
  const source = opts.source && sig.historyRows > 0 && !sig.inputs.some((i) => i.name === 'source') ? opts.source : null;
  const request = Array.from(range, (row, at) => {
    const r = requestRow(rows, cols, at);
    if (time && opts.timeColumn && Number.isFinite(time[row]!)) r[opts.timeColumn] = new Date(time[row]!).toISOString();
    if (source) r.source = source;
    return r;
  });
  return { request, compare: Array.from(picked, (row) => ({ at: position.get(row)!, row })), expected: expected!, classes: sig.classes, source };
}

const num = (x: unknown): number => (typeof x === 'number' ? x : x === null || x === undefined ? NaN : Number(x));

/** The largest difference between two numbers; two missing count as equal, one missing as infinitely far. */
function gap(a: number, b: number): number {
  if (Number.isNaN(a) && Number.isNaN(b)) return 0;
  if (Number.isNaN(a) || Number.isNaN(b)) return Infinity;
  return Math.abs(a - b);
}

const show = (x: number) => (x === 0 ? '0' : x === Infinity ? 'a missing value' : x.toExponential(1));

/** Compares the endpoint's answers with the app's, row by row: labels identical, numbers within SMOKE_TOLERANCE. */
export function compareAnswers(plan: SmokePlan, got: EdgePrediction[]): DeployCheck {
  const e = plan.expected;
  const k = plan.classes?.length ?? 0;
  let labelDiffers = 0, numberDiffers = 0, largest = 0, worstRow = -1;
  for (const { at, row } of plan.compare) {
    const g = got[at] ?? {};
    let labelOk = true;
    let rowGap = 0;
    if (e.label) {
      labelOk = g.prediction === e.label[at];
      for (let c = 0; c < k; c++) rowGap = Math.max(rowGap, gap(e.probabilities![at * k + c]!, num(g.probabilities?.[plan.classes![c]!])));
    } else if (e.anomaly) {
      labelOk = g.anomaly === (e.anomaly[at] === 1);
      rowGap = gap(e.score![at]!, num(g.score));
    } else if (e.value) {
      rowGap = gap(e.value[at]!, num(g.prediction));
    }
    if (!labelOk) labelDiffers++;
    if (rowGap > SMOKE_TOLERANCE) numberDiffers++;
    if (rowGap > largest || (!labelOk && worstRow < 0)) {
      largest = Math.max(largest, rowGap);
      worstRow = row;
    }
  }
  const n = plan.compare.length;
  const rows = `${n} test row${n === 1 ? '' : 's'} (set aside when the model was trained)`;
  const what = e.label ? 'labels' : e.anomaly ? 'flags' : null;
  if (!labelDiffers && !numberDiffers) {
    return { name: 'smoke', ok: true, detail: `${rows}: the endpoint's answers match the app's (${what ? `${what} identical, ` : ''}largest difference ${show(largest)}).` };
  }
  const parts: string[] = [];
  if (labelDiffers) parts.push(`${what} differ on ${labelDiffers} row${labelDiffers === 1 ? '' : 's'}`);
  if (numberDiffers) parts.push(`${numberDiffers} row${numberDiffers === 1 ? '' : 's'} differ by more than ${SMOKE_TOLERANCE}`);
  return { name: 'smoke', ok: false, detail: `${rows}: the endpoint's answers do not match the app's: ${parts.join('; ')} (largest difference ${show(largest)}${worstRow >= 0 ? `, row ${worstRow + 1}` : ''}).` };
}

/** A curl command line that calls /predict with one row (single quotes in it escaped for a POSIX shell). */
export function curlLine(url: string, token: string | null, row: Record<string, unknown>): string {
  const body = JSON.stringify(row).replace(/'/g, "'\\''");
  return `curl -sS -H "Authorization: Bearer ${token ?? '$TOKEN'}" -H "Content-Type: application/json" -d '${body}' ${url.replace(/\/+$/, '')}/predict`;
}
