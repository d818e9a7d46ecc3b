import type { ColumnType } from '../../../shared/datasets';

/** The profile as it arrives over the API (JSON: missing numbers come back as null). */
export type ColumnProfileView =
  | {
      kind: 'numeric';
      count: number;
      missing: number;
      min: number | null;
      max: number | null;
      mean: number | null;
      std: number | null;
      quantiles?: { p01: number | null; p05: number | null; p25: number | null; p50: number | null; p75: number | null; p95: number | null; p99: number | null };
      histogram: { edges: number[]; counts: number[] };
    }
  | { kind: 'category'; count: number; missing: number; distinct: number; top: { value: string; count: number }[] }
  | { kind: 'boolean'; count: number; missing: number; trueCount: number; falseCount: number }
  | {
      kind: 'time';
      count: number;
      missing: number;
      first: number;
      last: number;
      medianIntervalMs: number;
      gaps: number;
      largestGaps?: { start: number; end: number; durationMs: number }[];
      histogram: { edges: number[]; counts: number[] };
    };

export interface DatasetProfileView {
  rows: number;
  columns: { name: string; type: ColumnType; unit: string | null; profile: ColumnProfileView }[];
  correlations?: { columns: string[]; matrix: (number | null)[][] };
}
