import { PairedBars } from '../../charts/paired-bars';
import { Icon } from '../../components/icons';
import { useStore } from '../../store/store';
import { VerdictChip } from './chips';
import { TEST_WORDS, WINDOW_WORDS, count, histogramRows, statText } from './monitor-logic';

/** The input picked in the table or the heat map: its live values over the training ones, bin by bin, with the drift statistics. */
export function InputPanel({ onClose }: { onClose(): void }) {
  const view = useStore((s) => s.inputView);
  if (!view) return null;
  const h = view.data;
  const drift = h?.drift;
  return (
    <section className="card section monitor-input-panel" aria-labelledby="input-panel-title" data-testid="input-histogram">
      <div className="monitor-drift-head">
        <h3 id="input-panel-title">{view.input}</h3>
        {drift && <VerdictChip verdict={drift.verdict} testId="input-verdict" />}
        <button className="icon-button input-close" onClick={onClose} aria-label={`Close ${view.input}`} title="Close">
          <Icon name="close" size={16} />
        </button>
      </div>
      {view.error && (
        <p role="alert" className="small">
          {view.error}
        </p>
      )}
      {!h && !view.error && <p className="muted small">Loading its values…</p>}
      {h && drift && (
        <>
          <p className="muted small">
            Share of rows in each range, training beside {WINDOW_WORDS[h.window].sentence} ({count(drift.rows, 'row', 'rows')}).
          </p>
          <PairedBars rows={histogramRows(h)} referenceName="Training" currentName={`Live, ${WINDOW_WORDS[h.window].sentence}`} ariaLabel={`${view.input}: training beside live`} testId="input-bars" />
          <dl className="facts compact-facts">
            <dt>PSI</dt>
            <dd>{statText(drift.psi)}</dd>
            {drift.test && (
              <>
                <dt>{TEST_WORDS[drift.test]}</dt>
                <dd>
                  {statText(drift.statistic)}
                  {drift.pValue !== null && `, p ${drift.pValue < 0.001 ? '< 0.001' : `= ${statText(drift.pValue)}`}`}
                </dd>
              </>
            )}
          </dl>
        </>
      )}
    </section>
  );
}
