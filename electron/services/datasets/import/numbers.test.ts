import { describe, expect, it } from 'vitest';
import { isMissingToken, parseNumberBytes, parseNumberText, scanNumber } from './numbers';

const enc = new TextEncoder();
const parse = (s: string, decimal: '.' | ',' = '.', thousands = '') => parseNumberText(s, decimal, thousands);

/** Deterministic PRNG (mulberry32): tests must not depend on Math.random. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('parseNumberBytes', () => {
  it('reads ordinary decimals, signs, spaces and exponents', () => {
    expect(parse('12')).toBe(12);
    expect(parse('-12.5')).toBe(-12.5);
    expect(parse('+0.25')).toBe(0.25);
    expect(parse('  7.0 ')).toBe(7);
    expect(parse('\t3\t')).toBe(3);
    expect(parse('.5')).toBe(0.5);
    expect(parse('5.')).toBe(5);
    expect(parse('1.5e-3')).toBe(0.0015);
    expect(parse('1.5E+03')).toBe(1500);
    expect(parse('2e2')).toBe(200);
    expect(Object.is(parse('-0'), -0)).toBe(true);
    expect(Object.is(parse('-0.0'), -0)).toBe(true);
  });

  it('reads decimal commas and thousands groups', () => {
    expect(parse('12,5', ',')).toBe(12.5);
    expect(parse('1.234,5', ',', '.')).toBe(1234.5);
    expect(parse('-1.234.567,25', ',', '.')).toBe(-1234567.25);
    expect(parse('1,234.5', '.', ',')).toBe(1234.5);
    expect(parse('1,5E+03', ',')).toBe(1500);
    expect(parse("1'234'567.5", '.', "'")).toBe(1234567.5);
    expect(parse('1 234,5', ',', ' ')).toBe(1234.5);
    expect(parse('1234,5', ',', '.')).toBe(1234.5); // separators are optional
  });

  it('rejects what is not a number', () => {
    for (const s of ['', ' ', '-', '+', '.', 'e5', '1e', '1e+', 'abc', '12a', '1.2.3', 'NaN', 'Infinity', '0x10', '1,5', '12 5', '--1', '1-']) {
      expect(parse(s), s).toBeNaN();
    }
    // Wrong grouping when a thousands separator is set.
    expect(parse('1.5', ',', '.')).toBeNaN();
    expect(parse('12.34,5', ',', '.')).toBeNaN();
    expect(parse('1234.567,5', ',', '.')).toBeNaN();
    expect(parse('1,234,5', '.', ',')).toBeNaN();
    expect(parse('12,5', '.')).toBeNaN();
  });

  it('parses a slice of a larger buffer', () => {
    const buf = enc.encode('a,-3.25,b');
    expect(parseNumberBytes(buf, 2, 7, 46, 0)).toBe(-3.25);
  });

  it('agrees with Number() to the last bit on 100k random values', () => {
    const rand = rng(42);
    let checked = 0;
    for (let i = 0; i < 100_000; i++) {
      const nDigits = 1 + Math.floor(rand() * 17);
      let digits = '';
      for (let d = 0; d < nDigits; d++) digits += Math.floor(rand() * 10);
      const point = Math.floor(rand() * (nDigits + 1));
      let s = digits.slice(0, point) + (point < nDigits || rand() < 0.2 ? '.' : '') + digits.slice(point);
      if (s.startsWith('.') && rand() < 0.5) s = '0' + s;
      if (rand() < 0.4) s = '-' + s;
      if (rand() < 0.15) s += (rand() < 0.5 ? 'e' : 'E') + (rand() < 0.5 ? '-' : '+') + Math.floor(rand() * 40);
      const expected = Number(s);
      const got = parse(s);
      if (!Object.is(got, expected)) throw new Error(`${s}: got ${got}, Number() gives ${expected}`);
      const comma = parse(s.replace('.', ','), ',');
      if (!Object.is(comma, expected)) throw new Error(`${s} with decimal comma: got ${comma}, expected ${expected}`);
      checked++;
    }
    expect(checked).toBe(100_000);
  });

  it('agrees with Number() on values written by toString/toFixed/toPrecision', () => {
    const rand = rng(7);
    for (let i = 0; i < 20_000; i++) {
      const x = (rand() - 0.5) * 10 ** Math.floor(rand() * 30 - 15);
      for (const s of [String(x), x.toFixed(6), x.toPrecision(6), x.toPrecision(17), x.toExponential(10)]) {
        if (!Object.is(parse(s), Number(s))) throw new Error(`${s}: got ${parse(s)}, Number() gives ${Number(s)}`);
      }
    }
  });
});

describe('scanNumber', () => {
  it('finds the field end and agrees with parseNumberBytes on every shape', () => {
    const rand = rng(99);
    const pieces = ['0', '1', '7', '9', '-', '+', '.', ',', 'e', 'E', ' ', 'x', "'", '\t'];
    const end = new Int32Array(1);
    for (let i = 0; i < 50_000; i++) {
      let s = '';
      const n = 1 + Math.floor(rand() * 24);
      for (let k = 0; k < n; k++) s += rand() < 0.7 ? String(Math.floor(rand() * 10)) : pieces[Math.floor(rand() * pieces.length)]!;
      for (const [delim, dec, thou, ws] of [
        [';', ',', '.', false],
        [',', '.', '', false],
        ['\t', '.', "'", false],
        [' ', '.', '', true],
      ] as const) {
        const field = s.split(ws ? /[ \t]/ : delim)[0]!;
        const bytes = enc.encode(`${s}${ws ? ' ' : delim}9\n`);
        const fieldEnd = enc.encode(field).length;
        const got = scanNumber(bytes, 0, bytes.length, delim.charCodeAt(0), dec.charCodeAt(0), thou === '' ? 0 : thou.charCodeAt(0), ws, end);
        const want = parseNumberBytes(bytes, 0, fieldEnd, dec.charCodeAt(0), thou === '' ? 0 : thou.charCodeAt(0));
        if (end[0] !== fieldEnd || !Object.is(got, want)) {
          throw new Error(`${JSON.stringify(s)} (delimiter ${JSON.stringify(delim)}): scan ${got} ending ${end[0]}, parse ${want} ending ${fieldEnd}`);
        }
      }
    }
  });

  it('stops at the limit', () => {
    const end = new Int32Array(1);
    const bytes = enc.encode('12.5');
    expect(scanNumber(bytes, 0, 3, 44, 46, 0, false, end)).toBe(12);
    expect(end[0]).toBe(3);
  });
});

describe('isMissingToken', () => {
  it('knows the usual no-value markers', () => {
    for (const s of ['', 'NaN', 'nan', 'NULL', 'null', 'N/A', '#N/A', '-', 'Bad', 'Error', ' NaN ']) expect(isMissingToken(s), s).toBe(true);
    for (const s of ['0', 'abc', 'Good']) expect(isMissingToken(s), s).toBe(false);
  });
});
