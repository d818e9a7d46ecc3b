import { Icon } from '../components/icons';
import './result-charts.css';

export interface OutcomeCell {
  label: string;
  count: number;
  correct: boolean;
  hint: string;
}

const count = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });

/**
 * The four outcomes of a yes/no model, in words: Caught, Missed, False alarm,
 * Correct all-clear. Wrong outcomes carry an icon as well as a tint, never colour alone.
 */
export function OutcomeMatrix({ cells, positive, ariaLabel }: { cells: OutcomeCell[][]; positive: string; ariaLabel: string }) {
  const rows = [positive, 'Normal'];
  const cols = ['Alarm', 'No alarm'];
  return (
    <table className="cm cm-binary" data-testid="confusion-matrix" aria-label={ariaLabel}>
      <thead>
        <tr>
          <td className="cm-corner" />
          {cols.map((c) => (
            <th key={c} scope="col">
              {c}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {cells.map((row, i) => (
          <tr key={i}>
            <th scope="row">{rows[i]}</th>
            {row.map((c) => (
              <td key={c.label} className={c.correct ? 'cm-right' : 'cm-wrong'} title={c.hint}>
                <span className="cm-count">{count.format(c.count)}</span>
                <span className="cm-word">
                  {!c.correct && <Icon name="alert" size={13} />}
                  {c.label}
                </span>
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * Which category the model said (columns) for rows of each real category (rows).
 * The diagonal is right; shading follows the share of each real category, so a rare class reads as clearly as a common one.
 */
export function ConfusionMatrix({ classes, matrix, ariaLabel }: { classes: string[]; matrix: number[][]; ariaLabel: string }) {
  const totals = matrix.map((r) => r.reduce((a, b) => a + b, 0));
  return (
    <div className="cm-scroll">
      <table className="cm" data-testid="confusion-matrix" aria-label={ariaLabel}>
        <thead>
          <tr>
            <td className="cm-corner small muted">Real ↓ · Said →</td>
            {classes.map((c) => (
              <th key={c} scope="col" title={c}>
                {c}
              </th>
            ))}
            <th scope="col" className="cm-total">
              Right
            </th>
          </tr>
        </thead>
        <tbody>
          {matrix.map((row, i) => (
            <tr key={i}>
              <th scope="row" title={classes[i]}>
                {classes[i] ?? `Class ${i + 1}`}
              </th>
              {row.map((v, j) => {
                const share = totals[i]! > 0 ? v / totals[i]! : 0;
                const right = i === j;
                return (
                  <td
                    key={j}
                    className={`${right ? 'cm-diag' : v > 0 ? 'cm-off' : 'cm-zero'}`}
                    style={{ ['--a' as string]: share.toFixed(2) }}
                    title={`Real ${classes[i]}, said ${classes[j]}: ${count.format(v)} (${Math.round(share * 100)} % of real ${classes[i]})`}
                  >
                    {count.format(v)}
                  </td>
                );
              })}
              <td className="cm-total">{totals[i]! > 0 ? `${Math.round((100 * (row[i] ?? 0)) / totals[i]!)} %` : '–'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
