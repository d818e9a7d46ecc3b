import path from 'node:path';
import { loadColumn, type StoredColumn } from '../../datasets/column-store';
import { profileDataset } from '../../datasets/profile';
import { BlobStore } from '../../workspace/blobs';
import type { JobKindDef } from '../job-kind';

export interface ProfileParams {
  versionId: number;
  dataset: string;
  version: number;
  rowCount: number;
  schema: StoredColumn[];
}

/**
 * Works out a version's profile from its stored columns and keeps it as a
 * blob. The profile is derived data: the same columns always give the same
 * profile, so it is made once, the first time someone looks.
 */
export const datasetsProfile: JobKindDef<ProfileParams, { profileBlob: string }> = {
  kind: 'datasets.profile',
  title: (p) => `Working out statistics of ${p.dataset}`,
  run(ctx, p) {
    const blobs = new BlobStore(path.join(ctx.workspaceDir, 'blobs'), path.join(ctx.workspaceDir, 'tmp'));
    ctx.progress(0, 'Loading columns…');
    const columns = p.schema.map((c, i) => {
      ctx.throwIfCancelled();
      ctx.progress((0.4 * i) / p.schema.length);
      return loadColumn(blobs, c, p.rowCount);
    });
    ctx.progress(0.4, 'Computing statistics…');
    const profile = profileDataset(p.schema, columns);
    return { profileBlob: blobs.put(JSON.stringify(profile)) };
  },
  commit(ws, p, result) {
    // Written once: a second look that raced this one finds the same blob.
    ws.db.prepare('UPDATE dataset_versions SET profile_blob = ? WHERE id = ? AND profile_blob IS NULL').run(result.profileBlob, p.versionId);
    return result;
  },
};
