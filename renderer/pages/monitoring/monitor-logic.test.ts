import { describe, expect, it } from 'vitest';
import { DEFAULT_MONITOR_SETTINGS, type Alert } from '../../../shared/monitor';
import {
  alertStateWords,
  byImportance,
  contactLook,
  contactNote,
  histogramRows,
  intervalWords,
  isAnomalySpread,
  latencyText,
  mergeAlert,
  needsPerson,
  parseSettingsDraft,
  percentText,
  predictionRows,
  settingsDraft,
} from './monitor-logic';

const NOW = Date.parse('2026-11-26T10:30:00Z');
const alert = (p: Partial<Alert>): Alert => ({
  id: 1,
  endpoint: 'line-3',
  kind: 'down',
  state: 'firing',
  message: 'line-3 has not answered for 7 minutes.',
  firstAt: '2026-11-26T10:20:00Z',
  lastAt: '2026-11-26T10:27:00Z',
  clearedAt: null,
  acknowledgedAt: null,
  acknowledgedBy: null,
  snoozedUntil: null,
  ...p,
});

describe('contact', () => {
  it('says an endpoint answers without colour, and one that stopped since when, in red', () => {
    expect(contactLook({ reachable: true, lastContact: '2026-11-26T10:29:00Z' }, NOW)).toMatchObject({ label: 'Answering', tone: 'neutral' });
    const down = contactLook({ reachable: false, lastContact: '2026-11-26T10:20:00Z' }, NOW, 'UTC');
    expect(down.tone).toBe('bad');
    expect(down.note).toMatch(/^No contact since 10:20( AM)? \(10 minutes ago\)$/);
    expect(contactLook({ reachable: false, lastContact: null }, NOW)).toMatchObject({ label: 'No contact yet', tone: 'bad' });
    // Stopped on purpose on this PC: grey, with what to do.
    expect(contactLook({ reachable: false, lastContact: '2026-11-26T10:20:00Z' }, NOW, 'UTC', true)).toMatchObject({ label: 'Stopped', tone: 'neutral', note: expect.stringContaining('Start it') });
  });
});

describe('contact tile', () => {
  it('says when it last answered, since when it has not, or that it was stopped', () => {
    expect(contactNote({ reachable: true, lastContact: '2026-11-26T10:29:00Z', noContactSince: null }, false, NOW)).toBe('Last answer 1 minute ago');
    expect(contactNote({ reachable: false, lastContact: null, noContactSince: '2026-11-26T10:02:00Z' }, false, NOW, 'UTC')).toMatch(/^No contact since (10:02|10:02 AM)$/);
    expect(contactNote({ reachable: false, lastContact: null, noContactSince: null }, false, NOW)).toBe('Has never answered');
    expect(contactNote({ reachable: false, lastContact: null, noContactSince: null }, true, NOW)).toMatch(/^Stopped/);
  });
});

describe('numbers', () => {
  it('writes rates and latencies with their units', () => {
    expect(percentText(0.004)).toBe('0.4\u00a0%');
    expect(percentText(0.25)).toBe('25\u00a0%');
    expect(percentText(0)).toBe('0\u00a0%');
    expect(percentText(0.01)).toBe('1\u00a0%');
    expect(percentText(0.025)).toBe('2.5\u00a0%');
    expect(percentText(null)).toBe('–');
    expect(latencyText(7.25)).toBe('7.3\u00a0ms');
    expect(latencyText(42)).toBe('42\u00a0ms');
    expect(latencyText(1500)).toBe('1.5\u00a0s');
    expect(latencyText(null)).toBe('–');
  });

  it('says how often endpoints are checked', () => {
    expect(intervalWords(60)).toBe('every minute');
    expect(intervalWords(300)).toBe('every 5 minutes');
    expect(intervalWords(5)).toBe('every 5 seconds');
    expect(intervalWords(3600)).toBe('every hour');
  });
});

describe('inputs', () => {
  it('lists the most important first, unranked ones after by PSI', () => {
    const rows = byImportance([
      { name: 'Tool wear', importanceRank: null, psi: 0.02 },
      { name: 'Torque', importanceRank: 2, psi: 0.01 },
      { name: 'Type', importanceRank: null, psi: 0.3 },
      { name: 'Speed', importanceRank: 1, psi: 0 },
    ]);
    expect(rows.map((r) => r.name)).toEqual(['Speed', 'Torque', 'Type', 'Tool wear']);
  });

  it('turns an input histogram into paired rows, with "No value" only when some rows lacked one', () => {
    const h = { bins: ['below 10', '10 – 20', '20 and above'], training: [0.2, 0.5, 0.3], live: [0, 0.1, 0.9], missing: { training: 0, live: 0 } };
    expect(histogramRows(h)).toEqual([
      { label: 'below 10', reference: 0.2, current: 0 },
      { label: '10 – 20', reference: 0.5, current: 0.1 },
      { label: '20 and above', reference: 0.3, current: 0.9 },
    ]);
    expect(histogramRows({ ...h, missing: { training: 0, live: 0.05 } }).at(-1)).toEqual({ label: 'No value', reference: 0, current: 0.05 });
  });

  it('compares predictions as shares, with labels only one side has', () => {
    const rows = predictionRows({ '0': 90, '1': 10 }, { '1': 30, '0': 50, '2': 20 });
    expect(rows.map((r) => r.label)).toEqual(['0', '1', '2']);
    expect(rows[0]).toEqual({ label: '0', reference: 0.9, current: 0.5 });
    expect(rows[2]).toEqual({ label: '2', reference: 0, current: 0.2 });
    // An anomaly model's labels in plant words.
    expect(predictionRows(null, { normal: 3, anomaly: 1 })).toEqual([
      { label: 'Normal', reference: 0, current: 0.75 },
      { label: 'Unusual behaviour', reference: 0, current: 0.25 },
    ]);
    expect(isAnomalySpread({ anomaly: 1, normal: 9 }, {})).toBe(true);
    expect(isAnomalySpread({ '0': 1, '1': 9 }, { normal: 1 })).toBe(false);
    expect(isAnomalySpread(null, {})).toBe(false);
  });
});

