import fs from 'node:fs';
import path from 'node:path';
import type { InspectResult } from '../../../../shared/api';
import type { ColumnType, ReadSettings } from '../../../../shared/datasets';
import { AppError } from '../../../../shared/errors';
import { cellValue } from '../column-store';
import { readDelimited, sniffFile } from './csv-reader';

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
  const sniffed = await sniffFile(paths[0]!, overrides);
  const schema = sniffed.schema.map((c) => ({ ...c, type: types[c.header] ?? c.type }));
  const table = await readDelimited(paths[0]!, sniffed.settings, schema, { maxRows: PREVIEW_ROWS });
  const preview: (string | number | boolean | null)[][] = [];
  for (let r = 0; r < table.rowCount; r++) preview.push(table.columns.map((c) => cellValue(c, r)));
  return {
    files,
    settings: sniffed.settings,
    explanations: sniffed.explanations as Record<string, string>,
    schema: table.schema,
    preview,
    timeExplanation: sniffed.timeGuess?.explanation ?? null,
  };
}
