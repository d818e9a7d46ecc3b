import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, formatPercent, textTable } from './format';

describe('formatBytes', () => {
  it('shows whole bytes below a kilobyte', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1)).toBe('1 B');
    expect(formatBytes(999)).toBe('999 B');
  });

  it('uses decimal units with one decimal below ten and none above', () => {
    expect(formatBytes(1000)).toBe('1.0 KB');
    expect(formatBytes(1500)).toBe('1.5 KB');
    expect(formatBytes(12_345)).toBe('12 KB');
    expect(formatBytes(5_000_000)).toBe('5.0 MB');
    expect(formatBytes(250_000_000)).toBe('250 MB');
    expect(formatBytes(1.5e9)).toBe('1.5 GB');
    expect(formatBytes(2e12)).toBe('2.0 TB');
  });

  it('stays in terabytes for very large sizes', () => {
    expect(formatBytes(5e15)).toBe('5000 TB');
  });

  it('shows a dash for values that are not sizes', () => {
    expect(formatBytes(-1)).toBe('–');
    expect(formatBytes(Number.NaN)).toBe('–');
    expect(formatBytes(Infinity)).toBe('–');
  });
  it('moves to the next unit when rounding reaches 1000', () => {
    expect(formatBytes(999_999)).toBe('1.0 MB');
  });
});

describe('formatDuration', () => {
  it('shows milliseconds below a second', () => {
    expect(formatDuration(0)).toBe('0 ms');
    expect(formatDuration(12.4)).toBe('12 ms');
    expect(formatDuration(999)).toBe('999 ms');
  });

  it('shows seconds with one decimal below ten', () => {
    expect(formatDuration(1000)).toBe('1.0 s');
    expect(formatDuration(2400)).toBe('2.4 s');
    expect(formatDuration(10_000)).toBe('10 s');
    expect(formatDuration(42_000)).toBe('42 s');
  });

  it('shows minutes and seconds, then hours and minutes', () => {
    expect(formatDuration(60_000)).toBe('1 min 0 s');
    expect(formatDuration(185_000)).toBe('3 min 5 s');
    expect(formatDuration(3_600_000)).toBe('1 h 0 min');
    expect(formatDuration(3_720_000)).toBe('1 h 2 min');
    expect(formatDuration(26 * 3_600_000)).toBe('26 h 0 min');
    expect(formatDuration(1890 * 3_600_000 + 600_000)).toBe('78 d 18 h');
    expect(formatDuration(48 * 3_600_000)).toBe('2 d 0 h');
  });

  it('shows a dash for values that are not durations', () => {
    expect(formatDuration(-5)).toBe('–');
    expect(formatDuration(Number.NaN)).toBe('–');
    expect(formatDuration(Infinity)).toBe('–');
  });
  it('never shows 60 seconds inside a minute', () => {
    expect(formatDuration(119_700)).toBe('2 min 0 s');
  });
});

describe('formatPercent', () => {
  it('rounds to whole percent', () => {
    expect(formatPercent(0)).toBe('0 %');
    expect(formatPercent(0.123)).toBe('12 %');
    expect(formatPercent(0.005)).toBe('1 %');
    expect(formatPercent(1)).toBe('100 %');
  });

  it('clamps to 0..100', () => {
    expect(formatPercent(1.5)).toBe('100 %');
    expect(formatPercent(-0.2)).toBe('0 %');
  });
});

describe('textTable', () => {
  it('pads columns to the widest cell, underlines headers and trims line ends', () => {
    const table = textTable(
      ['ID', 'NAME', 'STATE'],
      [
        ['a', 'longer name', 'done'],
        ['bbbbbb', 'x', 'running'],
      ],
    );
    expect(table.split('\n')).toEqual([
      'ID      NAME         STATE',
      '------  -----------  -------',
      'a       longer name  done',
      'bbbbbb  x            running',
    ]);
  });

  it('prints only the header and rule when there are no rows', () => {
    expect(textTable(['WHEN', 'WHO'], [])).toBe('WHEN  WHO\n----  ---');
  });

  it('does not leave trailing spaces when the last cell is empty', () => {
    const lines = textTable(['A', 'B'], [['xx', '']]).split('\n');
    expect(lines[2]).toBe('xx');
    for (const l of lines) expect(l).toBe(l.trimEnd());
  });
});
