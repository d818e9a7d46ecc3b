import { useEffect, useId, useState } from 'react';
import { Icon } from '../components/icons';
import { useStore } from '../store/store';
import { type FeedbackDraft, type FeedbackDraftField, feedbackDraft, parseFeedbackDraft } from './inbox/inbox-logic';
import './inbox/inbox.css';
import './monitoring/monitoring.css';

/** Settings › Feedback: when the Inbox asks, how many episodes at a time, and (under Advanced) how unusual rows group into episodes. */
export function FeedbackSettingsSection() {
  const settings = useStore((s) => s.feedbackSettings);
  const load = useStore((s) => s.loadFeedbackSettings);
  const configure = useStore((s) => s.configureFeedback);
  const toast = useStore((s) => s.toast);
  const [draft, setDraft] = useState<FeedbackDraft | null>(null);
  const [problem, setProblem] = useState<{ field: FeedbackDraftField | null; error: string } | null>(null);
  const [saving, setSaving] = useState(false);
  const [advanced, setAdvanced] = useState(false);
  const id = useId();

  useEffect(() => {
    void load();
  }, [load]);
  useEffect(() => {
    if (settings) setDraft(feedbackDraft(settings));
  }, [settings]);

  if (!draft || !settings) {
    return (
      <section className="card section" aria-labelledby={`${id}-title`}>
        <h2 id={`${id}-title`}>Questions about episodes</h2>
        <p className="muted">Loading…</p>
      </section>
    );
  }

  const dirty = JSON.stringify(draft) !== JSON.stringify(feedbackDraft(settings));
  const edit = (p: Partial<FeedbackDraft>) => {
    setDraft({ ...draft, ...p });
    setProblem(null);
  };
  const save = async () => {
    const parsed = parseFeedbackDraft(draft);
    if ('error' in parsed) return setProblem(parsed);
    setSaving(true);
    const refused = await configure(parsed.settings);
    setSaving(false);
    if (refused) setProblem({ field: null, error: refused });
    else toast('success', `Saved. The Inbox asks at ${parsed.settings.promptTimes.join(', ')}, about at most ${parsed.settings.perPrompt} ${parsed.settings.perPrompt === 1 ? 'episode' : 'episodes'} each time.`);
  };
  const bad = (f: FeedbackDraftField) => problem?.field === f;
  const invalid = (f: FeedbackDraftField) => ({ 'aria-invalid': bad(f) || undefined, 'aria-describedby': bad(f) ? `${id}-error` : undefined });
  const numberBox = (f: Exclude<FeedbackDraftField, 'promptTimes'>, label: string) => (
    <input className="inline-number" inputMode="decimal" size={5} value={draft[f]} onChange={(e) => edit({ [f]: e.target.value })} aria-label={label} {...invalid(f)} data-testid={`feedback-setting-${f}`} />
  );
  const times = draft.promptTimes;
  // A wrong number under Advanced opens it, so the field named in the sentence is on screen.
  const advancedProblem = problem?.field === 'gapMinutes' || problem?.field === 'minMinutes' || problem?.field === 'minRows';

  return (
    <section className="card section monitor-settings feedback-settings" aria-labelledby={`${id}-title`} data-testid="feedback-settings">
      <h2 id={`${id}-title`}>Questions about episodes</h2>
      <p className="muted small">
        Millwright groups unusual rows from deployed models into episodes and asks about a few of them in the Inbox, the most useful first. Your answers
        teach the next model.
      </p>
      <div className="rule-line feedback-times" role="group" aria-labelledby={`${id}-times`}>
        <span id={`${id}-times`}>Ask at</span>
        {times.map((t, i) => (
          <span key={i} className="feedback-time">
            <input
              type="time"
              value={t}
              onChange={(e) => edit({ promptTimes: times.map((x, j) => (j === i ? e.target.value : x)) })}
              aria-label={`Prompt time ${i + 1}`}
              {...invalid('promptTimes')}
              data-testid="feedback-setting-time"
            />
            {times.length > 1 && (
              <button type="button" className="icon-button" onClick={() => edit({ promptTimes: times.filter((_, j) => j !== i) })} aria-label={`Remove ${t || `time ${i + 1}`}`}>
                <Icon name="close" size={14} />
              </button>
            )}
          </span>
        ))}
        {times.length < 12 && (
          <button type="button" className="button small" onClick={() => edit({ promptTimes: [...times, ''] })} data-testid="feedback-add-time">
            <Icon name="plus" size={14} /> Add a time
          </button>
        )}
        <span className="muted small">(this PC&apos;s clock)</span>
      </div>
      <div className="rule-line">
        Ask about at most
        <select value={draft.perPrompt} onChange={(e) => edit({ perPrompt: Number(e.target.value) })} aria-label="Episodes per prompt" data-testid="feedback-setting-perPrompt">
          {[1, 2, 3, 4, 5].map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
        {draft.perPrompt === 1 ? 'episode' : 'episodes'} each time
      </div>
      <label className="rule-line">
        <input type="checkbox" checked={draft.notifications} onChange={(e) => edit({ notifications: e.target.checked })} data-testid="feedback-setting-notifications" />
        Also show each prompt as a Windows or macOS notification (in the desktop app)
      </label>
      <details className="feedback-advanced" open={advanced || advancedProblem} onToggle={(e) => setAdvanced(e.currentTarget.open)}>
        <summary>Advanced: how unusual rows become episodes</summary>
        <div className="rule-line">
          Unusual rows up to {numberBox('gapMinutes', 'Gap in minutes that still joins unusual rows')} minutes apart (in the data&apos;s own time) belong to one episode.
        </div>
        <div className="rule-line">
          Ask only about episodes at least {numberBox('minMinutes', 'Shortest episode to ask about, in minutes')} minutes long with at least{' '}
          {numberBox('minRows', 'Fewest unusual rows to ask about')} unusual rows.
        </div>
      </details>
      {problem && (
        <p className="field-error" id={`${id}-error`} role="alert">
          {problem.error}
        </p>
      )}
      <div className="rule-actions">
        <button className="button primary" onClick={() => void save()} disabled={!dirty || saving} data-testid="feedback-settings-save">
          {saving ? 'Saving…' : 'Save'}
        </button>
        {dirty && (
          <button className="button" onClick={() => (setDraft(feedbackDraft(settings)), setProblem(null))}>
            Undo changes
          </button>
        )}
      </div>
    </section>
  );
}
