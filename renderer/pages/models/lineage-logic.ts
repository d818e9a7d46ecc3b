/**
 * Laying out a model version's lineage left to right and reading its details:
 * columns by step, the words for each kind of step, hashes kept whole and in
 * monospace, times in local time. Pure, so it is unit tested.
 */
import type { Lineage, LineageNode } from '../../../shared/registry';
import { TASKS, type Task } from '../../../shared/training';
import { taskWords } from './report-logic';

export const KIND_WORDS: Record<LineageNode['kind'], string> = {
  source: 'Source file',
  dataset: 'Dataset version',
  run: 'Training run',
  model: 'Model version',
  bundle: 'Deployment bundle',
  deployment: 'Deployment',
  endpoint: 'Endpoint',
};

/** Where a step sits when nothing links it: the loop's order. */
const KIND_ORDER: LineageNode['kind'][] = ['source', 'dataset', 'run', 'model', 'bundle', 'deployment', 'endpoint'];

/**
 * The nodes in columns, left to right: a node's column is the longest path to it
 * from a node nothing points at (so several source files share the first column).
 */
export function lineageColumns(lineage: Pick<Lineage, 'nodes' | 'edges'>): LineageNode[][] {
  const ids = new Set(lineage.nodes.map((n) => n.id));
  const edges = lineage.edges.filter((e) => ids.has(e.from) && ids.has(e.to) && e.from !== e.to);
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  const depthOf = (id: string): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    // A cycle (never expected) must not hang the page: the edge that closes it is ignored.
    if (visiting.has(id)) return 0;
    visiting.add(id);
    const parents = edges.filter((e) => e.to === id).map((e) => depthOf(e.from) + 1);
    visiting.delete(id);
    const node = lineage.nodes.find((n) => n.id === id)!;
    // A node without parents sits where its kind belongs, so a lone model version is not drawn first.
    const d = parents.length ? Math.max(...parents) : edges.some((e) => e.from === id) ? 0 : Math.max(0, KIND_ORDER.indexOf(node.kind) - 1);
    depth.set(id, d);
    return d;
  };
  const columns: LineageNode[][] = [];
  for (const n of lineage.nodes) {
    const d = depthOf(n.id);
    (columns[d] ??= []).push(n);
  }
  return columns.filter((c) => c && c.length > 0);
}

/** True when the chain ends at a model version: deployments are still to come, drawn as a placeholder step. */
export function endsAtModel(lineage: Pick<Lineage, 'nodes'>): boolean {
  return !lineage.nodes.some((n) => n.kind === 'bundle' || n.kind === 'deployment' || n.kind === 'endpoint');
}

export interface DetailRow {
  label: string;
  value: string;
  /** Hashes and ids: monospace, kept whole, with a Copy button. */
  code: boolean;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** An ISO time in local words; anything else unchanged. */
export function localTime(value: string, format: (d: Date) => string): string {
  return ISO.test(value.trim()) && !Number.isNaN(Date.parse(value)) ? format(new Date(value)) : value;
}

/** The details of a step as label/value rows: times in local time (also both ends of a range), hashes whole and copyable. */
export function detailRows(details: Record<string, string>, format: (d: Date) => string): DetailRow[] {
  return Object.entries(details).map(([label, raw]) => {
    const range = raw.split(' – ');
    let value = range.length === 2 && range.every((p) => ISO.test(p.trim())) ? range.map((p) => localTime(p, format)).join(' – ') : localTime(raw, format);
    if (label === 'Goal' && (TASKS as readonly string[]).includes(raw)) value = taskWords(raw as Task);
    const code = /^[0-9a-f]{32,}$/i.test(raw) || /^(run|job|mdl|ds|uc)_[a-z0-9]+$/i.test(raw);
    return { label, value, code };
  });
}

/** The step to open first: the model version the person came from, else the last step. */
export function firstSelected(lineage: Pick<Lineage, 'nodes'>): string | null {
  return (lineage.nodes.find((n) => n.kind === 'model') ?? lineage.nodes.at(-1))?.id ?? null;
}
