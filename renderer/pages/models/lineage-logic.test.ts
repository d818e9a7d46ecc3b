import { describe, expect, it } from 'vitest';
import type { LineageNode } from '../../../shared/registry';
import { detailRows, endsAtModel, firstSelected, lineageColumns, localTime } from './lineage-logic';

const node = (id: string, kind: LineageNode['kind']): LineageNode => ({ id, kind, title: id, subtitle: '', who: null, when: null, details: {}, link: null });

describe('lineageColumns', () => {
  it('puts every source file in the first column and the chain after it', () => {
    const nodes = [node('s1', 'source'), node('s2', 'source'), node('d', 'dataset'), node('r', 'run'), node('m', 'model')];
    const edges = [
      { from: 's1', to: 'd' },
      { from: 's2', to: 'd' },
      { from: 'd', to: 'r' },
      { from: 'r', to: 'm' },
    ];
    expect(lineageColumns({ nodes, edges }).map((c) => c.map((n) => n.id))).toEqual([['s1', 's2'], ['d'], ['r'], ['m']]);
  });

  it('survives a cycle and edges to unknown nodes', () => {
    const nodes = [node('a', 'dataset'), node('b', 'run')];
    const edges = [
      { from: 'a', to: 'b' },
      { from: 'b', to: 'a' },
      { from: 'x', to: 'a' },
    ];
    expect(lineageColumns({ nodes, edges }).flat()).toHaveLength(2);
  });

  it('says whether deployments are still to come', () => {
    expect(endsAtModel({ nodes: [node('m', 'model')] })).toBe(true);
    expect(endsAtModel({ nodes: [node('m', 'model'), node('b', 'bundle')] })).toBe(false);
  });

  it('opens the model version first', () => {
    expect(firstSelected({ nodes: [node('s', 'source'), node('m', 'model'), node('b', 'bundle')] })).toBe('m');
    expect(firstSelected({ nodes: [] })).toBeNull();
  });
});

describe('detailRows', () => {
  const fmt = (d: Date) => `local ${d.toISOString().slice(0, 10)}`;

  it('keeps hashes whole and marks them as code', () => {
    const sha = 'ec4ed737b27c4e65730e3b875626ddb4db005d79733f0fc1f59d72db467cd670';
    const rows = detailRows({ File: 'ai4i2020.csv', 'SHA-256': sha, Run: 'run_mwx1z0tgad4006' }, fmt);
    expect(rows).toEqual([
      { label: 'File', value: 'ai4i2020.csv', code: false },
      { label: 'SHA-256', value: sha, code: true },
      { label: 'Run', value: 'run_mwx1z0tgad4006', code: true },
    ]);
  });

  it('shows times and time ranges in local time, and goals in words', () => {
    const rows = detailRows({ Imported: '2026-11-26T04:28:50.365Z', 'Time range': '2026-01-01T00:00:00.000Z – 2026-02-01T00:00:00.000Z', Goal: 'binary' }, fmt);
    expect(rows.map((r) => r.value)).toEqual(['local 2026-11-26', 'local 2026-01-01 – local 2026-02-01', 'Predict a failure (yes or no)']);
    expect(localTime('10,000', fmt)).toBe('10,000');
  });
});
