import type { Problem } from '../../../../shared/datasets';

/** The report keeps the first this many examples of each kind of problem. */
export const MAX_EXAMPLES = 100;

/**
 * The problem logs touched while parsing the current record. A record cut off
 * by the end of a chunk is parsed again with the next chunk, so what it logged
 * is undone.
 */
export class Journal {
  active = false;
  readonly touched: ProblemLog[] = [];

  undo(): void {
    for (const l of this.touched) l.undo();
    this.touched.length = 0;
  }

  keep(): void {
    for (const l of this.touched) l.keep();
    this.touched.length = 0;
  }
}

/** Counts one kind of problem, keeps the first examples and the rows it affects. */
export class ProblemLog {
  count = 0;
  readonly examples: Problem['examples'] = [];
  rows = new Uint32Array(64);
  rowCount = 0;
  private lastRow = -1;
  private saved: [number, number, number, number] | null = null;

  constructor(private readonly journal: Journal | null = null) {}

  add(row: number, line: number, column: string | null, raw: () => string, reason: () => string): void {
    if (this.journal?.active && this.saved === null) {
      this.saved = [this.count, this.examples.length, this.rowCount, this.lastRow];
      this.journal.touched.push(this);
    }
    this.count++;
    if (this.examples.length < MAX_EXAMPLES) this.examples.push({ line, column, raw: clip(raw()), reason: reason() });
    this.addRow(row);
  }

  undo(): void {
    if (!this.saved) return;
    [this.count, this.examples.length, this.rowCount, this.lastRow] = this.saved;
    this.saved = null;
  }

  keep(): void {
    this.saved = null;
  }

  private addRow(row: number): void {
    if (row < 0 || row === this.lastRow) return;
    if (this.rowCount === this.rows.length) {
      const bigger = new Uint32Array(this.rows.length * 2);
      bigger.set(this.rows);
      this.rows = bigger;
    }
    this.rows[this.rowCount++] = row;
    this.lastRow = row;
  }
}

/** Raw text as shown in a report: at most 200 characters. */
export function clip(s: string): string {
  return s.length > 200 ? `${s.slice(0, 199)}…` : s;
}
