/**
 * What every table an importer reads must satisfy, whatever it read: for the
 * fuzz tests of the CSV and Excel readers.
 */
import { expect } from 'vitest';
import { PROBLEM_CHOICES, PROBLEM_TITLES, type ColumnData, type ColumnSchema, type Problem, type ProblemKind } from '../../../shared/datasets';

/** Problems that affect rows (the others are about whole columns or, in long files, values). */
export const ROW_KINDS: ProblemKind[] = ['not_a_number', 'bad_timestamp', 'bad_boolean', 'ragged_row', 'missing_time', 'duplicate_time', 'out_of_order', 'dst_repeated', 'dst_gap'];

export type ReadResult = { schema: ColumnSchema[]; columns: ColumnData[]; rowCount: number; lines: Uint32Array; problems: Problem[]; problemRows: Partial<Record<ProblemKind, Uint32Array>>; blankLines: number };

/**
 * What every read table must satisfy, whatever the input: columns as long as
 * the row count, lines rising, and a report in which every affected row has
 * its line among the examples when there are at most 100 of them.
 */
export function reportInvariants(got: ReadResult, what: string): void {
  const n = got.rowCount;
  expect(Number.isInteger(n) && n >= 0, `${what}: row count ${n}`).toBe(true);
  for (const c of got.columns) expect(('codes' in c ? c.codes : c.values).length, `${what}: column length`).toBe(n);
  expect(got.lines.length, `${what}: lines`).toBe(n);
  for (let r = 1; r < n; r++) if (!(got.lines[r]! > got.lines[r - 1]!)) throw new Error(`${what}: line ${got.lines[r]} of row ${r} does not come after ${got.lines[r - 1]}`);
  if (n) expect(got.lines[0]).toBeGreaterThanOrEqual(1);
  const kinds = got.problems.map((p) => p.kind);
  expect(new Set(kinds).size, `${what}: a kind reported twice`).toBe(kinds.length);
  for (const p of got.problems) {
    const where = `${what}: ${p.kind}`;
    expect(p.title, where).toBe(PROBLEM_TITLES[p.kind]);
    expect(p.choices, where).toEqual(PROBLEM_CHOICES[p.kind].choices);
    expect(p.choices, where).toContain(p.defaultChoice);
    expect(Number.isInteger(p.count) && p.count >= 1, `${where}: count ${p.count}`).toBe(true);
    expect(p.examples.length, `${where}: examples`).toBe(Math.min(p.count, 100));
    for (const ex of p.examples) {
      expect(typeof ex.reason === 'string' && ex.reason.length > 5, `${where}: reason ${JSON.stringify(ex.reason)}`).toBe(true);
      expect(Number.isInteger(ex.line) && ex.line >= 0, `${where}: line ${ex.line}`).toBe(true);
    }
    if (!ROW_KINDS.includes(p.kind)) continue;
    const rows = got.problemRows[p.kind];
    if (!rows || rows.length === 0) throw new Error(`${where}: ${p.count} reported, but no rows to skip`);
    expect(rows.length, `${where}: more rows than problems`).toBeLessThanOrEqual(p.count);
    for (let i = 0; i < rows.length; i++) {
      if (!(rows[i]! < n) || (i > 0 && !(rows[i]! > rows[i - 1]!))) throw new Error(`${where}: row list ${Array.from(rows.slice(0, 20)).join()} is not rising within ${n} rows`);
    }
    const rowLines = new Set(Array.from(rows, (r) => got.lines[r]!));
    const exampleLines = new Set(p.examples.map((x) => x.line));
    for (const l of exampleLines) if (!rowLines.has(l)) throw new Error(`${where}: an example names line ${l}, which is not one of the affected rows`);
    if (p.count <= 100) for (const l of rowLines) if (!exampleLines.has(l)) throw new Error(`${where}: line ${l} is affected but not among the examples`);
    for (const ex of p.examples) if (!ex.reason.includes(String(ex.line))) throw new Error(`${where}: the reason "${ex.reason}" does not name line ${ex.line}`);
  }
}

