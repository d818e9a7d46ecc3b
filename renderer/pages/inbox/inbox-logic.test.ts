import { describe, expect, it } from 'vitest';
import { DEFAULT_FEEDBACK_SETTINGS, type Episode, type EpisodeDetail } from '../../../shared/feedback';
import {
  answerWords,
  cardCharts,
  countWords,
  causeChoices,
  deviationWords,
  clockWords,
  durationWords,
  inStatus,
  medianStep,
  feedbackDraft,
  parseFeedbackDraft,
  inboxKey,
  mergeCards,
  moveFocus,
  nextPromptWords,
  nextUnanswered,
  peakWords,
  scoreText,
  spanWords,
} from './inbox-logic';

const NOW = Date.parse('2026-11-26T10:30:00Z');
const key = (k: string, mods: Partial<{ ctrlKey: boolean; altKey: boolean; metaKey: boolean }> = {}) => ({ key: k, ctrlKey: false, altKey: false, metaKey: false, ...mods });

const episode = (p: Partial<Episode> = {}): Episode => ({
  id: 7,
  model: 'Kiln watch',
  version: 1,
  origin: 'endpoint',
  endpoint: 'kiln-1',
  job: null,
  source: null,
  start: '2026-12-10T06:25:00Z',
  end: '2026-12-10T08:40:00Z',
  rows: 28,
  peakScore: 0.82,
  threshold: 0.61,
  inputs: [
    { name: 'Temperature', deviation: 4.24, value: 98.1, normalLow: 70, normalHigh: 90 },
    { name: 'Vibration', deviation: 2.5, value: 3.1, normalLow: 0.5, normalHigh: 2.5 },
  ],
  open: false,
  verdict: null,
  cause: null,
  comment: null,
  answeredBy: null,
  answeredAt: null,
  promptedAt: null,
  rank: 0.8,
  rankReason: 'close to the alarm level',
  createdAt: '2026-12-10T09:00:00Z',
  ...p,
});

describe('durationWords', () => {
  it('says a span in minutes, hours and minutes, or days and hours', () => {
    expect(durationWords(20_000)).toBe('under a minute');
    expect(durationWords(40 * 60_000)).toBe('40 min');
    expect(durationWords(135 * 60_000)).toBe('2 h 15 min');
    expect(durationWords(3 * 3600_000)).toBe('3 h');
    expect(durationWords(53 * 3600_000)).toBe('2 d 5 h');
    expect(durationWords(-1)).toBe('–');
  });
});

describe('spanWords', () => {
  it('says the length, the day and the clock times in data time', () => {
    expect(spanWords('2026-12-10T06:25:00Z', '2026-12-10T08:40:00Z', NOW, 'en-GB', 'UTC')).toBe('2 h 15 min on 10 Dec, 06:25–08:40');
  });
  it('shows one time for a single row, and the year when it is not this year', () => {
    expect(spanWords('2013-12-10T06:25:00Z', '2013-12-10T06:25:00Z', NOW, 'en-GB', 'UTC')).toBe('under a minute on 10 Dec 2013, 06:25');
  });
  it('names both days across midnight', () => {
    expect(spanWords('2026-12-10T22:00:00Z', '2026-12-11T07:00:00Z', NOW, 'en-GB', 'UTC')).toBe('9 h from 10 Dec, 22:00 to 11 Dec, 07:00');
  });
  it('reads the clock in the plant zone', () => {
    expect(spanWords('2026-12-10T06:25:00Z', '2026-12-10T08:40:00Z', NOW, 'en-GB', 'Europe/Berlin')).toBe('2 h 15 min on 10 Dec, 07:25–09:40');
  });
});

describe('scores', () => {
  it('keeps three significant digits so a peak is told apart from the alarm level', () => {
    expect(scoreText(0.6123, 'en-US')).toBe('0.612');
    expect(scoreText(12.345, 'en-US')).toBe('12.3');
    expect(scoreText(0.000123, 'en-US')).toBe('0.0001');
    expect(scoreText(null)).toBe('–');
  });
  it('puts the peak beside the alarm level', () => {
    expect(peakWords(episode(), 'en-US')).toBe('Peak score 0.820, alarm level 0.610');
    expect(peakWords(episode({ threshold: null }), 'en-US')).toBe('Peak score 0.820');
  });
  it('says how far an input went in plant words', () => {
    expect(deviationWords({ deviation: 4.24, normalLow: 70 }, 'en-US')).toBe('4.2 × its usual spread from training');
    expect(deviationWords({ deviation: 1, normalLow: null }, 'en-US')).toBe('a value not seen in training');
  });
});

