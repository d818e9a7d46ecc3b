import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { Lineage, LineageNode } from '../../../shared/registry';
import { call } from '../../api/api';
import { CopyValue } from '../../components/copy-value';
import { Icon, type IconName } from '../../components/icons';
import { PageHead } from '../../components/page-head';
import { reportError } from '../../store/report-error';
import { useStore } from '../../store/store';
import { formatWhen, timeZoneLabel } from '../when';
import { detailRows, endsAtModel, firstSelected, KIND_WORDS, lineageColumns } from './lineage-logic';
import './registry.css';

const KIND_ICONS: Record<LineageNode['kind'], IconName> = {
  source: 'upload',
  dataset: 'data',
  run: 'cpu',
  model: 'models',
  bundle: 'archive',
  deployment: 'deployments',
  endpoint: 'monitoring',
};

const LINK_WORDS: Partial<Record<LineageNode['kind'], string>> = {
  dataset: 'Open the dataset',
  model: 'Open the model',
  deployment: 'Open the deployment',
  endpoint: 'Open the endpoint',
};

/** "#/models/NAME/lineage/2": where a model version came from, left to right, each step with who and when. */
export function LineagePage({ name, version }: { name: string; version: number }) {
  const go = useStore((s) => s.go);
  const [lineage, setLineage] = useState<Lineage | null>(null);
  const [failed, setFailed] = useState(false);
  const [selected, setSelected] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    call('models.lineage', { model: name, version })
      .then((l) => {
        if (!live) return;
        setLineage(l);
        setSelected(firstSelected(l));
      })
      .catch((err: unknown) => {
        reportError(err);
        if (live) setFailed(true);
      });
    return () => {
      live = false;
    };
  }, [name, version]);

  const node = lineage?.nodes.find((n) => n.id === selected) ?? null;
  return (
    <div className="page wide lineage-page">
      <PageHead
        back={name}
        onBack={() => go('models', name)}
        title={`Where version ${version} of ${name} came from`}
        blurb={`Every step from the source file to the model, with who did it and when (times in ${timeZoneLabel()}). Choose a step to see its details.`}
      />
      {failed && <p className="muted">The lineage of this version cannot be shown.</p>}
      {!lineage && !failed && <p className="muted">Tracing the lineage…</p>}
      {lineage && (
        <>
          {lineage.traced ? (
            <p className="ok-text small" data-testid="lineage-traced">
              <Icon name="check" size={16} /> Traced back to the source {lineage.nodes.filter((n) => n.kind === 'source').length === 1 ? 'file' : 'files'}, with
              {' '}SHA-256 fingerprints: the data can be checked byte for byte.
            </p>
          ) : (
            <div className="card notice warn-notice" role="status">
              <Icon name="alert" />
              <div>
                <strong>Not traced back to a fingerprinted source file</strong>
                <span className="small">The data this version learned from cannot be checked against its source file.</span>
              </div>
            </div>
          )}
          <section className="card lineage-card" aria-label="Lineage">
            <LineageGraph lineage={lineage} selected={selected} onSelect={setSelected} />
          </section>
          {node && <NodeDetails node={node} />}
        </>
      )}
    </div>
  );
}

/** The placeholder step after the model version (node ids look like "model:2", so this cannot clash). */
const NEXT_STEP = '~next';

interface Arrow {
  d: string;
  placeholder: boolean;
}

