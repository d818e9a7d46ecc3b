import './result-charts.css';

export interface BarRow {
  label: string;
  /** Bar length 0..1. */
  share: number;
  valueText: string;
  hint?: string;
}

/** Horizontal bars with their labels and values written out: for "these inputs mattered most". */
export function BarList({ rows, ariaLabel }: { rows: BarRow[]; ariaLabel: string }) {
  return (
    <ol className="bars" aria-label={ariaLabel}>
      {rows.map((r) => (
        <li key={r.label} className="bars-row" title={r.hint}>
          <span className="bars-label" title={r.label}>
            {r.label}
          </span>
          <span className="bars-track" aria-hidden="true">
            <span className="bars-fill" style={{ width: `${Math.max(0, Math.min(1, r.share)) * 100}%` }} />
          </span>
          <span className="bars-value small">{r.valueText}</span>
        </li>
      ))}
    </ol>
  );
}