describe('nextPromptWords', () => {
  it('says today, tomorrow, or the day', () => {
    expect(nextPromptWords('2026-11-26T14:00:00Z', NOW, 'en-GB', 'UTC')).toBe('Next questions at 14:00.');
    expect(nextPromptWords('2026-11-27T06:00:00Z', NOW, 'en-GB', 'UTC')).toBe('Next questions tomorrow at 06:00.');
    expect(nextPromptWords('2026-11-29T06:00:00Z', NOW, 'en-GB', 'UTC')).toBe('Next questions on 29 Nov at 06:00.');
  });
});

describe('keys', () => {
  it('answers with R, N and U and moves with J/K and the arrows', () => {
    expect(inboxKey(key('r'), false)).toEqual({ kind: 'answer', verdict: 'real' });
    expect(inboxKey(key('N'), false)).toEqual({ kind: 'answer', verdict: 'normal' });
    expect(inboxKey(key('u'), false)).toEqual({ kind: 'answer', verdict: 'unsure' });
    expect(inboxKey(key('j'), false)).toEqual({ kind: 'move', by: 1 });
    expect(inboxKey(key('ArrowUp'), false)).toEqual({ kind: 'move', by: -1 });
    expect(inboxKey(key('x'), false)).toBeNull();
  });
  it('leaves typing in a field and Ctrl+R alone', () => {
    expect(inboxKey(key('r'), true)).toBeNull();
    expect(inboxKey(key('r', { ctrlKey: true }), false)).toBeNull();
    expect(inboxKey(key('n', { metaKey: true }), false)).toBeNull();
  });
  it('moves within the list', () => {
    expect(moveFocus([3, 5, 9], null, 1)).toBe(3);
    expect(moveFocus([3, 5, 9], null, -1)).toBe(9);
    expect(moveFocus([3, 5, 9], 5, 1)).toBe(9);
    expect(moveFocus([3, 5, 9], 9, 1)).toBe(9);
    expect(moveFocus([3, 5, 9], 3, -1)).toBe(3);
    expect(moveFocus([], 3, 1)).toBeNull();
  });
  it('goes on to the next unanswered card after an answer', () => {
    const answered = new Set([5]);
    expect(nextUnanswered([3, 5, 9], (id) => answered.has(id) || id === 3, 3)).toBe(9);
    expect(nextUnanswered([3, 5, 9], (id) => id !== 3, 9)).toBe(3);
    expect(nextUnanswered([3], () => true, 3)).toBe(3);
  });
});

describe('cards and causes', () => {
  it('keeps the cards shown and adds the newly due ones', () => {
    expect(mergeCards([3, 5], [5, 8, 9])).toEqual([3, 5, 8, 9]);
    expect(mergeCards([], [1, 2, 3, 4, 5, 6], 5)).toEqual([1, 2, 3, 4, 5]);
  });
  it('offers the causes used before that match, and the typed one when new', () => {
    const causes = [
      { cause: 'Bearing wear', count: 4 },
      { cause: 'Sensor fault', count: 2 },
      { cause: 'Belt slip', count: 1 },
    ];
    expect(causeChoices(causes, '')).toEqual(causes.map((c) => ({ cause: c.cause, isNew: false })));
    expect(causeChoices(causes, 'be')).toEqual([
      { cause: 'Bearing wear', count: 4 },
      { cause: 'Belt slip', count: 1 },
      { cause: 'be', count: 0 },
    ].map((c) => ({ cause: c.cause, isNew: c.count === 0 })));
    expect(causeChoices(causes, ' sensor FAULT ')).toEqual([{ cause: 'Sensor fault', isNew: false }]);
  });
  it('says an answer in words', () => {
    expect(answerWords(episode())).toBe('Not answered');
    expect(answerWords(episode({ verdict: 'real', cause: 'Bearing wear' }))).toBe('Real problem: Bearing wear');
    expect(answerWords(episode({ verdict: 'normal' }))).toBe('Normal operation');
  });
  it('draws the contributing inputs most first with their normal band, and the episode span', () => {
    const d: EpisodeDetail = {
      episode: episode(),
      chart: {
        from: '2026-12-10T05:00:00Z',
        to: '2026-12-10T10:00:00Z',
        score: [
          { t: '2026-12-10T06:00:00Z', v: 0.3, flagged: false },
          { t: '2026-12-10T07:00:00Z', v: 0.82, flagged: true },
        ],
        inputs: [
          { name: 'Vibration', points: [{ t: '2026-12-10T06:00:00Z', v: 1 }], normalLow: null, normalHigh: null },
          { name: 'Other', points: [], normalLow: 1, normalHigh: 2 },
          { name: 'Temperature', points: [{ t: '2026-12-10T06:00:00Z', v: null }, { t: 'bad', v: 3 }], normalLow: 70, normalHigh: 90 },
        ],
      },
      history: [],
    };
    const c = cardCharts(d, 2, 'en-US');
    // Half the rows' spacing (an hour here) either side of the episode.
    expect(c.band).toEqual({ from: Date.parse('2026-12-10T05:55:00Z'), to: Date.parse('2026-12-10T09:10:00Z') });
    expect(c.score.values).toEqual([0.3, 0.82]);
    expect(c.inputs.map((i) => i.name)).toEqual(['Temperature', 'Vibration']);
    // A missing value breaks the line; an unreadable time is left out.
    expect(c.inputs[0]!.line.x).toHaveLength(1);
    expect(Number.isNaN(c.inputs[0]!.line.values[0])).toBe(true);
    expect(c.inputs[0]!.normal).toEqual({ low: 70, high: 90 });
    // The chart's band falls back to the episode's own figures for the input.
    expect(c.inputs[1]!.normal).toEqual({ low: 0.5, high: 2.5 });
    expect(c.inputs[1]!.words).toBe('2.5 × its usual spread from training');
  });
});

