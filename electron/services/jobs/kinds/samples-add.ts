import fs from 'node:fs';
import path from 'node:path';
import { BlobStore } from '../../workspace/blobs';
import { samplePath } from '../../samples/catalog';
import { appRoot } from '../../app/app-root';
import { addSourceDataset, type SourceFileFacts } from '../../datasets/datasets';
import type { JobKindDef } from '../job-kind';

export interface SamplesAddResult extends SourceFileFacts {
  datasetId: string | null;
  alreadyPresent: boolean;
}

/** Copies a shipped sample into the workspace's blob store and registers it as a dataset. */
export const samplesAdd: JobKindDef<{ id: string }, SamplesAddResult> = {
  kind: 'samples.add',
  title: ({ id }) => `Adding sample data: ${sampleTitle(id)}`,
  async run(ctx, { id }) {
    const { path: file, entry } = samplePath(ctx.appRoot, id);
    const total = fs.statSync(file).size;
    ctx.progress(0, `Copying ${entry.fileName}…`);
    const blobs = new BlobStore(path.join(ctx.workspaceDir, 'blobs'), path.join(ctx.workspaceDir, 'tmp'));
    const controller = new AbortController();
    const { sha256, size } = await blobs.putFile(
      file,
      (copied) => {
        if (ctx.cancelled) controller.abort();
        ctx.progress((0.7 * copied) / total);
      },
      controller.signal,
    );
    ctx.throwIfCancelled();
    ctx.progress(0.7, 'Counting rows…');
    const { rows, columns } = quickShape(blobs.pathOf(sha256));
    ctx.progress(1, 'Done');
    return {
      datasetId: null,
      alreadyPresent: false,
      name: entry.title,
      description: entry.description,
      fileName: entry.fileName,
      sha256,
      size,
      rows,
      columns,
    };
  },
  commit(ws, _params, result) {
    const { id, created } = addSourceDataset(ws, result);
    return { ...result, datasetId: id, alreadyPresent: !created };
  },
};

/** Header and row count of a simple delimited text file; the import issue replaces this with the real reader. */
export function quickShape(file: string): { rows: number; columns: string[] } {
  const text = fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = lines[0] ?? '';
  const delimiter = [',', ';', '\t', '|'].reduce((best, d) => (header.split(d).length > header.split(best).length ? d : best), ',');
  const columns = header.split(delimiter).map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
  return { rows: Math.max(0, lines.length - 1), columns };
}

function sampleTitle(id: string): string {
  try {
    return samplePath(appRoot(), id).entry.title;
  } catch {
    return id;
  }
}
