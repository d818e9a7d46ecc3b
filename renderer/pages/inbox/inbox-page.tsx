import { useCallback, useEffect, useRef, useState } from 'react';
import { EmptyState } from '../../components/empty-state';
import { Icon } from '../../components/icons';
import { useStore } from '../../store/store';
import { timeZoneLabel } from '../when';
import { type CardHandle, EpisodeCard } from './episode-card';
import { EpisodesTable } from './episodes-table';
import { clockWords, inboxKey, moveFocus, nextPromptWords, nextUnanswered } from './inbox-logic';
import './inbox.css';

/** Typing in a field is never an answer. */
function inField(t: EventTarget | null): boolean {
  return t instanceof HTMLElement && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName));
}

/**
 * The Inbox: the few episodes the last prompt asked about, most informative
 * first, each answered with a click or a key (R, N, U; J/K to move); below, every
 * episode, to answer more or change an answer.
 */
export function InboxPage() {
  const inbox = useStore((s) => s.inbox);
  const error = useStore((s) => s.inboxError);
  const cards = useStore((s) => s.inboxCards);
  const byId = useStore((s) => s.episodesById);
  const asking = useStore((s) => s.asking);
  const loadInbox = useStore((s) => s.loadInbox);
  const loadCauses = useStore((s) => s.loadCauses);
  const askNow = useStore((s) => s.askNow);
  const [current, setCurrent] = useState<number | null>(null);
  const handles = useRef(new Map<number, CardHandle>());
  const now = Date.now();

  useEffect(() => {
    void loadInbox(true);
    void loadCauses();
  }, [loadInbox, loadCauses]);

  const answered = useCallback((id: number) => Boolean(useStore.getState().episodesById[id]?.verdict), []);
  const focusCard = useCallback((id: number | null) => {
    setCurrent(id);
    if (id !== null) handles.current.get(id)?.focus();
  }, []);

  // The first unanswered card is the one the keys answer until another is picked.
  const first = cards.find((id) => !byId[id]?.verdict) ?? cards[0] ?? null;
  const target = current !== null && cards.includes(current) ? current : first;

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (document.querySelector('dialog[open]')) return;
      const k = inboxKey(e, inField(e.target));
      if (!k || target === null) return;
      // A card opened from the table answers with its buttons; the keys belong to the questions above.
      if (e.target instanceof Element && e.target.closest('.episodes-all')) return;
      // Arrows inside a chart read its values; J and K still move between cards.
      if (k.kind === 'move' && e.key.startsWith('Arrow') && e.target instanceof Element && e.target.closest('.lc-svg')) return;
      e.preventDefault();
      if (k.kind === 'move') focusCard(moveFocus(cards, target, k.by));
      else handles.current.get(target)?.answer(k.verdict);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [cards, target, focusCard]);

  const afterAnswer = (id: number) => () => {
    const next = nextUnanswered(cards, answered, id);
    if (next !== id) requestAnimationFrame(() => focusCard(next));
  };

  const unansweredShown = cards.filter((id) => !byId[id]?.verdict).length;
  const askButton = (primary: boolean) => (
    <button className={`button${primary ? ' primary' : ''}`} onClick={() => void askNow()} disabled={asking} aria-busy={asking} data-testid="ask-now">
      {asking ? <span className="spinner" aria-hidden /> : <Icon name="inbox" size={16} />}
      {asking ? 'Looking for episodes…' : 'Ask me now'}
    </button>
  );

  return (
    <div className="page wide inbox">
      {!inbox && error && (
        <p className="card section inbox-error" role="alert" data-testid="inbox-error">
          {error}
        </p>
      )}
      {!inbox && !error && <p className="muted">Loading your questions…</p>}
      {inbox && cards.length === 0 && (
        <EmptyState icon="inbox" title={inbox.unanswered > 0 ? 'No questions asked yet' : 'Nothing to answer'} actions={askButton(true)}>
          <p data-testid="inbox-next">{nextPromptWords(inbox.nextPromptAt, now)}</p>
          <p className="muted small">
            When a deployed model flags unusual behaviour, Millwright groups the rows into episodes and asks about a few of them at each prompt: was this a
            real problem? Your answers teach the next model.
            {inbox.unanswered > 0 && ` ${inbox.unanswered.toLocaleString()} ${inbox.unanswered === 1 ? 'episode is' : 'episodes are'} waiting below; "Ask me now" picks the most useful.`}
          </p>
        </EmptyState>
      )}
      {inbox && cards.length > 0 && (
        <>
          <div className="toolbar inbox-toolbar">
            <span className="muted" data-testid="inbox-summary">
              {unansweredShown === 0 ? 'All answered, thank you' : `${unansweredShown} ${unansweredShown === 1 ? 'question' : 'questions'}`}
              {inbox.lastPromptAt && ` · asked at ${clockWords(inbox.lastPromptAt, now)}`} · {nextPromptWords(inbox.nextPromptAt, now).replace(/\.$/, '')} · times in {timeZoneLabel()}
            </span>
            <div className="toolbar-actions">{askButton(false)}</div>
          </div>
          <p className="inbox-keys muted small" aria-hidden="true">
            Keys: <kbd>R</kbd> real problem · <kbd>N</kbd> normal operation · <kbd>U</kbd> not sure · <kbd>J</kbd> <kbd>K</kbd> next, previous
          </p>
          <ol className="inbox-cards" aria-label="Questions, most informative first">
            {cards.map((id) => (
              <li key={id}>
                <EpisodeCard
                  ref={(h) => {
                    if (h) handles.current.set(id, h);
                    else handles.current.delete(id);
                  }}
                  id={id}
                  current={id === target}
                  onFocusCard={() => setCurrent(id)}
                  onAnswered={afterAnswer(id)}
                />
              </li>
            ))}
          </ol>
        </>
      )}
      {(inbox || error) && <EpisodesTable />}
    </div>
  );
}
