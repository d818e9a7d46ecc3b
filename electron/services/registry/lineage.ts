import type { Lineage, LineageNode } from '../../../shared/registry';
import type { DatasetReader } from '../datasets/reader';
import { findVersion, type VersionRecord } from '../datasets/versions';
import type { LabelSettings } from '../feedback/labels';
import { deploymentNodes } from '../deploy/endpoints';
import { modelOnnx } from '../scoring/onnx-store';
import { findModelVersion } from '../training/models';
import type { Workspace } from '../workspace/workspace';

interface SourceRow {
  id: number;
  file_name: string;
  sha256: string;
  size: number;
  rows: number;
  added_at: string;
  added_by: string;
}

function bytes(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(1)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(0)} kB` : `${n} bytes`;
}

/**
 * A model version's lineage (DESIGN.md section 8): source files → dataset
 * version → training run → model version → the endpoints it was deployed
 * to, with who and when.
 */
export function modelLineage(ws: Workspace, reader: DatasetReader, a: { model: string; version?: number }): Lineage {
  const v = findModelVersion(ws.db, a.model, a.version);
  const dv = reader.version(v.dataset, v.datasetVersion);
  const nodes: LineageNode[] = [];
  const edges: Lineage['edges'] = [];
  const sources = ws.db.prepare('SELECT id, file_name, sha256, size, rows, added_at, added_by FROM source_files WHERE version_id = ? ORDER BY id').all(dv.id) as SourceRow[];
  const datasetId = `dataset:${dv.id}`;
  for (const s of sources) {
    const id = `source:${s.id}`;
    nodes.push({
      id,
      kind: 'source',
      title: s.file_name,
      subtitle: `${bytes(s.size)}, sha256 ${s.sha256.slice(0, 12)}…`,
      who: s.added_by,
      when: s.added_at,
      details: { File: s.file_name, 'SHA-256': s.sha256, Size: bytes(s.size), Rows: s.rows.toLocaleString('en-US'), 'Imported by': s.added_by, Imported: s.added_at },
      link: null,
    });
    edges.push({ from: id, to: datasetId });
  }
  nodes.push({
    id: datasetId,
    kind: 'dataset',
    title: `${dv.datasetName} version ${dv.version}`,
    subtitle: `${dv.rowCount.toLocaleString('en-US')} rows, ${dv.schema.length} columns`,
    who: dv.createdBy,
    when: dv.createdAt,
    details: { Dataset: `${dv.datasetName}@${dv.version}`, Rows: dv.rowCount.toLocaleString('en-US'), Columns: dv.schema.map((c) => c.name).join(', '), 'Content hash': dv.contentHash, ...(dv.timeStart !== null && dv.timeEnd !== null ? { 'Time range': `${new Date(dv.timeStart).toISOString()} – ${new Date(dv.timeEnd).toISOString()}` } : {}) },
    link: `#/data/${encodeURIComponent(dv.datasetName)}`,
  });
  for (const n of labelNodes(ws, dv)) {
    nodes.push(n);
    edges.push({ from: n.id, to: datasetId });
  }
  const run = ws.db.prepare('SELECT id, started_at, ended_at, duration_s, app_version, seed, created_by FROM training_runs WHERE id = ?').get(v.runId) as { id: string; started_at: string; duration_s: number; app_version: string; seed: number; created_by: string };
  const runId = `run:${run.id}`;
  const s = v.settings;
  nodes.push({
    id: runId,
    kind: 'run',
    title: 'Training run',
    subtitle: `${Math.round(run.duration_s)} s, seed ${run.seed}, app ${run.app_version}`,
    who: run.created_by,
    when: run.started_at,
    details: {
      Run: run.id,
      Goal: s.task,
      ...(s.target ? { Predicts: s.target } : {}),
      Inputs: s.inputs.join(', '),
      'Checked on': `${Math.round(s.holdoutFraction * 100)}% ${s.timeColumn ? 'most recent' : 'random'} rows`,
      Seed: String(run.seed),
      'Time budget': `${s.timeBudgetSeconds} s`,
      Duration: `${run.duration_s.toFixed(1)} s`,
      'App version': run.app_version,
      ...(s.derivedFrom ? { 'Made from': `version ${s.derivedFrom.version} with the ${s.derivedFrom.change}, without training: ${s.derivedFrom.reason}` } : {}),
    },
    link: null,
  });
  edges.push({ from: datasetId, to: runId });
  const onnx = modelOnnx(ws, v);
  const modelId = `model:${v.id}`;
  nodes.push({
    id: modelId,
    kind: 'model',
    title: `${v.model} version ${v.version}`,
    subtitle: `${v.algorithmTitle}${v.aliases.length ? ` · ${v.aliases.join(', ')}` : ''}${v.archivedAt ? ' · archived' : ''}`,
    who: v.createdBy,
    when: v.createdAt,
    details: { Model: `${v.model}@${v.version}`, Algorithm: v.algorithmTitle, [v.metric.label]: String(Number((v.metrics[v.metric.key] ?? NaN).toPrecision(4))), 'Model hash': v.modelHash, 'ONNX hash': onnx.hash, ...(v.aliases.length ? { Aliases: v.aliases.join(', ') } : {}) },
    link: `#/models/${encodeURIComponent(v.model)}`,
  });
  edges.push({ from: runId, to: modelId });
  if (s.derivedFrom) {
    // Made from another version with another alarm level (feedback/recalibrate.ts): that version leads into the run. Listed after this version, which the page opens first.
    const src = findModelVersion(ws.db, v.model, s.derivedFrom.version);
    nodes.push({ id: `model:${src.id}`, kind: 'model', title: `${src.model} version ${src.version}`, subtitle: `made into version ${v.version}: ${s.derivedFrom.change}`, who: src.createdBy, when: src.createdAt, details: { Model: `${src.model}@${src.version}`, Reason: s.derivedFrom.reason }, link: `#/models/${encodeURIComponent(src.model)}` });
    edges.push({ from: `model:${src.id}`, to: runId });
  }
  for (const d of deploymentNodes(ws.db, v)) {
    nodes.push(d);
    edges.push({ from: modelId, to: d.id });
  }
  return { nodes, edges, traced: sources.length > 0 && sources.every((x) => /^[0-9a-f]{64}$/.test(x.sha256)) };
}

