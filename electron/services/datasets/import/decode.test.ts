import { describe, expect, it } from 'vitest';
import { AppError } from '../../../../shared/errors';
import { decodeBytes, decodeWindows1252, detectEncoding, isValidUtf8, Utf16ToUtf8 } from './decode';

const utf16le = (s: string) => Buffer.from(s, 'utf16le');
const utf16be = (s: string) => {
  const b = Buffer.from(s, 'utf16le');
  for (let i = 0; i + 1 < b.length; i += 2) [b[i], b[i + 1]] = [b[i + 1]!, b[i]!];
  return b;
};
const text = 'Zeit;Temp [°C];Druck [µbar]\n01.03.2024 00:00;12,5;3\n';

describe('detectEncoding', () => {
  it('finds byte order marks', () => {
    expect(detectEncoding(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]))).toMatchObject({ encoding: 'utf-8', bom: 3 });
    expect(detectEncoding(Buffer.concat([Buffer.from([0xff, 0xfe]), utf16le(text)]))).toMatchObject({ encoding: 'utf-16le', bom: 2 });
    expect(detectEncoding(Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be(text)]))).toMatchObject({ encoding: 'utf-16be', bom: 2 });
  });

  it('finds UTF-16 without a byte order mark by its zero bytes', () => {
    expect(detectEncoding(utf16le(text))).toMatchObject({ encoding: 'utf-16le', bom: 0 });
    expect(detectEncoding(utf16be(text))).toMatchObject({ encoding: 'utf-16be', bom: 0 });
  });

  it('tells UTF-8 from Windows-1252', () => {
    expect(detectEncoding(Buffer.from('a,b\n1,2\n')).encoding).toBe('utf-8');
    expect(detectEncoding(Buffer.from(text, 'utf8')).encoding).toBe('utf-8');
    expect(detectEncoding(Buffer.from(text, 'latin1')).encoding).toBe('windows-1252');
    // A sample cut inside a multi-byte character is still UTF-8.
    const cut = Buffer.from('Temp °C', 'utf8');
    expect(detectEncoding(cut.subarray(0, cut.length - 1)).encoding).toBe('utf-8');
  });

  it('refuses binary files with a message naming the file', () => {
    const zip = Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0, 8, 0]);
    expect(() => detectEncoding(zip, 'data.xlsx')).toThrow(/data.xlsx is not a text file.*Excel/);
    const junk = Buffer.alloc(4096);
    for (let i = 0; i < junk.length; i++) junk[i] = (i * 7919) % 256;
    try {
      detectEncoding(junk, 'blob.bin');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe('bad_input');
      expect((err as AppError).message).toMatch(/^blob.bin is not a text file/);
    }
  });
});

describe('isValidUtf8', () => {
  it('rejects overlong forms, surrogates and stray continuation bytes', () => {
    const ok = (bytes: number[], truncated = false) => isValidUtf8(Uint8Array.from(bytes), bytes.length, truncated);
    expect(ok([0xc3, 0xa4])).toBe(true);
    expect(ok([0xc0, 0x80])).toBe(false);
    expect(ok([0xed, 0xa0, 0x80])).toBe(false);
    expect(ok([0x80])).toBe(false);
    expect(ok([0xe2, 0x82])).toBe(false);
    expect(ok([0xe2, 0x82], true)).toBe(true);
  });
});

describe('decodeBytes', () => {
  it('decodes Windows-1252 including the 0x80–0x9F range', () => {
    const bytes = Uint8Array.from([0x80, 0x20, 0xb0, 0xe4, 0xb5, 0x93, 0x94, 0x96]);
    expect(decodeBytes(bytes, 'windows-1252')).toBe('€ °äµ“”–');
    expect(decodeWindows1252(bytes, 2, 5)).toBe('°äµ');
  });

  it('decodes UTF-8 and UTF-16 both ways', () => {
    expect(decodeBytes(Buffer.from(text), 'utf-8')).toBe(text);
    expect(decodeBytes(utf16le(text), 'utf-16le')).toBe(text);
    expect(decodeBytes(utf16be(text), 'utf-16be')).toBe(text);
  });
});

describe('Utf16ToUtf8', () => {
  it('carries code units and surrogate pairs split between pieces', () => {
    const s = 'a😀b°c\n';
    for (const [enc, bytes] of [
      ['utf-16le', utf16le(s)],
      ['utf-16be', utf16be(s)],
    ] as const) {
      for (let step = 1; step <= 5; step++) {
        const t = new Utf16ToUtf8(enc);
        const parts: Buffer[] = [];
        for (let i = 0; i < bytes.length; i += step) parts.push(t.push(bytes.subarray(i, i + step)));
        parts.push(t.end());
        expect(Buffer.concat(parts).toString('utf8')).toBe(s);
      }
    }
  });
});
