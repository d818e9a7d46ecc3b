import fs from 'node:fs';
import path from 'node:path';

export const HARDENING_FIGURES = path.resolve(__dirname, '..', '..', '..', 'test-results', 'reliability', 'hardening.json');

export interface HardeningDetail {
  /** Which run wrote it: the vitest file or the Playwright network watch. */
  source: 'unit' | 'e2e';
  check: string;
  cases: number;
  ok: boolean;
  [more: string]: unknown;
}

/**
 * Writes test-results/reliability/hardening.json, keeping what the other run
 * (unit or e2e) wrote there, so the figures do not depend on which ran last:
 * {"area":"hardening","checks":N,"failed":F,"mode":…,"details":[…]}. `checks`
 * counts cases; `failed` counts the cases of failed checks (at least one each).
 */
export function writeHardeningFigures(source: HardeningDetail['source'], details: HardeningDetail[], mode: 'short' | 'full'): void {
  let kept: HardeningDetail[] = [];
  try {
    const before = JSON.parse(fs.readFileSync(HARDENING_FIGURES, 'utf8')) as { details?: HardeningDetail[] };
    kept = (before.details ?? []).filter((d) => d.source !== source && (d.source === 'unit' || d.source === 'e2e'));
  } catch {
    // First run, or a file from an older layout: start afresh.
  }
  const all = [...kept, ...details];
  const figures = {
    area: 'hardening',
    mode,
    checks: all.reduce((n, d) => n + d.cases, 0),
    failed: all.filter((d) => !d.ok).reduce((n, d) => n + Math.max(1, d.cases), 0),
    details: all,
  };
  fs.mkdirSync(path.dirname(HARDENING_FIGURES), { recursive: true });
  fs.writeFileSync(HARDENING_FIGURES, JSON.stringify(figures, null, 2) + '\n');
}