/** A version made by "Add my answers to the data": the version it came from and the answers it holds (feedback/labels.ts). */
function labelNodes(ws: Workspace, dv: VersionRecord): LineageNode[] {
  const from = (dv.settings as Partial<LabelSettings>).labelsFrom;
  if (!from) return [];
  const parent = findVersion(ws.db, from.dataset, from.version);
  const real = from.episodes.filter((e) => e.verdict === 'real').length, normal = from.episodes.filter((e) => e.verdict === 'normal').length;
  return [
    {
      id: `dataset:${parent.id}`,
      kind: 'dataset',
      title: `${parent.datasetName} version ${parent.version}`,
      subtitle: `${parent.rowCount.toLocaleString('en-US')} rows, before the answers`,
      who: parent.createdBy,
      when: parent.createdAt,
      details: { Dataset: `${parent.datasetName}@${parent.version}`, 'Content hash': parent.contentHash },
      link: `#/data/${encodeURIComponent(parent.datasetName)}`,
    },
    {
      id: `answers:${dv.id}`,
      kind: 'source',
      title: `Answers to ${from.episodes.length} episode${from.episodes.length === 1 ? '' : 's'}`,
      subtitle: `${real} real, ${normal} normal, ${from.episodes.length - real - normal} not sure (model ${from.model})`,
      who: dv.createdBy,
      when: dv.createdAt,
      details: Object.fromEntries(from.episodes.map((e) => [`Episode ${e.id}`, `${e.verdict}${e.cause ? ` (${e.cause})` : ''}, ${e.start} – ${e.end}, answered by ${e.answeredBy ?? 'unknown'}`])),
      link: null,
    },
  ];
}
