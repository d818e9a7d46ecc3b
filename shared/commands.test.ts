import { describe, expect, it } from 'vitest';
import { COMMANDS, matchesChord, PAGES, parseAccelerator } from './commands';

const key = (k: string, mods: Partial<{ ctrlKey: boolean; metaKey: boolean; shiftKey: boolean; altKey: boolean }> = {}) => ({
  key: k,
  ctrlKey: false,
  metaKey: false,
  shiftKey: false,
  altKey: false,
  ...mods,
});

describe('parseAccelerator', () => {
  it('parses CmdOrCtrl+Shift+L', () => {
    expect(parseAccelerator('CmdOrCtrl+Shift+L')).toEqual({ key: 'l', ctrlOrMeta: true, shift: true, alt: false });
  });

  it('treats every Electron spelling of Ctrl and Cmd as ctrl-or-meta', () => {
    for (const mod of ['CmdOrCtrl', 'CommandOrControl', 'Ctrl', 'Control', 'Cmd', 'Command', 'cmdorctrl']) {
      expect(parseAccelerator(`${mod}+J`), mod).toEqual({ key: 'j', ctrlOrMeta: true, shift: false, alt: false });
    }
  });

  it('reads Alt and Option as alt', () => {
    expect(parseAccelerator('Alt+F4')).toEqual({ key: 'f4', ctrlOrMeta: false, shift: false, alt: true });
    expect(parseAccelerator('Option+x')).toEqual({ key: 'x', ctrlOrMeta: false, shift: false, alt: true });
  });

  it('parses a bare key', () => {
    expect(parseAccelerator('F5')).toEqual({ key: 'f5', ctrlOrMeta: false, shift: false, alt: false });
  });
});

describe('matchesChord', () => {
  const chord = parseAccelerator('CmdOrCtrl+Shift+L');

  it('matches with Ctrl on Windows and Linux and with Cmd on macOS', () => {
    expect(matchesChord(chord, key('L', { ctrlKey: true, shiftKey: true }))).toBe(true);
    expect(matchesChord(chord, key('l', { metaKey: true, shiftKey: true }))).toBe(true);
  });

  it('does not match without the modifier, with an extra modifier, or another key', () => {
    expect(matchesChord(chord, key('L', { shiftKey: true }))).toBe(false);
    expect(matchesChord(chord, key('L', { ctrlKey: true }))).toBe(false);
    expect(matchesChord(chord, key('L', { ctrlKey: true, shiftKey: true, altKey: true }))).toBe(false);
    expect(matchesChord(chord, key('K', { ctrlKey: true, shiftKey: true }))).toBe(false);
  });

  it('does not fire a Ctrl shortcut for the plain key', () => {
    const go1 = parseAccelerator('CmdOrCtrl+1');
    expect(matchesChord(go1, key('1'))).toBe(false);
    expect(matchesChord(go1, key('1', { ctrlKey: true }))).toBe(true);
    expect(matchesChord(go1, key('1', { ctrlKey: true, shiftKey: true }))).toBe(false);
  });

  it('matches a chord without ctrl only when ctrl and meta are both up', () => {
    const f5 = parseAccelerator('F5');
    expect(matchesChord(f5, key('F5'))).toBe(true);
    expect(matchesChord(f5, key('F5', { metaKey: true }))).toBe(false);
  });
});

describe('PAGES and COMMANDS', () => {
  it('gives every page a unique id and a unique digit key', () => {
    expect(new Set(PAGES.map((p) => p.id)).size).toBe(PAGES.length);
    const keys = PAGES.map((p) => p.key);
    expect(new Set(keys).size).toBe(PAGES.length);
    for (const k of keys) expect(k).toMatch(/^[1-9]$/);
  });

  it('has one go command per page bound to Ctrl plus its digit', () => {
    for (const page of PAGES) {
      const cmd = COMMANDS.find((c) => c.id === `go.${page.id}`);
      expect(cmd, page.id).toBeDefined();
      expect(cmd!.menu).toBe('go');
      expect(cmd!.label).toBe(page.label);
      expect(parseAccelerator(cmd!.accelerator!)).toEqual({ key: page.key, ctrlOrMeta: true, shift: false, alt: false });
    }
  });

  it('has unique command ids and no two commands on the same shortcut', () => {
    expect(new Set(COMMANDS.map((c) => c.id)).size).toBe(COMMANDS.length);
    const chords = COMMANDS.filter((c) => c.accelerator).map((c) => JSON.stringify(parseAccelerator(c.accelerator!)));
    expect(new Set(chords).size).toBe(chords.length);
  });

  it('parses every accelerator into a non-empty key', () => {
    for (const c of COMMANDS) {
      if (!c.accelerator) continue;
      const chord = parseAccelerator(c.accelerator);
      expect(chord.key.length, c.id).toBeGreaterThan(0);
      expect(chord.ctrlOrMeta, c.id).toBe(true);
    }
  });
});
