import crypto from 'node:crypto';
import { exportOnnx, onnxSignature, type OnnxSignature } from '../onnx/export';
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
  const blob = ws.blobs.put(bytes);
  ws.db.prepare('UPDATE model_versions SET onnx_blob = ?, onnx_hash = ? WHERE id = ?').run(blob, hash, v.id);
  v.onnxBlob = blob;
  v.onnxHash = hash;
  return { bytes, hash, signature, pipeline };
}
