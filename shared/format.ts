/** Formatting helpers used by the renderer and the CLI alike. */

export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '–';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  // Move up a unit when the value would *show* as 1000 after rounding.
  const shown = (x: number, unit: number) => (unit === 0 ? x : Number(x.toFixed(x < 10 ? 1 : 0)));
  while (shown(v, i) >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? String(v) : v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** "2.4 s", "3 min 5 s", "1 h 2 min". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (Math.round(ms) < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 9.95) return `${s.toFixed(1)} s`;
  // Round first, then split, so a minute never shows "60 s".
  const totalS = Math.round(s);
  if (totalS < 60) return `${totalS} s`;
  if (totalS < 3600) return `${Math.floor(totalS / 60)} min ${totalS % 60} s`;
  const totalMin = Math.round(s / 60);
  if (totalMin < 48 * 60) return `${Math.floor(totalMin / 60)} h ${totalMin % 60} min`;
  // Historian spans of weeks read better in days.
  const totalH = Math.round(s / 3600);
  return `${Math.floor(totalH / 24)} d ${totalH % 24} h`;
}

export function formatPercent(fraction: number): string {
  return `${Math.round(Math.max(0, Math.min(1, fraction)) * 100)} %`;
}

/** A fixed-width left/right aligned text table for the CLI. */
export function textTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
