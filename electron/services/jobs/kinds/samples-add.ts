import { samplePath } from '../../samples/catalog';
import { appRoot } from '../../app/app-root';
import { sniffAny } from '../../datasets/import/sniff-any';
import { importsAnalyze, type AnalyzeJobParams } from './imports';
import type { JobKindDef } from '../job-kind';

type AnalyzeResult = Awaited<ReturnType<typeof importsAnalyze.run>>;

/** Imports a shipped sample with the settings the importer detects, as a person clicking through the wizard's defaults would. */
export const samplesAdd: JobKindDef<{ id: string }, AnalyzeResult> = {
  kind: 'samples.add',
  title: ({ id }) => `Adding sample data: ${sampleTitle(id)}`,
  async run(ctx, { id }) {
    const { path: file, entry } = samplePath(ctx.appRoot, id);
    ctx.progress(0, `Reading ${entry.fileName}…`);
    const sniffed = await sniffAny(file);
    const params: AnalyzeJobParams = { paths: [file], settings: sniffed.settings, save: { name: entry.title, description: entry.description } };
    return importsAnalyze.run(ctx, params);
  },
  commit(ws, _params, result) {
    return importsAnalyze.commit!(ws, { paths: [], settings: null as never }, result);
  },
};

function sampleTitle(id: string): string {
  try {
    return samplePath(appRoot(), id).entry.title;
  } catch {
    return id;
  }
}
