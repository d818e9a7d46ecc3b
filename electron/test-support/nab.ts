import fs from 'node:fs';
import path from 'node:path';

/**
 * The NAB machine-temperature series (a large industrial machine's temperature every
 * 5 minutes, 2 December 2013 to 19 February 2014) and its known failure windows, as
 * the feedback-loop test and the e2e feedback spec read them.
 */
/** Beside the project (../shared/data), wherever it is cloned; else the reference copy on this machine (a clone in /tmp has no neighbour). */
export const NAB_DIR = [path.resolve(__dirname, '..', '..', '..', 'shared', 'data', 'nab'), '/work/shared/data/nab'].find((d) => fs.existsSync(path.join(d, 'windows.json'))) ?? '/work/shared/data/nab';
export const NAB_SERIES = 'realKnownCause/machine_temperature_system_failure.csv';

/** The known failure windows as [start, end] in ms, in UTC (NAB gives them without a zone; the series is read as UTC too). */
export const NAB_WINDOWS = (JSON.parse(fs.readFileSync(path.join(NAB_DIR, 'windows.json'), 'utf8')) as Record<string, [string, string][]>)[NAB_SERIES]!.map(
  ([a, b]) => [Date.parse(`${a.slice(0, 19).replace(' ', 'T')}Z`), Date.parse(`${b.slice(0, 19).replace(' ', 'T')}Z`)] as const,
);

/** Whether a span (ISO start and end) overlaps one of the known failure windows. */
export const overlapsNabWindow = (e: { start: string; end: string }): boolean => NAB_WINDOWS.some(([a, b]) => Date.parse(e.start) <= b && Date.parse(e.end) >= a);

/** The series' lines (header first) without the repeats of 2014-01-07 02:00–02:55 (a clock set back), as the import would ask. */
export function nabSeriesLines(): string[] {
  const seen = new Set<string>();
  return fs
    .readFileSync(path.join(NAB_DIR, NAB_SERIES), 'utf8')
    .trim()
    .split('\n')
    .filter((l, i) => {
      const t = l.split(',')[0]!;
      if (i > 0 && seen.has(t)) return false;
      seen.add(t);
      return true;
    });
}