describe('feedback settings form', () => {
  it('round-trips the defaults', () => {
    expect(parseFeedbackDraft(feedbackDraft(DEFAULT_FEEDBACK_SETTINGS))).toEqual({ settings: DEFAULT_FEEDBACK_SETTINGS });
  });
  it('sorts the times, keeps each once and drops empty rows', () => {
    const d = { ...feedbackDraft(DEFAULT_FEEDBACK_SETTINGS), promptTimes: ['22:00', '06:00', '', '06:00'], gapMinutes: '7,5' };
    const r = parseFeedbackDraft(d);
    expect('settings' in r && r.settings.promptTimes).toEqual(['06:00', '22:00']);
    expect('settings' in r && r.settings.gapMinutes).toBe(7.5);
  });
  it('names the wrong field in a sentence', () => {
    const base = feedbackDraft(DEFAULT_FEEDBACK_SETTINGS);
    expect(parseFeedbackDraft({ ...base, promptTimes: ['25:00'] })).toEqual({ field: 'promptTimes', error: '"25:00" is not a time of day. Use hours and minutes, such as 06:00 or 14:30.' });
    expect(parseFeedbackDraft({ ...base, promptTimes: [''] })).toMatchObject({ field: 'promptTimes' });
    expect(parseFeedbackDraft({ ...base, minRows: '2.5' })).toMatchObject({ field: 'minRows', error: expect.stringContaining('whole number from 1 to 100,000') });
    expect(parseFeedbackDraft({ ...base, gapMinutes: '-1' })).toMatchObject({ field: 'gapMinutes' });
    expect(parseFeedbackDraft({ ...base, minMinutes: 'abc' })).toMatchObject({ field: 'minMinutes' });
  });
});

describe('table and clock', () => {
  it('files an episode under its filter', () => {
    expect(inStatus({ verdict: null }, 'unanswered')).toBe(true);
    expect(inStatus({ verdict: 'normal' }, 'unanswered')).toBe(false);
    expect(inStatus({ verdict: 'normal' }, 'answered')).toBe(true);
    expect(inStatus({ verdict: null }, 'answered')).toBe(false);
    expect(inStatus({ verdict: null }, 'all')).toBe(true);
  });
  it('says a clock time in 24 hours, with the day when not today', () => {
    expect(clockWords('2026-11-26T13:27:00Z', NOW, 'en-US', 'UTC')).toBe('13:27');
    expect(clockWords('2026-11-25T08:05:00Z', NOW, 'en-GB', 'UTC')).toBe('25 Nov, 08:05');
  });
  it('finds the typical spacing of rows', () => {
    expect(medianStep([0, 300, 600, 1200, 1500])).toBe(300);
    expect(medianStep([5])).toBe(0);
  });
});

describe('countWords', () => {
  it('says how many episodes there are, and how many of them the table shows', () => {
    expect(countWords(1, 1)).toBe('1 episode');
    expect(countWords(28, 28)).toBe('28 episodes, newest first');
    expect(countWords(28, 20)).toBe('28 episodes, newest first; the first 20 shown');
  });
});
