import { useState } from 'react';
import type { KeyboardEvent as ReactKeyboardEvent } from 'react';
import { formatZonedTime, niceTimeTicks } from '../../shared/downsample';
import type { DriftVerdict } from '../../shared/monitor';
import { formatNumber } from './chart-math';
import { CELL_LEGEND, type Cell, cellTone, heatLayout, moveCell, newestFilledCol, slotLabel } from './drift-chart-math';
import { useWidth } from './use-width';
import './drift-charts.css';

export interface HeatmapProps {
  /** Row names, top to bottom. */
  inputs: readonly string[];
  /** Slot start times (ISO), left to right. */
  slots: readonly string[];
  /** PSI per input per slot (null: no rows). */
  psi: readonly (readonly (number | null)[])[];
  verdicts: readonly (readonly DriftVerdict[])[];
  /** Length of one slot (ms), for the cells' titles. */
  slotMs: number;
  /** The input shown elsewhere on the page, outlined. */
  selected?: string | null;
  /** A click on a row, or Enter on a cell, picks its input. */
  onSelect?(input: string): void;
  ariaLabel: string;
  timeZone?: string;
}

const LABEL_W = 150;
const ROW_H = 22;
const AXIS_H = 22;
const VERDICT_WORDS: Record<DriftVerdict, string> = { stable: 'stable', watch: 'watch', changed: 'changed', unknown: 'too few rows to say' };

/**
 * Inputs × time, each cell shaded by its PSI against training: greys while an
 * input is stable, the abnormal colours only for watch and changed, a legend
 * in words. Hover a cell for its value; focus the chart and use the arrow keys
 * to read cells (starting at the newest slot with rows), Enter to open the input.
 */
export function Heatmap({ inputs, slots, psi, verdicts, slotMs, selected = null, onSelect, ariaLabel, timeZone }: HeatmapProps) {
  const [wrapRef, width] = useWidth<HTMLDivElement>();
  const [active, setActive] = useState<Cell | null>(null);

  const times = slots.map((s) => Date.parse(s));
  const span = times.length ? times[times.length - 1]! + slotMs - times[0]! : 0;
  const L = heatLayout({ width, slots: slots.length, rows: inputs.length, labelW: LABEL_W, rowH: ROW_H, axisH: AXIS_H, labelPx: span > 86_400_000 ? 70 : 56 });
  const from = times[0] ?? 0;
  // Labels on round times (hours, days), as on the charts above, kept inside the chart at its ends.
  const ticks = span > 0 ? niceTimeTicks(from, from + span, L.maxLabels, timeZone) : [];
  const tickX = (t: number) => Math.min(L.width - 22, Math.max(L.left + 16, L.left + ((t - from) / span) * L.cellW * slots.length));
  const maxChars = Math.floor((LABEL_W - 12) / 7);
  const short = (s: string) => (s.length > maxChars ? `${s.slice(0, maxChars - 1)}…` : s);

  const cellWords = (row: number, col: number) => {
    const v = psi[row]?.[col] ?? null;
    const verdict = verdicts[row]?.[col] ?? 'unknown';
    const t = times[col]!;
    const when = `${formatZonedTime(t, timeZone)} – ${slotLabel(t + slotMs, 0, timeZone)}`;
    return `${inputs[row]}, ${when}: ${v === null ? 'no rows' : `PSI ${formatNumber(v, 3)}, ${VERDICT_WORDS[verdict]}`}`;
  };

  const onKeyDown = (e: ReactKeyboardEvent<SVGSVGElement>) => {
    if ((e.key === 'Enter' || e.key === ' ') && active && onSelect) {
      e.preventDefault();
      onSelect(inputs[active.row]!);
      return;
    }
    if (e.key === 'Escape') return setActive(null);
    const next = moveCell(active, e.key, inputs.length, slots.length, newestFilledCol(psi, slots.length));
    if (!next) return;
    e.preventDefault();
    setActive(next);
  };

  if (inputs.length === 0 || slots.length === 0) {
    return (
      <div className="heatmap" ref={wrapRef}>
        <p className="muted small">No rows in this window yet.</p>
      </div>
    );
  }

  return (
    <div className="heatmap" ref={wrapRef}>
      <div className="heatmap-scroll">
        {width > 0 && (
          <svg
            className="heatmap-svg"
            width={L.width}
            height={L.height}
            role="img"
            aria-label={`${ariaLabel}. Arrow keys read the cells; Enter opens the input.`}
            tabIndex={0}
            onKeyDown={onKeyDown}
            onBlur={() => setActive(null)}
            data-testid="heatmap"
          >
            {inputs.map((name, row) => (
              <g
                key={name}
                className={`heatmap-row${selected === name ? ' selected' : ''}${onSelect ? ' clickable' : ''}`}
                onClick={onSelect ? () => onSelect(name) : undefined}
                data-testid={`heatmap-row-${name}`}
              >
                <rect className="heatmap-row-hit" x={0} y={row * ROW_H} width={L.width} height={ROW_H} />
                <text className="heatmap-label" x={LABEL_W - 8} y={row * ROW_H + ROW_H / 2} dy="0.35em" textAnchor="end">
                  <title>{name}</title>
                  {short(name)}
                </text>
                {slots.map((_, col) => {
                  const tone = cellTone(verdicts[row]?.[col] ?? 'unknown', psi[row]?.[col] ?? null);
                  const x = L.left + col * L.cellW;
                  return (
                    <rect key={col} className={`heatmap-cell tone-${tone}`} x={x} y={row * ROW_H + 1} width={Math.max(1, L.cellW - 1)} height={ROW_H - 2}>
                      <title>{cellWords(row, col)}</title>
                    </rect>
                  );
                })}
                {L.cellW >= 12 &&
                  slots.map((_, col) =>
                    (verdicts[row]?.[col] ?? 'unknown') === 'changed' ? (
                      <text key={`m${col}`} className="heatmap-mark" x={L.left + col * L.cellW + (L.cellW - 1) / 2} y={row * ROW_H + ROW_H / 2} dy="0.35em" textAnchor="middle" aria-hidden="true">
                        !
                      </text>
                    ) : null,
                  )}
              </g>
            ))}
            {ticks.map((t) => (
              <text key={t.t} className="heatmap-time" x={tickX(t.t)} y={inputs.length * ROW_H + 15} textAnchor="middle">
                {t.label}
              </text>
            ))}
            {active && (
              <rect
                className="heatmap-active"
                x={L.left + active.col * L.cellW - 1}
                y={active.row * ROW_H}
                width={L.cellW + 1}
                height={ROW_H}
                pointerEvents="none"
              />
            )}
          </svg>
        )}
      </div>
      <ul className="heatmap-legend small" aria-label="Shades">
        {CELL_LEGEND.map((l) => (
          <li key={l.tone}>
            <i className={`heatmap-key tone-${l.tone}`} aria-hidden="true" /> {l.label}
          </li>
        ))}
      </ul>
      <p className="sr-only" aria-live="polite">
        {active ? cellWords(active.row, active.col) : ''}
      </p>
    </div>
  );
}
