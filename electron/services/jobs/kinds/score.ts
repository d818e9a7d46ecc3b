import path from 'node:path';
import { runScoring, type ScoreParams, type ScoreResult } from '../../scoring/batch';
import { BlobStore } from '../../workspace/blobs';
import type { JobKindDef } from '../job-kind';

/** Scores a file with a model version's ONNX graph (and evaluates it when the file holds the answers). */
export const modelsScore: JobKindDef<ScoreParams, ScoreResult> = {
  kind: 'models.score',
  title: (p) => `${p.out ? 'Scoring' : 'Checking'} ${path.basename(p.file)} with "${p.model}" version ${p.version}`,
  run(ctx, p) {
    const blobs = new BlobStore(path.join(ctx.workspaceDir, 'blobs'), path.join(ctx.workspaceDir, 'tmp'));
    return runScoring(p, blobs.read(p.onnxBlob), ctx);
  },
  commit(ws, p, r) {
    ws.audit.record('model.score', { model: p.model, version: p.version, file: p.file, out: p.out, rows: r.rows, metrics: r.metrics });
    return r;
  },
};
