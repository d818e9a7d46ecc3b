import type { StateCreator } from 'zustand';
import type { PageId } from '../../shared/commands';
import { PAGES } from '../../shared/commands';
import type { State } from './store';

export type ThemeChoice = 'system' | 'light' | 'dark';

export interface Toast {
  id: number;
  level: 'info' | 'success' | 'error';
  message: string;
}

export interface UiSlice {
  page: PageId;
  theme: ThemeChoice;
  trayOpen: boolean;
  toasts: Toast[];
  go(page: PageId): void;
  setTheme(theme: ThemeChoice): void;
  setTrayOpen(open: boolean): void;
  toast(level: Toast['level'], message: string): void;
  dismissToast(id: number): void;
}

const THEME_KEY = 'millwright.theme';
const PAGE_KEY = 'millwright.page';
let nextToast = 1;

export function pageFromHash(hash: string): PageId {
  const id = hash.replace(/^#\/?/, '');
  return (PAGES.find((p) => p.id === id)?.id ?? 'home') as PageId;
}

function storedTheme(): ThemeChoice {
  const t = localStorage.getItem(THEME_KEY);
  return t === 'light' || t === 'dark' ? t : 'system';
}

export const createUiSlice: StateCreator<State, [], [], UiSlice> = (set, get) => ({
  // A fresh start (Electron loads the file without a hash) returns to the last page.
  page: location.hash ? pageFromHash(location.hash) : pageFromHash(localStorage.getItem(PAGE_KEY) ?? ''),
  theme: storedTheme(),
  trayOpen: false,
  toasts: [],
  go(page) {
    if (location.hash !== `#/${page}`) history.pushState(null, '', `#/${page}`);
    localStorage.setItem(PAGE_KEY, page);
    set({ page });
  },
  setTheme(theme) {
    localStorage.setItem(THEME_KEY, theme);
    set({ theme });
  },
  setTrayOpen(trayOpen) {
    set({ trayOpen });
  },
  toast(level, message) {
    const id = nextToast++;
    set({ toasts: [...get().toasts.slice(-3), { id, level, message }] });
    // Errors stay until dismissed: a person may be away from the screen.
    if (level !== 'error') setTimeout(() => get().dismissToast(id), 6000);
  },
  dismissToast(id) {
    set({ toasts: get().toasts.filter((t) => t.id !== id) });
  },
});
