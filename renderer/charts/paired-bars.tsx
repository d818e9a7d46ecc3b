import { formatNumber } from './chart-math';
import { type PairedRow, pairedLengths } from './drift-chart-math';
import './drift-charts.css';

export type { PairedRow } from './drift-chart-math';

/** One decimal below 10 % (where it is rounded to), none above: "0.8 %", "9.9 %", "10 %". */
const pct = (s: number) => `${formatNumber(s * 100, s > 0 && s * 100 < 9.95 ? 1 : 0)} %`;

/**
 * Two bars per bin on one scale: the reference (training) in grey above the
 * current (live) one, each with its share written out. For an input's live
 * histogram over the training one, the spread of predictions, and counts
 * before beside after (false alarms, real problems caught).
 */
export function PairedBars({
  rows,
  referenceName = 'Training',
  currentName = 'Live',
  ariaLabel,
  testId,
  valueText = pct,
}: {
  rows: readonly PairedRow[];
  referenceName?: string;
  currentName?: string;
  ariaLabel: string;
  testId?: string;
  /** How a figure is written beside its bar (default: a share in percent); counts pass their own. */
  valueText?: (v: number) => string;
}) {
  const lengths = pairedLengths(rows);
  return (
    <div className="pairs" data-testid={testId}>
      <div className="pairs-legend small" aria-hidden="true">
        <span>
          <i className="pairs-key ref" /> {referenceName}
        </span>
        <span>
          <i className="pairs-key cur" /> {currentName}
        </span>
      </div>
      <table className="pairs-table" aria-label={ariaLabel}>
        <tbody>
          {rows.map((r, i) => (
            <tr key={`${r.label}-${i}`} className="pairs-row">
              <th scope="row" className="pairs-label" title={r.label}>
                {r.label}
              </th>
              <td className="pairs-bars">
                <span className="pairs-line">
                  <span className="pairs-track" aria-hidden="true">
                    <span className="pairs-fill ref" style={{ width: `${lengths[i]!.reference * 100}%` }} />
                  </span>
                  <span className="pairs-value small">
                    <span className="sr-only">{referenceName} </span>
                    {valueText(r.reference)}
                  </span>
                </span>
                <span className="pairs-line">
                  <span className="pairs-track" aria-hidden="true">
                    <span className="pairs-fill cur" style={{ width: `${lengths[i]!.current * 100}%` }} />
                  </span>
                  <span className="pairs-value small strong">
                    <span className="sr-only">, {currentName} </span>
                    {valueText(r.current)}
                  </span>
                </span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