/** Cards in columns, left to right, with arrows drawn in SVG between the cards' edges (measured, so the layout can flow). */
function LineageGraph({ lineage, selected, onSelect }: { lineage: Lineage; selected: string | null; onSelect: (id: string) => void }) {
  const box = useRef<HTMLDivElement>(null);
  const [arrows, setArrows] = useState<Arrow[]>([]);
  const [size, setSize] = useState({ w: 0, h: 0 });
  const columns = lineageColumns(lineage);
  const placeholder = endsAtModel(lineage);

  const measure = useCallback(() => {
    const root = box.current;
    if (!root) return;
    const origin = root.getBoundingClientRect();
    const rect = (id: string) => root.querySelector<HTMLElement>(`[data-node="${CSS.escape(id)}"]`)?.getBoundingClientRect();
    const link = (from: DOMRect, to: DOMRect, dashed: boolean): Arrow => {
      const x1 = from.right - origin.left;
      const y1 = from.top + from.height / 2 - origin.top;
      const x2 = to.left - origin.left - 2;
      const y2 = to.top + to.height / 2 - origin.top;
      const bend = Math.max(12, (x2 - x1) / 2);
      return { d: `M ${x1} ${y1} C ${x1 + bend} ${y1}, ${x2 - bend} ${y2}, ${x2} ${y2}`, placeholder: dashed };
    };
    const next: Arrow[] = [];
    for (const e of lineage.edges) {
      const from = rect(e.from);
      const to = rect(e.to);
      if (from && to) next.push(link(from, to, false));
    }
    const last = rect(NEXT_STEP);
    if (last) for (const n of lineage.nodes.filter((x) => x.kind === 'model')) {
      const from = rect(n.id);
      if (from) next.push(link(from, last, true));
    }
    setArrows(next);
    setSize({ w: root.scrollWidth, h: root.scrollHeight });
  }, [lineage]);

  useLayoutEffect(() => {
    measure();
    const root = box.current;
    if (!root) return;
    const observer = new ResizeObserver(measure);
    observer.observe(root);
    return () => observer.disconnect();
  }, [measure]);

  return (
    <div className="lineage-scroll">
      <div
        className="lineage-graph"
        ref={box}
        style={{ gridTemplateColumns: `${columns.map(() => 'minmax(112px, 1fr)').join(' ')}${placeholder ? ' minmax(126px, 0.7fr)' : ''}` }}
      >
        <svg className="lineage-arrows" width={size.w} height={size.h} aria-hidden>
          <defs>
            <marker id="lineage-head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
              <path d="M 0 0 L 10 5 L 0 10 z" className="lineage-head" />
            </marker>
          </defs>
          {arrows.map((a, i) => (
            <path key={i} d={a.d} className={a.placeholder ? 'lineage-edge placeholder' : 'lineage-edge'} markerEnd="url(#lineage-head)" />
          ))}
        </svg>
        {columns.map((col, i) => (
          <div className="lineage-column" key={i}>
            {col.map((n) => (
              <button
                key={n.id}
                data-node={n.id}
                className={`lineage-node kind-${n.kind} ${n.id === selected ? 'selected' : ''}`}
                aria-pressed={n.id === selected}
                onClick={() => onSelect(n.id)}
                data-testid={`lineage-node-${n.kind}`}
              >
                <span className="lineage-kind">
                  <Icon name={KIND_ICONS[n.kind]} size={14} /> {KIND_WORDS[n.kind]}
                </span>
                <span className="lineage-title">{n.title}</span>
                {n.subtitle && <span className="lineage-sub">{n.subtitle}</span>}
                {(n.who || n.when) && (
                  <span className="lineage-who">
                    {[n.who, n.when ? formatWhen(n.when) : null].filter(Boolean).join(' · ')}
                  </span>
                )}
              </button>
            ))}
          </div>
        ))}
        {placeholder && (
          <div className="lineage-column">
            <div className="lineage-node placeholder" data-node={NEXT_STEP}>
              <span className="lineage-kind">
                <Icon name="deployments" size={14} /> Deployment
              </span>
              <span className="lineage-title">Not deployed yet</span>
              <span className="lineage-sub">Bundles and endpoints appear here after deployment.</span>
            </div>
          </div>
        )}
      </div>
    </div>
  );
}

function NodeDetails({ node }: { node: LineageNode }) {
  const goHash = useStore((s) => s.goHash);
  const rows = detailRows(node.details, (d) => formatWhen(d.toISOString()));
  return (
    <section className="card section lineage-details" aria-labelledby="lineage-details-title" data-testid="lineage-details">
      <div className="lineage-details-head">
        <div>
          <span className="muted small">{KIND_WORDS[node.kind]}</span>
          <h3 id="lineage-details-title">{node.title}</h3>
        </div>
        {node.link && (
          <a
            className="button small"
            href={node.link}
            onClick={(e) => {
              e.preventDefault();
              goHash(node.link!);
            }}
          >
            {LINK_WORDS[node.kind] ?? 'Open'} <Icon name="arrow" size={14} />
          </a>
        )}
      </div>
      <dl className="facts lineage-facts">
        {rows.map((r) => (
          <div key={r.label} className="lineage-fact">
            <dt>{r.label}</dt>
            <dd>{r.code ? <CopyValue value={r.value} label={r.label} /> : r.value}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}
