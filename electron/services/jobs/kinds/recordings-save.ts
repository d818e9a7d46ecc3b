/**
 * "Save as dataset" of a recording (issue 10): a time range of the recording's
 * buffer becomes a dataset version through the import pipeline's long-format
 * path, exactly as a historian export would (recording/to-long.ts writes it
 * as one; the pivot puts it on the grid). The version keeps its lineage: the
 * source, the tags and their columns, the range and the grid, in its settings
 * (`recording`, with the same in words as `lineage`) and in
 * recording_datasets.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ColumnType, ProblemKind, ReadSettings } from '../../../../shared/datasets';
import { AppError } from '../../../../shared/errors';
import { SOURCE_KIND_TITLES, type SourceKind, type Tag } from '../../../../shared/recording';
import { versionSummary } from '../../datasets/datasets';
import { formatInterval } from '../../datasets/import/long-format';
import { finish, readFiles } from '../../datasets/import/pipeline';
import { localText } from '../../datasets/import/timestamps';
import { recordVersion } from '../../datasets/versions';
import { writeLongCsv } from '../../recording/to-long';
import type { Workspace } from '../../workspace/workspace';
import type { JobContext, JobKindDef } from '../job-kind';
import type { ImportSummary } from './imports';

export interface RecordingSaveParams {
  recordingId: number;
  /** The recording's buffer folder. */
  dir: string;
  tags: Tag[];
  /** ms since 1970, both included. */
  from: number;
  to: number;
  intervalMs: number;
  aggregate: 'mean' | 'last';
  /** The dataset to add the version to (made when new). */
  name: string;
  /** The person's words; the lineage sentence is added after them. */
  description?: string;
  source: { kind: SourceKind; url: string; name: string };
}

/** What the recording a version came from was: kept in the version's settings. */
export interface RecordingLineage {
  id: number;
  source: { kind: SourceKind; url: string; name: string };
  /** Each tag with the column it became. */
  tags: { id: string; name: string; column: string | null }[];
  from: string;
  to: string;
  intervalMs: number;
  aggregate: 'mean' | 'last';
  timeZone: string;
  samples: number;
}

type Saved = Awaited<ReturnType<typeof finish>>;

interface RunResult {
  saved: Saved;
  recording: RecordingLineage;
  lineage: string;
  examples: [string, unknown[]][];
}

export type RecordingSaveSummary = ImportSummary & { lineage: string };

const AGGREGATE_WORDS = { mean: 'the mean of the values in each interval', last: 'the last value in each interval' } as const;

/** "2026-11-26 10.00" (seconds only when not 0), for a file name a person reads in the dataset's lineage. */
function fileTime(t: number, timeZone: string, withDate: boolean): string {
  const text = localText(Math.floor(t / 1000) * 1000, timeZone); // 2026-11-26 10:00:00
  const [date, clock] = text.split(' ') as [string, string];
  const hm = clock.endsWith(':00') ? clock.slice(0, 5) : clock;
  return `${withDate ? `${date} ` : ''}${hm.replace(/:/g, '.')}`;
}

export function scratchName(sourceName: string, from: number, to: number, timeZone: string): string {
  const sameDay = localText(from, timeZone).slice(0, 10) === localText(to, timeZone).slice(0, 10);
  const name = `${sourceName} ${fileTime(from, timeZone, true)}-${fileTime(to, timeZone, !sameDay)}`;
  // Characters Windows or macOS refuse in file names, and control characters.
  // eslint-disable-next-line no-control-regex
  return `${name.replace(/[<>:"/\\|?*\u0000-\u001f]/g, '-').replace(/[. ]+$/, '').slice(0, 150)}.csv`;
}

function lineageWords(p: RecordingSaveParams, columns: (string | null)[], timeZone: string): string {
  const tags = p.tags.map((t, i) => `${t.id} as "${columns[i] ?? t.name}"${columns[i] === null ? ' (no values)' : ''}`).join('; ');
  return (
    `Recorded from ${SOURCE_KIND_TITLES[p.source.kind]} "${p.source.name}" (${p.source.url}), recording ${p.recordingId}. ` +
    `Tags: ${tags}. ` +
    `Range: ${localText(p.from, timeZone)} to ${localText(p.to, timeZone)} (${timeZone}; ${new Date(p.from).toISOString()} to ${new Date(p.to).toISOString()}), ` +
    `on a ${formatInterval(p.intervalMs)} grid with ${AGGREGATE_WORDS[p.aggregate]}; a tag's last value is held until its next one, never across a gap in the recording.`
  );
}

/** The dataset's description: one short sentence a person reads in lists (the full lineage stays in the version's settings). */
function shortWords(p: RecordingSaveParams, timeZone: string): string {
  const sameDay = localText(p.from, timeZone).slice(0, 10) === localText(p.to, timeZone).slice(0, 10);
  const to = sameDay ? localText(p.to, timeZone).slice(11, 16) : localText(p.to, timeZone).slice(0, 16);
  return `Recorded from ${SOURCE_KIND_TITLES[p.source.kind]} "${p.source.name}": ${p.tags.length} tag${p.tags.length === 1 ? '' : 's'}, ${localText(p.from, timeZone).slice(0, 16)} to ${to} (${timeZone}), every ${formatInterval(p.intervalMs)}.`;
}

function check(p: RecordingSaveParams): void {
  if (!p.tags.length) throw new AppError('bad_input', 'The recording has no tags to save.', 'tags');
  const seen = new Set<string>();
  for (const t of p.tags) {
    if (seen.has(t.name)) throw new AppError('bad_input', `Two tags are called "${t.name}". Each tag becomes a column, so their names must differ: rename one.`, 'tags');
    seen.add(t.name);
  }
}

