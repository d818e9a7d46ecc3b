import crypto from 'node:crypto';
import { exportOnnx, onnxSignature, packedSignature, type OnnxSignature } from '../onnx/export';
import type { FittedPipeline } from '../training/pipeline';
import type { ModelVersionRecord } from '../training/models';
import type { Workspace } from '../workspace/workspace';

export interface StoredOnnx {
  bytes: Buffer;
  hash: string;
  signature: OnnxSignature;
  pipeline: FittedPipeline;
}

export function readPipeline(ws: Workspace, v: ModelVersionRecord): FittedPipeline {
  return JSON.parse(ws.blobs.read(v.modelBlob).toString('utf8')) as FittedPipeline;
}

/**
 * The model version's ONNX graph. Written from the fitted pipeline the first
 * time it is asked for (training asks at once) and kept as a blob. Its
 * metadata carries the version's own name, number and training app version,
 * so the bytes are the same whenever and wherever they are written.
 */
export function modelOnnx(ws: Workspace, v: ModelVersionRecord): StoredOnnx {
  const pipeline = readPipeline(ws, v);
  const signature = onnxSignature(pipeline);
  if (v.onnxBlob && v.onnxHash) return { bytes: ws.blobs.read(v.onnxBlob), hash: v.onnxHash, signature, pipeline };
  const bytes = Buffer.from(exportOnnx(pipeline, { modelName: v.model, modelVersion: v.version, appVersion: v.appVersion }));
  const hash = crypto.createHash('sha256').update(bytes).digest('hex');
  // Written and recorded under the write lock: a sweep of unreferenced blobs (blob-sweep.ts) cannot come in between.
  const blob = ws.db
    .transaction(() => {
      const b = ws.blobs.put(bytes);
      ws.db.prepare('UPDATE model_versions SET onnx_blob = ?, onnx_hash = ? WHERE id = ?').run(b, hash, v.id);
      return b;
    })
    .immediate();
  v.onnxBlob = blob;
  v.onnxHash = hash;
  return { bytes, hash, signature, pipeline };
}

/**
 * The variant of a version's graph that the app runs in process for rows
 * typed or sent one at a time: the numeric inputs in one [N, columns] tensor
 * (see `packedSignature`), the same answers to the bit (parity.test.ts). Not
 * stored: written from the pipeline when a session is opened.
 */
export function packedOnnx(v: ModelVersionRecord, stored: StoredOnnx): { key: string; signature: OnnxSignature; bytes: () => Uint8Array } {
  return {
    key: `${stored.hash}:packed`,
    signature: packedSignature(stored.pipeline),
    bytes: () => exportOnnx(stored.pipeline, { modelName: v.model, modelVersion: v.version, appVersion: v.appVersion }, { packed: true }),
  };
}