/** A value of a read column in the form the expectations use. */
export function valueAt(col: ColumnData, r: number): number | string | null {
  if ('codes' in col) {
    const c = col.codes[r]!;
    return c < 0 ? null : col.dictionary[c]!;
  }
  if (col.type === 'boolean') return col.values[r] === 255 ? null : col.values[r]!;
  return col.values[r]!;
}

export const same = (a: number | string | null, b: number | string | null) => (typeof a === 'number' && typeof b === 'number' ? Object.is(a, b) : a === b);
export const show = (v: unknown) => (typeof v === 'number' && (Object.is(v, -0) || !Number.isFinite(v)) ? String(Object.is(v, -0) ? '-0' : v) : JSON.stringify(v));

export interface Expected {
  count: number;
  rows: number[];
}

/** Duplicate and out-of-order rows of a time column, as the reader defines them. */
export function timeOrderProblems(times: number[]): { duplicate_time: number[]; out_of_order: number[] } {
  const dup: number[] = [];
  const ooo: number[] = [];
  let prev = NaN;
  times.forEach((t, i) => {
    if (Number.isNaN(t)) return;
    if (!Number.isNaN(prev)) {
      if (t === prev) dup.push(i);
      else if (t < prev) ooo.push(i);
    }
    prev = t;
  });
  if (ooo.length === 0) return { duplicate_time: dup, out_of_order: ooo };
  // Out of order: every row whose time an earlier row had.
  const seen = new Set<number>();
  const all: number[] = [];
  times.forEach((t, i) => {
    if (Number.isNaN(t)) return;
    if (seen.has(t)) all.push(i);
    seen.add(t);
  });
  return { duplicate_time: all, out_of_order: ooo };
}

export function addTo(m: Map<ProblemKind, Expected>, kind: ProblemKind, row: number): void {
  const e = m.get(kind) ?? { count: 0, rows: [] };
  e.count++;
  if (row >= 0 && e.rows[e.rows.length - 1] !== row) e.rows.push(row);
  m.set(kind, e);
}

/** Compares a read table with what was written: values, lines, and the report, kind by kind. */
export function compareRead(got: ReadResult, expectedValues: (number | string | null)[][], lines: number[], blankLines: number, problems: Map<ProblemKind, Expected>): string[] {
  const bad: string[] = [];
  if (got.rowCount !== expectedValues.length) return [`${got.rowCount} rows read, ${expectedValues.length} written`];
  for (let r = 0; r < got.rowCount; r++) if (got.lines[r] !== lines[r]) bad.push(`row ${r}: line ${got.lines[r]}, expected ${lines[r]}`);
  if (got.blankLines !== blankLines) bad.push(`${got.blankLines} blank lines, expected ${blankLines}`);
  const ncols = got.columns.length;
  for (let r = 0; r < got.rowCount && bad.length < 20; r++) {
    for (let c = 0; c < ncols; c++) {
      const a = valueAt(got.columns[c]!, r);
      const e = expectedValues[r]![c]!;
      if (!same(a, e)) bad.push(`row ${r} (line ${lines[r]}), column ${c} (${got.schema[c]?.type}): read ${show(a)}, expected ${show(e)}`);
    }
  }
  const kinds = new Set([...got.problems.map((p) => p.kind), ...problems.keys()]);
  for (const kind of kinds) {
    const p = got.problems.find((x) => x.kind === kind);
    const e = problems.get(kind);
    if (!p || !e) {
      bad.push(`${kind}: ${p ? `reported ${p.count} (${p.examples.slice(0, 3).map((x) => x.reason).join(' | ')})` : 'not reported'}, expected ${e ? e.count : 'none'}`);
      continue;
    }
    if (p.count !== e.count) bad.push(`${kind}: count ${p.count}, expected ${e.count}`);
    if (ROW_KINDS.includes(kind)) {
      const rows = Array.from(got.problemRows[kind] ?? []);
      if (rows.join() !== e.rows.join()) bad.push(`${kind}: rows ${rows.slice(0, 10).join()}…, expected ${e.rows.slice(0, 10).join()}…`);
    }
  }
  return bad;
}
