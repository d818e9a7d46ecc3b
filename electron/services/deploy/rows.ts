import * as ort from 'onnxruntime-node';
import type { ColumnData } from '../../../shared/datasets';
import { AppError } from '../../../shared/errors';
import { findVersion } from '../datasets/versions';
import type { OnnxSignature } from '../onnx/export';
import { scoreColumns, type Scored } from '../scoring/inference';
import { modelOnnx, type StoredOnnx } from '../scoring/onnx-store';
import { splitRows } from '../training/automl';
import { loadFrame, type Frame } from '../training/frame';
import type { ModelVersionRecord } from '../training/models';
import type { Split } from '../training/split';
import { encodeTarget } from '../training/target';
import type { Workspace } from '../workspace/workspace';

/**
 * The rows a model version was trained and judged on, as training saw them:
 * its dataset version's columns in time order, and the same training/holdout
 * split (registry/compare.ts finds a holdout the same way).
 */
export interface VersionRows {
  frame: Frame;
  split: Split;
  stored: StoredOnnx;
  sig: OnnxSignature;
}

export function versionRows(ws: Workspace, v: ModelVersionRecord): VersionRows {
  const stored = modelOnnx(ws, v);
  const sig = stored.signature;
  const s = v.settings;
  const dv = findVersion(ws.db, v.dataset, v.datasetVersion);
  const names = [...new Set([...sig.inputs.map((i) => i.name), ...(s.target ? [s.target] : [])])];
  const missing = names.filter((n) => !dv.schema.some((c) => c.name === n));
  if (missing.length) throw new AppError('bad_input', `${v.dataset}@${v.datasetVersion} no longer has the column ${missing.map((n) => `"${n}"`).join(', ')} that ${v.model}@${v.version} was trained on.`, 'model');
  const frame = loadFrame(ws.blobs, dv.schema, dv.rowCount, names, s.timeColumn);
  const target = s.target ? encodeTarget(frame.columns.get(s.target)!, s.target, s.task) : null;
  const usable = target ? target.usable : Int32Array.from({ length: frame.rows }, (_, i) => i);
  return { frame, split: splitRows(frame, s, target, usable), stored, sig };
}

/** The graph's answers for every row of the frame, with ONNX Runtime (window models see the rows before each one). */
export async function scoreFrame(stored: StoredOnnx, frame: Frame, rows = frame.rows): Promise<Scored> {
  const session = await ort.InferenceSession.create(stored.bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const parts: Scored[] = [];
  try {
    await scoreColumns(session, stored.signature, frame.columns, rows, (b) => { parts.push(b); });
  } finally {
    await session.release();
  }
  if (parts.length === 1) return parts[0]!;
  const join = <T extends Float32Array | Uint8Array>(get: (s: Scored) => T | undefined, make: (n: number) => T): T | undefined => {
    if (!parts.length || !get(parts[0]!)) return undefined;
    const out = make(parts.reduce((n, p) => n + get(p)!.length, 0));
    let at = 0;
    for (const p of parts) { out.set(get(p)! as never, at); at += get(p)!.length; }
    return out;
  };
  const out: Scored = { rows: parts.reduce((n, p) => n + p.rows, 0) };
  if (parts[0]?.label) out.label = parts.flatMap((p) => p.label!);
  const f32 = (n: number) => new Float32Array(n);
  const pr = join((p) => p.probabilities, f32), va = join((p) => p.value, f32), sc = join((p) => p.score, f32), an = join((p) => p.anomaly, (n) => new Uint8Array(n));
  if (pr) out.probabilities = pr;
  if (va) out.value = va;
  if (sc) out.score = sc;
  if (an) out.anomaly = an;
  return out;
}

/** A cell as text the way the graph's string inputs take it ('' for missing), as scoring/inference.ts does. */
export function textCell(col: ColumnData, i: number): string {
  if ('codes' in col) {
    const c = col.codes[i]!;
    return c < 0 ? '' : col.dictionary[c]!;
  }
  if (col.type === 'boolean') return col.values[i] === 255 ? '' : col.values[i] ? 'true' : 'false';
  const v = col.values[i]!;
  return Number.isNaN(v) ? '' : String(v);
}
