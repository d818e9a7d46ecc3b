import path from 'node:path';
import type { ColumnType, ProblemKind, ReadSettings } from '../../../../shared/datasets';
import { versionSummary } from '../../datasets/datasets';
import { dropStaging, finish, readFiles, readStaging, writeStaging, type Analysis, type Choice } from '../../datasets/import/pipeline';
import { recordVersion } from '../../datasets/versions';
import type { JobContext, JobKindDef } from '../job-kind';
import type { Workspace } from '../../workspace/workspace';

export interface SaveOptions {
  name: string;
  description?: string;
  choices?: Partial<Record<ProblemKind, Choice>>;
}

export interface AnalyzeJobParams {
  paths: string[];
  settings: ReadSettings;
  types?: Record<string, ColumnType>;
  /** Save at once with these options (the CLI), instead of staging for the wizard. */
  save?: SaveOptions;
}

type Finished = Awaited<ReturnType<typeof finish>> & { datasetName: string; description?: string };

/** What an import reports when it is saved: the CLI prints it as JSON. */
export interface ImportSummary {
  dataset: string;
  version: number;
  created: boolean;
  rows: number;
  columns: { name: string; type: ColumnType; unit: string | null; missing: number }[];
  problems: { kind: ProblemKind; title: string; count: number; choice: string; examples: unknown[] }[];
  rejectedRows: number;
}

function control(ctx: JobContext, from: number, to: number) {
  return {
    onProgress: (f: number, m?: string) => ctx.progress(from + (to - from) * f, m),
    checkCancelled: () => ctx.throwIfCancelled(),
  };
}

function commitFinished(ws: Workspace, r: Finished, examples: Map<string, unknown[]>): ImportSummary {
  const { missing, datasetName, description, ...rest } = r;
  const { record, created } = recordVersion(ws, { ...rest, datasetName, description });
  const summary = versionSummary(record);
  return {
    dataset: summary.dataset,
    version: summary.version,
    created,
    rows: summary.rows,
    columns: summary.columns.map((c, i) => ({ name: c.name, type: c.type, unit: c.unit, missing: missing[i] ?? 0 })),
    problems: record.report.problems.map((p) => ({
      kind: p.kind,
      title: p.title,
      count: p.count,
      choice: record.report.choices[p.kind] ?? p.defaultChoice,
      examples: examples.get(p.kind) ?? [],
    })),
    rejectedRows: record.report.rejectedRows,
  };
}

/** Reads files completely and reports every problem; stages the result for the wizard, or saves it at once for the CLI. */
export const importsAnalyze: JobKindDef<AnalyzeJobParams, (Analysis & { saved?: Finished; examples?: [string, unknown[]][] }) | ImportSummary> = {
  kind: 'imports.analyze',
  title: (p) => `Reading ${p.paths.length === 1 ? path.basename(p.paths[0]!) : `${p.paths.length} files`}`,
  async run(ctx, p) {
    const staged = await readFiles(p, control(ctx, 0, p.save ? 0.7 : 0.95));
    if (p.save) {
      const saved = await finish(staged, { workspaceDir: ctx.workspaceDir, name: p.save.name, choices: p.save.choices ?? {} }, control(ctx, 0.7, 1));
      return {
        stagingId: '',
        rows: staged.rowCount,
        blankLines: staged.blankLines,
        schema: staged.schema,
        problems: staged.problems,
        sources: staged.sources,
        saved: { ...saved, datasetName: p.save.name, description: p.save.description },
      };
    }
    ctx.progress(0.96, 'Keeping the result for review…');
    const stagingId = writeStaging(ctx.workspaceDir, staged);
    return { stagingId, rows: staged.rowCount, blankLines: staged.blankLines, schema: staged.schema, problems: staged.problems, sources: staged.sources };
  },
  commit(ws, _p, result) {
    if ('saved' in result && result.saved) {
      const examples = new Map(result.problems.map((pr) => [pr.kind as string, pr.examples as unknown[]]));
      return commitFinished(ws, result.saved, examples);
    }
    return result;
  },
};

export interface SaveJobParams extends SaveOptions {
  stagingId: string;
}

/** Saves a staged import as a dataset version with the person's choices. */
export const importsSave: JobKindDef<SaveJobParams, Finished & { examples: [string, unknown[]][]; stagingId: string }> = {
  kind: 'imports.save',
  title: (p) => `Saving ${p.name}`,
  async run(ctx, p) {
    const staged = readStaging(ctx.workspaceDir, p.stagingId);
    const saved = await finish(staged, { workspaceDir: ctx.workspaceDir, name: p.name, choices: p.choices ?? {} }, control(ctx, 0, 1));
    return {
      ...saved,
      datasetName: p.name,
      description: p.description,
      stagingId: p.stagingId,
      examples: staged.problems.map((pr) => [pr.kind, pr.examples]),
    };
  },
  commit(ws, _p, result) {
    const { examples, stagingId, ...finished } = result;
    const summary = commitFinished(ws, finished, new Map(examples));
    dropStaging(ws.dir, stagingId);
    return summary;
  },
};

