import { forwardRef, useEffect, useId, useImperativeHandle, useRef, useState } from 'react';
import { VERDICT_TITLES, type Episode, type Verdict } from '../../../shared/feedback';
import { Icon } from '../../components/icons';
import { useStore } from '../../store/store';
import { EpisodeCharts } from './episode-charts';
import { VERDICT_KEYS, answerWords, causeChoices, clockWords, peakWords, spanWords } from './inbox-logic';

/** What the page can ask of a card: answer it (from a key press) and take the focus. */
export interface CardHandle {
  answer(verdict: Verdict): void;
  focus(): void;
}

const VERDICT_ICON: Record<Verdict, 'alert' | 'check' | 'info'> = { real: 'alert', normal: 'check', unsure: 'info' };

/** Where an episode came from: "Kiln watch on kiln-1", or a scoring job. */
export function originWords(e: Episode): string {
  if (e.origin === 'batch') return `${e.model}, version ${e.version}, in a scored file`;
  return `${e.model}, version ${e.version}, on ${e.endpoint ?? 'an endpoint'}${e.source && e.source !== 'default' ? ` (${e.source})` : ''}`;
}

/**
 * One episode: when, how unusual, the trends around it, and the question. Once
 * answered it folds to one line with "Change answer". Real problem opens the cause
 * picker; Normal operation and Not sure are stored at once.
 */
export const EpisodeCard = forwardRef<
  CardHandle,
  { id: number; current?: boolean; onFocusCard?(): void; onAnswered?(verdict: Verdict): void; showReason?: boolean; startEditing?: boolean }
>(function EpisodeCard({ id, current = false, onFocusCard, onAnswered, showReason = true, startEditing = false }, ref) {
    const e = useStore((s) => s.episodesById[id]);
    const view = useStore((s) => s.details[id]);
    const loadEpisode = useStore((s) => s.loadEpisode);
    const answer = useStore((s) => s.answer);
    const now = Date.now();
    const [editing, setEditing] = useState(startEditing);
    const [comment, setComment] = useState(startEditing ? (e?.comment ?? '') : '');
    const [mode, setMode] = useState<'ask' | 'cause'>('ask');
    const [busy, setBusy] = useState(false);
    const [error, setError] = useState<string | null>(null);
    const rootRef = useRef<HTMLElement>(null);
    const titleId = useId();
    const open = !e?.verdict || editing;

    useEffect(() => {
      if (open && !view) void loadEpisode(id);
    }, [id, open, view, loadEpisode]);

    const save = async (verdict: Verdict, cause?: string) => {
      if (busy) return;
      setBusy(true);
      setError(null);
      const refused = await answer(id, verdict, cause, comment);
      setBusy(false);
      if (refused) return setError(refused);
      setEditing(false);
      setMode('ask');
      onAnswered?.(verdict);
    };
    const choose = (verdict: Verdict) => {
      if (!open) return;
      if (verdict === 'real') setMode('cause');
      else void save(verdict);
    };

    useImperativeHandle(ref, () => ({ answer: choose, focus: () => rootRef.current?.focus() }));

    const startEdit = () => {
      setEditing(true);
      setComment(e?.comment ?? '');
      setMode('ask');
      requestAnimationFrame(() => rootRef.current?.focus());
    };

    if (!e) return null;

    if (!open) {
      return (
        <article
          ref={rootRef}
          className={`card episode-card answered${current ? ' current' : ''}`}
          tabIndex={0}
          aria-labelledby={titleId}
          onFocus={onFocusCard}
          data-testid={`episode-card-${id}`}
          data-verdict={e.verdict ?? undefined}
        >
          <span className={`chip${e.verdict === 'real' ? ' chip-bad' : ''}`} data-testid="episode-answer">
            <Icon name={VERDICT_ICON[e.verdict!]} size={13} /> {answerWords(e)}
          </span>
          <span id={titleId} className="episode-line">
            {originWords(e)} · {spanWords(e.start, e.end, now)}
            {e.answeredBy && (
              <span className="muted small">
                {' '}
                · answered by {e.answeredBy}
                {e.answeredAt ? ` at ${clockWords(e.answeredAt, now)}` : ''}
              </span>
            )}
          </span>
          <button className="button small" onClick={startEdit} data-testid="episode-change">
            Change answer
          </button>
        </article>
      );
    }

    const detail = view?.detail ?? null;
    return (
      <article
        ref={rootRef}
        className={`card episode-card${current ? ' current' : ''}`}
        tabIndex={0}
        aria-labelledby={titleId}
        onFocus={onFocusCard}
        data-testid={`episode-card-${id}`}
      >
        <header className="episode-head">
          <div className="episode-title">
            <h3 id={titleId}>{spanWords(e.start, e.end, now)}</h3>
            <p className="small">
              {originWords(e)} · {e.rows.toLocaleString()} unusual {e.rows === 1 ? 'row' : 'rows'}
              {e.open && <span className="muted"> · may still grow</span>}
            </p>
          </div>
          <p className="episode-peak" data-testid="episode-peak">
            {peakWords(e)}
          </p>
        </header>
        {showReason && e.rankReason && (
          <p className="episode-why muted small" data-testid="episode-why">
            <Icon name="info" size={13} /> Asked because: {e.rankReason}
          </p>
        )}
        {detail ? (
          <EpisodeCharts detail={detail} />
        ) : view?.error ? (
          <p className="small" role="alert">
            {view.error}
          </p>
        ) : (
          <p className="muted small episode-charts-loading">Loading the trends around this episode…</p>
        )}
        {editing && e.verdict && (
          <p className="small muted">
            Now: {answerWords(e)}
            {e.answeredBy ? `, by ${e.answeredBy}` : ''}. Pick the new answer.
          </p>
        )}
        <div className="episode-answer" role="group" aria-label="Was this a real problem?">
          <span className="episode-question strong">Was this a real problem?</span>
          <div className="episode-buttons">
            {(['real', 'normal', 'unsure'] as const).map((v) => (
              <button
                key={v}
                className={`button${mode === 'cause' && v === 'real' ? ' pressed' : ''}`}
                onClick={() => choose(v)}
                disabled={busy}
                aria-keyshortcuts={VERDICT_KEYS[v]}
                aria-pressed={v === 'real' ? mode === 'cause' : undefined}
                data-testid={`answer-${v}`}
              >
                {VERDICT_TITLES[v]} <kbd>{VERDICT_KEYS[v]}</kbd>
              </button>
            ))}
          </div>
          <input
            className="episode-comment"
            value={comment}
            onChange={(ev) => setComment(ev.target.value)}
            placeholder="Comment (optional)"
            aria-label="Comment (optional)"
            maxLength={2000}
            data-testid="answer-comment"
          />
        </div>
        {mode === 'cause' && <CausePicker initial={e.cause ?? ''} busy={busy} onSave={(cause) => void save('real', cause)} onCancel={() => (setMode('ask'), rootRef.current?.focus())} />}
        {error && (
          <p className="episode-error" role="alert">
            {error}
          </p>
        )}
        {editing && (
          <button className="link-button" onClick={() => setEditing(false)}>
            Keep the answer as it was
          </button>
        )}
      </article>
    );
});

