import { Fragment, useEffect, useState } from 'react';
import type { Episode } from '../../../shared/feedback';
import { Icon } from '../../components/icons';
import { useStore } from '../../store/store';
import { EpisodeCard, originWords } from './episode-card';
import { LIST_STATUS_WORDS, type ListStatus, answerWords, countWords, emptyListWords, inStatus, scoreText, spanWords } from './inbox-logic';

/** Rows shown at first, and added by each "Show more": a long list (the NAB series gives about 30 episodes) stays a page, not a wall. */
export const EPISODES_PAGE = 20;

/** Every episode, not only those the prompt asked about: answer more, or change a past answer, in a card that opens under its row. */
export function EpisodesTable() {
  const list = useStore((s) => s.episodeList);
  const byId = useStore((s) => s.episodesById);
  const load = useStore((s) => s.loadEpisodes);
  const [openId, setOpenId] = useState<number | null>(null);
  const [shown, setShown] = useState(EPISODES_PAGE);
  const now = Date.now();

  useEffect(() => {
    void load();
  }, [load]);

  // An answer given on this page moves its row out of Unanswered at once (the list reloads behind it).
  const all = (list.ids ?? []).map((id) => byId[id]).filter((e): e is Episode => e !== undefined && (openId === e.id || inStatus(e, list.status)));
  const rows = all.slice(0, shown);
  const hidden = all.length - rows.length;
  return (
    <section className="card table-card episodes-all" aria-labelledby="episodes-title" data-testid="episodes-table">
      <div className="episodes-all-head">
        <h3 id="episodes-title" className="table-title">
          All episodes
        </h3>
        <fieldset className="segmented small-seg" data-testid="episodes-filter">
          <legend className="sr-only">Show</legend>
          {(Object.keys(LIST_STATUS_WORDS) as ListStatus[]).map((s) => (
            <label key={s} className={list.status === s ? 'checked' : ''}>
              <input
                type="radio"
                name="episodes-filter"
                value={s}
                checked={list.status === s}
                onChange={() => {
                  setShown(EPISODES_PAGE);
                  void load(s);
                }}
              />
              {LIST_STATUS_WORDS[s]}
            </label>
          ))}
        </fieldset>
      </div>
      {list.error && (
        <p className="section small" role="alert">
          {list.error}
        </p>
      )}
      {list.ids === null && !list.error ? (
        <p className="muted section">Loading the episodes…</p>
      ) : rows.length === 0 ? (
        <p className="muted section" data-testid="episodes-empty">
          {emptyListWords(list.status)}
        </p>
      ) : (
        <>
          <p className="muted small episodes-count" data-testid="episodes-count">
            {countWords(all.length, rows.length)}
          </p>
          <table className="table compact episodes-table">
            <thead>
              <tr>
                <th scope="col">When (data time)</th>
                <th scope="col">Model and endpoint</th>
                <th scope="col">Peak score</th>
                <th scope="col">Answer</th>
                <th scope="col">
                  <span className="sr-only">Action</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((e) => (
                <Fragment key={e.id}>
                  <tr data-testid={`episode-row-${e.id}`} className={openId === e.id ? 'selected' : ''}>
                    <td>{spanWords(e.start, e.end, now)}</td>
                    <td className="small">{originWords(e)}</td>
                    <td className="nowrap">
                      {scoreText(e.peakScore)}
                      {e.threshold !== null && <span className="muted small block">alarm level {scoreText(e.threshold)}</span>}
                    </td>
                    <td>
                      {e.verdict ? (
                        <span className={`chip${e.verdict === 'real' ? ' chip-bad' : ''}`}>{answerWords(e)}</span>
                      ) : (
                        <span className="muted small">Not answered</span>
                      )}
                      {e.answeredBy && <span className="muted small block">by {e.answeredBy}</span>}
                    </td>
                    <td className="num">
                      <button className="button small" onClick={() => setOpenId(openId === e.id ? null : e.id)} aria-expanded={openId === e.id} data-testid="episode-row-open">
                        {openId === e.id ? (
                          <>
                            <Icon name="close" size={14} /> Close
                          </>
                        ) : e.verdict ? (
                          'Change answer'
                        ) : (
                          'Answer'
                        )}
                      </button>
                    </td>
                  </tr>
                  {openId === e.id && (
                    <tr className="episode-row-card">
                      <td colSpan={5}>
                        <EpisodeCard key={e.id} id={e.id} showReason={false} startEditing={Boolean(e.verdict)} onAnswered={() => setOpenId(null)} />
                      </td>
                    </tr>
                  )}
                </Fragment>
              ))}
            </tbody>
          </table>
          {hidden > 0 && (
            <p className="episodes-more">
              <button className="button small" onClick={() => setShown(shown + EPISODES_PAGE)} data-testid="episodes-more">
                Show {Math.min(hidden, EPISODES_PAGE)} more
              </button>
            </p>
          )}
        </>
      )}
    </section>
  );
}
