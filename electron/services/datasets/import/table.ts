import type { ColumnData, ColumnSchema, Problem, ProblemKind } from '../../../../shared/datasets';

/** What every reader (delimited text, Excel, historian long format) produces. */
export interface ParsedTable {
  schema: ColumnSchema[];
  columns: ColumnData[];
  rowCount: number;
  /** 1-based source line (or sheet row) of each row, for the report and for skipping rows. */
  lines: Uint32Array;
  problems: Problem[];
  /** Rows (0-based row indexes into the table) affected by each problem kind, so "skip" can drop them. */
  problemRows: Partial<Record<ProblemKind, Uint32Array>>;
}

/** Lets a reader report progress and notice cancel without knowing about jobs. */
export interface ReadControl {
  onProgress?(fraction: number, message?: string): void;
  /** Throws when the user cancelled (the job's throwIfCancelled). */
  checkCancelled?(): void;
}