/** "What was it?": causes given before as one-click choices, or a new one typed; Enter saves. */
function CausePicker({ initial, busy, onSave, onCancel }: { initial: string; busy: boolean; onSave(cause: string): void; onCancel(): void }) {
  const causes = useStore((s) => s.causes);
  const loadCauses = useStore((s) => s.loadCauses);
  const [typed, setTyped] = useState(initial);
  const inputRef = useRef<HTMLInputElement>(null);
  const id = useId();
  useEffect(() => {
    void loadCauses();
    inputRef.current?.focus();
  }, [loadCauses]);
  const known = causeChoices(causes, '').map((c) => c.cause);
  const suggestions = causeChoices(causes, typed).filter((c) => !c.isNew);
  return (
    <div className="cause-picker" data-testid="cause-picker">
      <label htmlFor={id} className="strong">
        What was it?
      </label>
      {known.length > 0 && (
        <div className="cause-chips" role="group" aria-label="Causes given before">
          {(typed.trim() ? suggestions : causeChoices(causes, '')).map((c) => (
            <button key={c.cause} type="button" className="chip cause-chip" onClick={() => onSave(c.cause)} disabled={busy} data-testid="cause-choice">
              {c.cause}
            </button>
          ))}
        </div>
      )}
      <form
        className="cause-form"
        onSubmit={(ev) => {
          ev.preventDefault();
          onSave(typed);
        }}
      >
        <input
          id={id}
          ref={inputRef}
          value={typed}
          onChange={(ev) => setTyped(ev.target.value)}
          onKeyDown={(ev) => {
            if (ev.key === 'Escape') {
              ev.preventDefault();
              onCancel();
            }
          }}
          placeholder={known.length > 0 ? 'Or type a new cause' : 'Type the cause, e.g. bearing wear'}
          maxLength={200}
          data-testid="cause-input"
        />
        <button type="submit" className="button primary" disabled={busy}>
          {busy && <span className="spinner" aria-hidden />}
          {typed.trim() ? 'Save: real problem' : 'Save without a cause'}
        </button>
      </form>
    </div>
  );
}