/** Turns a time range of a recording into a dataset version; the result is what an import reports, with the lineage sentence. */
export const recordingsSave: JobKindDef<RecordingSaveParams, RunResult> = {
  kind: 'recordings.save',
  title: (p) => `Saving ${p.name} from the recording of ${p.source.name}`,
  async run(ctx: JobContext, p) {
    check(p);
    const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    // In tmp/uploads, so Workspace.cleanScratch removes it should this process die before the end.
    const scratch = path.join(ctx.workspaceDir, 'tmp', 'uploads', `recording-${p.recordingId}-${crypto.randomBytes(4).toString('hex')}`);
    fs.mkdirSync(scratch, { recursive: true });
    try {
      const file = path.join(scratch, scratchName(p.source.name, p.from, p.to, timeZone));
      const written = writeLongCsv(p.dir, p.tags, { from: p.from, to: p.to, intervalMs: p.intervalMs }, file, {
        onProgress: (f, m) => ctx.progress(0.4 * f, m),
        checkCancelled: () => ctx.throwIfCancelled(),
      });
      if (written.samples === 0) {
        throw new AppError('bad_input', `The recording has no samples between ${localText(p.from, timeZone)} and ${localText(p.to, timeZone)} (${timeZone}). Choose a range in which it recorded values.`, 'from');
      }
      const settings: ReadSettings = {
        encoding: 'utf-8',
        delimiter: ',',
        decimal: '.',
        thousands: '',
        skipLines: 0,
        hasHeader: true,
        timeColumn: 'time',
        timeFormat: 'iso',
        timeZone,
        longFormat: { tagColumn: 'tag', valueColumn: 'value', qualityColumn: 'quality', intervalMs: p.intervalMs, aggregate: p.aggregate },
      };
      // Tag names are text even when they look like numbers or dates.
      const types: Record<string, ColumnType> = { time: 'timestamp', tag: 'category', value: 'number', quality: 'category' };
      const staged = await readFiles(
        { paths: [file], settings, types },
        { onProgress: (f, m) => ctx.progress(0.4 + 0.35 * f, m), checkCancelled: () => ctx.throwIfCancelled() },
      );

      // Columns in the recording's order of tags (the pivot sorts them by name), with the tags' units.
      const timeAt = staged.schema.findIndex((c) => c.header === 'time');
      const tagAt = p.tags.map((t) => staged.schema.findIndex((c, j) => j !== timeAt && c.header === t.name));
      const order = [timeAt, ...tagAt.filter((j) => j >= 0)];
      for (let j = 0; j < staged.schema.length; j++) if (!order.includes(j)) order.push(j);
      staged.schema = order.map((j) => {
        const k = tagAt.indexOf(j);
        const unit = k >= 0 ? (p.tags[k]!.unit ?? null) : null;
        return { ...staged.schema[j]!, unit: unit ?? staged.schema[j]!.unit };
      });
      staged.columns = order.map((j) => staged.columns[j]!);
      const columns = tagAt.map((j) => (j >= 0 ? staged.schema[order.indexOf(j)]!.name : null));

      const saved = await finish(staged, { workspaceDir: ctx.workspaceDir, name: p.name, choices: {} }, { onProgress: (f, m) => ctx.progress(0.75 + 0.25 * f, m), checkCancelled: () => ctx.throwIfCancelled() });
      const lineage = lineageWords(p, columns, timeZone);
      const recording: RecordingLineage = {
        id: p.recordingId,
        source: p.source,
        tags: p.tags.map((t, i) => ({ id: t.id, name: t.name, column: columns[i]! })),
        from: new Date(p.from).toISOString(),
        to: new Date(p.to).toISOString(),
        intervalMs: p.intervalMs,
        aggregate: p.aggregate,
        timeZone,
        samples: written.samples,
      };
      return { saved, recording, lineage, examples: staged.problems.map((pr) => [pr.kind, pr.examples]) };
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  },
  commit(ws: Workspace, p, r): RecordingSaveSummary {
    return ws.db.transaction(() => {
      const { missing, ...v } = r.saved;
      const description = p.description?.trim() || shortWords(p, r.recording.timeZone);
      const { record, created } = recordVersion(ws, { ...v, datasetName: p.name, description, settings: { ...v.settings, recording: r.recording, lineage: r.lineage } });
      const exists = ws.db.prepare('SELECT 1 FROM recordings WHERE id = ?').get(p.recordingId);
      if (exists) {
        ws.db
          .prepare('INSERT OR IGNORE INTO recording_datasets (recording_id, version_id, from_at, to_at, interval_ms) VALUES (?, ?, ?, ?, ?)')
          .run(p.recordingId, record.id, r.recording.from, r.recording.to, p.intervalMs);
      }
      ws.audit.record('recording.save', {
        recording: p.recordingId,
        dataset: record.datasetName,
        version: record.version,
        created,
        from: r.recording.from,
        to: r.recording.to,
        intervalMs: p.intervalMs,
        samples: r.recording.samples,
      });
      const summary = versionSummary(record);
      const examples = new Map(r.examples);
      return {
        dataset: summary.dataset,
        version: summary.version,
        created,
        rows: summary.rows,
        columns: summary.columns.map((c, i) => ({ name: c.name, type: c.type, unit: c.unit, missing: missing[i] ?? 0 })),
        problems: record.report.problems.map((pr) => ({
          kind: pr.kind as ProblemKind,
          title: pr.title,
          count: pr.count,
          choice: record.report.choices[pr.kind] ?? pr.defaultChoice,
          examples: examples.get(pr.kind) ?? [],
        })),
        rejectedRows: record.report.rejectedRows,
        lineage: r.lineage,
      };
    })();
  },
};
