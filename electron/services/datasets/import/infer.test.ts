import { describe, expect, it } from 'vitest';
import { inferColumnType, parseBoolean } from './infer';

const dot = { decimal: '.', thousands: '' } as const;

describe('inferColumnType', () => {
  it('tells numbers from whole numbers', () => {
    expect(inferColumnType(['1.5', '2', '-3.25'], dot).type).toBe('number');
    expect(inferColumnType(['1', '2', '-3', '0'], dot).type).toBe('integer');
    expect(inferColumnType(['0', '1', '1', '0'], dot).type).toBe('integer');
    expect(inferColumnType(['1e3', '2'], dot).type).toBe('integer');
    expect(inferColumnType(['12345678901234567890', '1'], dot).type).toBe('number');
  });

  it('uses the decimal and thousands settings', () => {
    expect(inferColumnType(['12,5', '3,25'], { decimal: ',', thousands: '' }).type).toBe('number');
    expect(inferColumnType(['1.234,5', '3,25'], { decimal: ',', thousands: '.' }).type).toBe('number');
    expect(inferColumnType(['12,5', '3,25'], dot).type).not.toBe('number');
  });

  it('counts missing markers without letting them decide the type', () => {
    const r = inferColumnType(['1.5', '', 'NaN', 'NULL', 'N/A', '#N/A', '-', 'Bad', '2.5'], dot);
    expect(r.type).toBe('number');
    expect(r.missing).toBe(7);
    expect(r.present).toBe(2);
  });

  it('keeps a column numeric when up to 2% of the values fail, and reports them', () => {
    const values = Array.from({ length: 100 }, (_, i) => String(i + 0.5));
    values[10] = 'overrange';
    values[20] = 'calib';
    const r = inferColumnType(values, dot);
    expect(r.type).toBe('number');
    expect(r.failed).toBe(2);
    values[30] = 'x';
    expect(inferColumnType(values, dot).type).not.toBe('number');
  });

  it('finds booleans, categories and text', () => {
    expect(inferColumnType(['true', 'false', 'TRUE'], dot).type).toBe('boolean');
    expect(inferColumnType(['ja', 'nein'], dot).type).toBe('boolean');
    expect(inferColumnType(['On', 'Off', 'on'], dot).type).toBe('boolean');
    expect(inferColumnType(['L', 'M', 'H', 'L', 'M'], dot).type).toBe('category');
    const text = Array.from({ length: 200 }, (_, i) => `Operator note number ${i}`);
    expect(inferColumnType(text, dot).type).toBe('text');
    const many = Array.from({ length: 2000 }, (_, i) => `unit-${i % 60}`);
    expect(inferColumnType(many, dot).type).toBe('category');
  });

  it('marks a timestamp column when the sniffer says so, and an empty one as numbers', () => {
    expect(inferColumnType(['2024-01-01 00:00:00'], { ...dot, isTimestamp: true }).type).toBe('timestamp');
    expect(inferColumnType(['', 'NaN', ''], dot).type).toBe('number');
  });
});

describe('parseBoolean', () => {
  it('reads words and digits', () => {
    expect(parseBoolean(' Yes ')).toBe(1);
    expect(parseBoolean('nein')).toBe(0);
    expect(parseBoolean('1')).toBe(1);
    expect(parseBoolean('maybe')).toBeNull();
  });
});