describe('alerts', () => {
  it('counts a firing alert for the badge until someone acknowledges or snoozes it', () => {
    expect(needsPerson(alert({}), NOW)).toBe(true);
    expect(needsPerson(alert({ acknowledgedAt: '2026-11-26T10:25:00Z' }), NOW)).toBe(false);
    expect(needsPerson(alert({ snoozedUntil: '2026-11-26T11:25:00Z' }), NOW)).toBe(false);
    expect(needsPerson(alert({ snoozedUntil: '2026-11-26T10:25:00Z' }), NOW)).toBe(true);
    expect(needsPerson(alert({ state: 'cleared' }), NOW)).toBe(false);
  });

  it('says what has been done about an alert', () => {
    expect(alertStateWords(alert({}), NOW)).toBeNull();
    expect(alertStateWords(alert({ acknowledgedAt: '2026-11-26T10:25:00Z', acknowledgedBy: 'ana' }), NOW)).toBe('Acknowledged by ana 5 minutes ago');
    // The clock follows the user's locale: 18:30 or 06:30 PM.
    expect(alertStateWords(alert({ snoozedUntil: '2026-11-26T18:30:00Z' }), NOW, 'UTC')).toMatch(/^Snoozed until (18:30|06:30 PM)$/);
    expect(alertStateWords(alert({ state: 'cleared', clearedAt: '2026-11-26T10:29:00Z' }), NOW)).toBe('Cleared 1 minute ago');
  });

  it('keeps the list newest first, replaces an alert by id, and drops a cleared one from the firing list', () => {
    const a = alert({ id: 1, lastAt: '2026-11-26T10:20:00Z' });
    const b = alert({ id: 2, lastAt: '2026-11-26T10:25:00Z' });
    expect(mergeAlert([a], b, true).map((x) => x.id)).toEqual([2, 1]);
    const acked = { ...a, acknowledgedAt: '2026-11-26T10:29:00Z' };
    expect(mergeAlert([b, a], acked, true)).toEqual([b, acked]);
    expect(mergeAlert([b, a], { ...a, state: 'cleared' }, true)).toEqual([b]);
    expect(mergeAlert([b, a], { ...a, state: 'cleared' }, false).map((x) => x.state)).toEqual(['firing', 'cleared']);
  });
});

describe('settings form', () => {
  it('shows whole minutes in minutes and reads the defaults back unchanged', () => {
    const d = settingsDraft(DEFAULT_MONITOR_SETTINGS);
    expect(d.interval).toBe('1');
    expect(d.unit).toBe('minutes');
    expect(d.down.minutes).toBe('5');
    expect(parseSettingsDraft(d)).toEqual({ settings: DEFAULT_MONITOR_SETTINGS });
    expect(settingsDraft({ ...DEFAULT_MONITOR_SETTINGS, intervalSeconds: 5 })).toMatchObject({ interval: '5', unit: 'seconds' });
  });

  it('reads a decimal comma and converts minutes to seconds', () => {
    const d = { ...settingsDraft(DEFAULT_MONITOR_SETTINGS), interval: '2', errors: { enabled: false, percent: '0,5' } };
    const r = parseSettingsDraft(d);
    expect(r).toMatchObject({ settings: { intervalSeconds: 120, rules: { errors: { enabled: false, percent: 0.5 } } } });
  });

  it('names the field that is wrong', () => {
    const d = settingsDraft(DEFAULT_MONITOR_SETTINGS);
    expect(parseSettingsDraft({ ...d, interval: '', unit: 'seconds' })).toMatchObject({ field: 'interval' });
    expect(parseSettingsDraft({ ...d, interval: '25', unit: 'minutes' })).toMatchObject({ settings: { intervalSeconds: 1500 } });
    expect(parseSettingsDraft({ ...d, interval: '2000', unit: 'minutes' })).toMatchObject({ field: 'interval' });
    expect(parseSettingsDraft({ ...d, down: { enabled: true, minutes: 'five' } })).toMatchObject({ field: 'down', error: expect.stringContaining('minutes') });
    expect(parseSettingsDraft({ ...d, errors: { enabled: true, percent: '101' } })).toMatchObject({ field: 'errors' });
    expect(parseSettingsDraft({ ...d, anomalies: { enabled: true, factor: '1' } })).toMatchObject({ field: 'anomalies' });
  });
});
