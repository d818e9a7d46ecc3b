import * as ort from 'onnxruntime-node';
import type { ColumnData } from '../../../shared/datasets';
import { AppError } from '../../../shared/errors';
import type { OnnxInput, OnnxSignature } from '../onnx/export';

/**
 * Running a model version's ONNX graph with ONNX Runtime (DESIGN.md section 7):
 * every prediction the app makes goes through here, in the app and in jobs.
 */

/** What the graph answers for a block of rows; arrays are in row order. */
export interface Scored {
  rows: number;
  /** Classifiers: the predicted class name. */
  label?: string[];
  /** Classifiers: rows × classes, in the signature's class order. */
  probabilities?: Float32Array;
  /** Regression. */
  value?: Float32Array;
  /** Anomaly models. */
  score?: Float32Array;
  anomaly?: Uint8Array;
  /** Linear models: rows × inputs, each input's push on the answer. */
  contributions?: Float32Array;
}

/** A model input's values for rows [start, end), as the graph takes them. */
export function inputTensor(input: OnnxInput, col: ColumnData, start: number, end: number): ort.Tensor {
  const n = end - start;
  if (input.type === 'string') {
    const out = new Array<string>(n);
    if ('codes' in col) {
      for (let i = 0; i < n; i++) {
        const c = col.codes[start + i]!;
        out[i] = c < 0 ? '' : col.dictionary[c]!;
      }
    } else if (col.type === 'boolean') {
      for (let i = 0; i < n; i++) out[i] = col.values[start + i] === 255 ? '' : col.values[start + i] ? 'true' : 'false';
    } else {
      for (let i = 0; i < n; i++) {
        const v = col.values[start + i]!;
        out[i] = Number.isNaN(v) ? '' : String(v);
      }
    }
    return new ort.Tensor('string', out, [n]);
  }
  const out = new Float32Array(n);
  if (col.type === 'boolean') {
    for (let i = 0; i < n; i++) {
      const v = col.values[start + i]!;
      out[i] = v === 255 ? NaN : v;
    }
  } else if ('codes' in col) {
    throw new AppError('bad_input', `"${input.name}" must hold numbers, but it holds text.`, input.name);
  } else {
    out.set(col.values.subarray(start, end));
  }
  return new ort.Tensor('float32', out, [n]);
}

/** The packed variant's numeric input: rows [start, end) of every numeric input, row after row ([n, columns] float32). */
export function packedTensor(packed: { columns: string[] }, sig: OnnxSignature, columns: ReadonlyMap<string, ColumnData>, start: number, end: number): ort.Tensor {
  const n = end - start;
  const m = packed.columns.length;
  const out = new Float32Array(n * m);
  packed.columns.forEach((name, j) => {
    const input = sig.inputs.find((i) => i.name === name)!;
    const col = columns.get(name);
    if (!col) throw new AppError('bad_input', `The data has no column "${name}", which the model needs.`, name);
    if ('codes' in col) throw new AppError('bad_input', `"${input.name}" must hold numbers, but it holds text.`, input.name);
    const v = col.values;
    if (col.type === 'boolean') {
      for (let i = 0; i < n; i++) {
        const b = v[start + i]!;
        out[i * m + j] = b === 255 ? NaN : b;
      }
    } else for (let i = 0; i < n; i++) out[i * m + j] = v[start + i]!;
  });
  return new ort.Tensor('float32', out, [n, m]);
}

/** The feeds of rows [from, end): one tensor per input, or the packed variant's numeric block and its category inputs. */
export function feedsFor(sig: OnnxSignature, columns: ReadonlyMap<string, ColumnData>, from: number, end: number): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  if (sig.packed) feeds[sig.packed.name] = packedTensor(sig.packed, sig, columns, from, end);
  for (const input of sig.inputs) {
    if (sig.packed && input.type === 'float32') continue;
    const col = columns.get(input.name);
    if (!col) throw new AppError('bad_input', `The data has no column "${input.name}", which the model needs.`, input.name);
    feeds[input.name] = inputTensor(input, col, from, end);
  }
  return feeds;
}

/** ORT's outputs for one block, in plain arrays. */
export function scoredFrom(out: ort.InferenceSession.ReturnType, rows: number): Scored {
  const s: Scored = { rows };
  if (out.label) s.label = out.label.data as string[];
  if (out.probabilities) s.probabilities = out.probabilities.data as Float32Array;
  if (out.value) s.value = out.value.data as Float32Array;
  if (out.score) s.score = out.score.data as Float32Array;
  if (out.anomaly) s.anomaly = Uint8Array.from(out.anomaly.data as BigInt64Array, (v) => (v ? 1 : 0));
  if (out.contributions) s.contributions = out.contributions.data as Float32Array;
  return s;
}

/** Row slice of a Scored block. */
function sliceScored(s: Scored, from: number, sig: OnnxSignature): Scored {
  if (from === 0) return s;
  const k = sig.classes?.length ?? 0;
  const m = sig.inputs.length;
  const out: Scored = { rows: s.rows - from };
  if (s.label) out.label = s.label.slice(from);
  if (s.probabilities) out.probabilities = s.probabilities.subarray(from * k);
  if (s.value) out.value = s.value.subarray(from);
  if (s.score) out.score = s.score.subarray(from);
  if (s.anomaly) out.anomaly = s.anomaly.subarray(from);
  if (s.contributions) out.contributions = s.contributions.subarray(from * m);
  return out;
}

export const CHUNK_ROWS = 16_384;

/**
 * Scores rows [0, rowCount) of columns named as the model's inputs, a block
 * at a time. Models with window features or lags see the `historyRows` rows
 * before each block too, so a block boundary changes nothing.
 */
export async function scoreColumns(
  session: ort.InferenceSession,
  sig: OnnxSignature,
  columns: ReadonlyMap<string, ColumnData>,
  rowCount: number,
  onBlock: (block: Scored, start: number) => void | Promise<void>,
  control: { checkCancelled?(): void; chunkRows?: number } = {},
): Promise<void> {
  const chunk = Math.max(1, control.chunkRows ?? CHUNK_ROWS);
  for (let start = 0; start < rowCount; start += chunk) {
    control.checkCancelled?.();
    const end = Math.min(rowCount, start + chunk);
    const from = Math.max(0, start - sig.historyRows);
    const out = await session.run(feedsFor(sig, columns, from, end));
    await onBlock(sliceScored(scoredFrom(out, end - from), start - from, sig), start);
  }
}

/**
 * Open ONNX Runtime sessions, kept by the hash of the graph they run (a
 * model version's bytes never change), the least recently used closed first.
 */
export class SessionCache {
  private readonly open = new Map<string, Promise<ort.InferenceSession>>();

  constructor(private readonly max = 8) {}

  get(hash: string, bytes: () => Uint8Array): Promise<ort.InferenceSession> {
    let s = this.open.get(hash);
    if (s) {
      this.open.delete(hash);
      this.open.set(hash, s);
      return s;
    }
    s = ort.InferenceSession.create(bytes(), { intraOpNumThreads: 1, interOpNumThreads: 1 });
    this.open.set(hash, s);
    s.catch(() => this.open.delete(hash));
    while (this.open.size > this.max) {
      const [oldest, p] = this.open.entries().next().value as [string, Promise<ort.InferenceSession>];
      this.open.delete(oldest);
      void p.then((x) => x.release()).catch(() => undefined);
    }
    return s;
  }

  get size(): number {
    return this.open.size;
  }

  async close(): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    await Promise.all(all.map((p) => p.then((s) => s.release()).catch(() => undefined)));
  }
}
