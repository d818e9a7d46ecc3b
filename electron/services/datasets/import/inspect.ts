import fs from 'node:fs';
import path from 'node:path';
import type { InspectResult } from '../../../../shared/api';
import type { ColumnType, ReadSettings } from '../../../../shared/datasets';
import { AppError } from '../../../../shared/errors';
import { cellValue } from '../column-store';
import { readDelimited } from './csv-reader';
import { inspectExcelInWorker, isExcelFile, LONG_PREVIEW_ROWS } from './excel';
import { describeLongFormat, pivotLong } from './long-format';
import type { SniffResult } from './sniff';
import { sniffAny } from './sniff-any';
import type { ParsedTable } from './table';

const PREVIEW_ROWS = 50;

/**
 * What the wizard's "how we read it" step shows: the detected settings (with
 * the person's changes applied), the columns and their types, and the first
 * rows exactly as the import will read them. Reads at most the first 1 MB.
 */
export async function inspectFiles(paths: string[], overrides: Partial<ReadSettings> = {}, types: Record<string, ColumnType> = {}): Promise<InspectResult> {
  const files = paths.map((p) => {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch {
      throw new AppError('not_found', `${p} does not exist. Check the path and try again.`, 'paths');
    }
    if (st.isDirectory()) throw new AppError('bad_input', `${p} is a folder. Choose the files inside it.`, 'paths');
    return { path: p, fileName: path.basename(p), sizeBytes: st.size };
  });
  const first = paths[0]!;
  let sniffed: SniffResult;
  let table: ParsedTable;
  let sheets: string[] | undefined;
  if (isExcelFile(first)) {
    // Workbooks are parsed in a worker thread, never on this one.
    const r = await inspectExcelInWorker(first, overrides, types);
    sniffed = r.sniff;
    table = r.previewTable;
    sheets = r.previewTable.sheets;
  } else {
    sniffed = await sniffAny(first, overrides);
    const schema = sniffed.schema.map((c) => ({ ...c, type: types[c.header] ?? c.type }));
    // A long file needs many rows for a few pivoted ones.
    table = await readDelimited(first, sniffed.settings, schema, { maxRows: sniffed.settings.longFormat ? LONG_PREVIEW_ROWS : PREVIEW_ROWS });
  }
  let settings = sniffed.settings;
  const explanations = { ...sniffed.explanations } as Record<string, string>;
  const longFormat = settings.longFormat;
  if (longFormat) {
    try {
      const pivoted = pivotLong(table, { ...settings, longFormat });
      table = pivoted;
      const sentence = describeLongFormat(longFormat, sniffed.schema, sniffed.preview, pivoted.intervalMs);
      explanations.longFormat = overrides.longFormat ? `You chose to read the file as historian long format. ${sentence}` : sentence;
    } catch (err) {
      // A guess that does not work out is dropped; a choice the person made is theirs to fix.
      if (overrides.longFormat) throw err;
      settings = { ...settings, longFormat: null };
      explanations.longFormat = `The file looks like a historian long format, but it is read as it is: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
  const preview: (string | number | boolean | null)[][] = [];
  for (let r = 0; r < Math.min(table.rowCount, PREVIEW_ROWS); r++) preview.push(table.columns.map((c) => cellValue(c, r)));
  return {
    files,
    settings,
    explanations,
    schema: table.schema,
    preview,
    timeExplanation: sniffed.timeGuess?.explanation ?? null,
    ...(sheets ? { sheets } : {}),
  };
}
