/**
 * Registry types shared by the core, the CLI and the renderer (DESIGN.md section 8):
 * comparing versions and their lineage.
 */
import type { Cell } from './scoring';

export interface SideSummary {
  model: string;
  version: number;
  algorithm: string;
  createdAt: string;
  createdBy: string;
  dataset: string;
  datasetVersion: number;
  rows: number;
  timeStart: number | null;
  timeEnd: number | null;
}

export interface InputShift {
  input: string;
  a: { mean: number; p5: number; median: number; p95: number } | null;
  b: { mean: number; p5: number; median: number; p95: number } | null;
  /** Kolmogorov–Smirnov distance between the two versions' values (0 = same distribution, 1 = no overlap). */
  ks: number | null;
  sentence: string;
}

export interface Comparison {
  a: SideSummary;
  b: SideSummary;
  settings: { name: string; a: string; b: string }[];
  data: { columnsAdded: string[]; columnsRemoved: string[]; rowsA: number; rowsB: number; sameData: boolean; inputs: InputShift[] };
  holdout: { dataset: string; datasetVersion: number; rows: number; kind: 'time' | 'random'; of: string };
  metric: { key: string; label: string; higherIsBetter: boolean };
  metrics: { a: Record<string, number>; b: Record<string, number> };
  /** Where the two answer most differently on the holdout. */
  disagreements: { row: number; a: string; b: string; actual: string | null; gap: number; values: Record<string, Cell> }[];
  sentence: string;
}


/** One step of a model version's history, with who and when. */
export interface LineageNode {
  id: string;
  kind: 'source' | 'dataset' | 'run' | 'model' | 'bundle' | 'deployment' | 'endpoint';
  title: string;
  subtitle: string;
  who: string | null;
  when: string | null;
  /** Label → value, shown when the step is opened. */
  details: Record<string, string>;
  /** Where the app shows this object (a hash route), if anywhere. */
  link: string | null;
}

export interface Lineage {
  nodes: LineageNode[];
  edges: { from: string; to: string }[];
  /** True when the version traces back to at least one source file with its hash. */
  traced: boolean;
}

/** A named problem with its goal and KPI, and what hangs under it. */
export interface UseCaseSummary {
  id: string;
  name: string;
  goal: string;
  kpi: string;
  createdAt: string;
  createdBy: string;
  datasets: string[];
  models: { name: string; versions: number; production: number | null; metric: string; value: number | null }[];
  /** At a glance: 'ok' (a model in production), 'attention' (models, none in production), 'empty' (no model yet). */
  health: 'ok' | 'attention' | 'empty';
  /** One sentence saying why. */
  status: string;
}
