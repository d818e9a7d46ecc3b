/**
 * User commands as data, so the application menu, keyboard shortcuts and
 * buttons share one definition. The Electron menu is built from this list and
 * sends the id to the renderer; the renderer binds the same keys itself when it
 * runs in a browser (server mode), where there is no application menu.
 */
export type PageId = 'home' | 'data' | 'models' | 'deployments' | 'monitoring' | 'inbox' | 'activity' | 'settings';

export interface PageDef {
  id: PageId;
  label: string;
  /** One line under the page title. */
  blurb: string;
  /** Digit used with Ctrl/Cmd to jump here. */
  key: string;
}

/** Navigation in the order of the loop the product serves. */
export const PAGES: readonly PageDef[] = [
  { id: 'home', label: 'Home', blurb: 'Start here: the path from plant data to a running model.', key: '1' },
  { id: 'data', label: 'Data', blurb: 'Sensor and spreadsheet data you have brought in.', key: '2' },
  { id: 'models', label: 'Models', blurb: 'Models trained on your data, with their versions and results.', key: '3' },
  { id: 'deployments', label: 'Deployments', blurb: 'Models running on edge devices and on this PC.', key: '4' },
  { id: 'monitoring', label: 'Monitoring', blurb: 'How deployed models behave: health, drift and unusual behaviour.', key: '5' },
  { id: 'inbox', label: 'Inbox', blurb: 'Short questions about recent episodes. Your answers improve the models.', key: '6' },
  { id: 'activity', label: 'Activity', blurb: 'Background tasks and the audit log of who did what.', key: '7' },
  { id: 'settings', label: 'Settings', blurb: 'Appearance, workspace and this PC.', key: '8' },
];

export interface CommandDef {
  id: string;
  label: string;
  /** Electron accelerator syntax; the renderer understands the same strings. */
  accelerator?: string;
  menu: 'file' | 'view' | 'go' | 'help';
}

export const COMMANDS: readonly CommandDef[] = [
  { id: 'data.import', label: 'Import Data…', accelerator: 'CmdOrCtrl+O', menu: 'file' },
  { id: 'samples.try', label: 'Try Sample Data', menu: 'file' },
  { id: 'models.train', label: 'Train a Model…', menu: 'file' },
  { id: 'view.toggleTheme', label: 'Toggle Dark Theme', accelerator: 'CmdOrCtrl+Shift+L', menu: 'view' },
  { id: 'view.toggleJobs', label: 'Show Background Tasks', accelerator: 'CmdOrCtrl+J', menu: 'view' },
  ...PAGES.map((p): CommandDef => ({ id: `go.${p.id}`, label: p.label, accelerator: `CmdOrCtrl+${p.key}`, menu: 'go' })),
  { id: 'help.about', label: 'About Millwright', menu: 'help' },
];

export interface KeyChord {
  key: string;
  ctrlOrMeta: boolean;
  shift: boolean;
  alt: boolean;
}

/** Parses "CmdOrCtrl+Shift+L" into a chord the renderer can match against a KeyboardEvent. */
export function parseAccelerator(accel: string): KeyChord {
  const parts = accel.split('+');
  const key = parts.pop()!.toLowerCase();
  return {
    key,
    ctrlOrMeta: parts.some((p) => /^(CmdOrCtrl|CommandOrControl|Ctrl|Control|Cmd|Command)$/i.test(p)),
    shift: parts.some((p) => /^shift$/i.test(p)),
    alt: parts.some((p) => /^(alt|option)$/i.test(p)),
  };
}

export function matchesChord(
  chord: KeyChord,
  e: { key: string; ctrlKey: boolean; metaKey: boolean; shiftKey: boolean; altKey: boolean },
): boolean {
  return (
    e.key.toLowerCase() === chord.key &&
    (e.ctrlKey || e.metaKey) === chord.ctrlOrMeta &&
    e.shiftKey === chord.shift &&
    e.altKey === chord.alt
  );
}
