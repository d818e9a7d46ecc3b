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
  page: pageFromHash(location.hash),
  theme: storedTheme(),
  trayOpen: false,
  toasts: [],
  go(page) {
    if (location.hash !== `#/${page}`) history.pushState(null, '', `#/${page}`);
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
