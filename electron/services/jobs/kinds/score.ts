import path from 'node:path';
import { runScoring, type ScoreParams, type ScoreResult } from '../../scoring/batch';
import { keepBatch } from '../../feedback/episodes';
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
    const { flagged, ...result } = r;
    ws.audit.record('model.score', { model: p.model, version: p.version, file: p.file, out: p.out, rows: r.rows, metrics: r.metrics });
    // A scoring run's flagged rows become episodes at the next feedback scan (compose.ts starts one when the job is done), not part of the job's result; a check of the model (no output file) only measures.
    if (flagged?.length && p.out !== null) keepBatch(ws, p, { model: p.model, version: p.version, rows: flagged });
    return result;
  },
};
