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

/** Addresses beyond the navigation: each belongs to a page of the sidebar ("#/train/Mill" is part of Models). */
export const SUB_ROUTES = { train: 'models' } as const satisfies Record<string, PageId>;
export type RouteId = PageId | keyof typeof SUB_ROUTES;

export interface UiSlice {
  /** The sidebar page (a sub-route's parent, so navigation shows where the person is). */
  page: PageId;
  /** What the content area shows: a page, or a sub-route such as the Train wizard. */
  route: RouteId;
  /** The item a page shows, e.g. a dataset id: "#/data/ds_1" → "ds_1". */
  pageParam: string | null;
  /** What follows the item: "#/models/Pump/compare/1/2" → ["compare", "1", "2"]. */
  pagePath: string[];
  theme: ThemeChoice;
  trayOpen: boolean;
  toasts: Toast[];
  go(route: RouteId, param?: string | null, path?: readonly string[]): void;
  /** Follows an address the app wrote itself, such as a lineage step's link ("#/data/Mill"). */
  goHash(hash: string): void;
  setTheme(theme: ThemeChoice): void;
  setTrayOpen(open: boolean): void;
  toast(level: Toast['level'], message: string): void;
  dismissToast(id: number): void;
}

const THEME_KEY = 'millwright.theme';
const PAGE_KEY = 'millwright.page';
let nextToast = 1;

export function routeFromHash(hash: string): RouteId {
  const id = hash.replace(/^#\/?/, '').split('/')[0] ?? '';
  if (Object.prototype.hasOwnProperty.call(SUB_ROUTES, id)) return id as keyof typeof SUB_ROUTES;
  return (PAGES.find((p) => p.id === id)?.id ?? 'home') as PageId;
}

/** The sidebar page a route belongs to. */
export function pageOfRoute(route: RouteId): PageId {
  return route in SUB_ROUTES ? SUB_ROUTES[route as keyof typeof SUB_ROUTES] : (route as PageId);
}

export function pageFromHash(hash: string): PageId {
  return pageOfRoute(routeFromHash(hash));
}

export function paramFromHash(hash: string): string | null {
  const parts = hash.replace(/^#\/?/, '').split('/');
  return parts[1] ? decodeURIComponent(parts[1]) : null;
}

export function pathFromHash(hash: string): string[] {
  const parts = hash.replace(/^#\/?/, '').split('/');
  return parts.slice(2).filter(Boolean).map(decodeURIComponent);
}

export function hashFor(page: RouteId, param?: string | null, path: readonly string[] = []): string {
  const rest = param ? [param, ...path] : [];
  return `#/${page}${rest.map((p) => `/${encodeURIComponent(p)}`).join('')}`;
}

function storedTheme(): ThemeChoice {
  const t = localStorage.getItem(THEME_KEY);
  return t === 'light' || t === 'dark' ? t : 'system';
}

export const createUiSlice: StateCreator<State, [], [], UiSlice> = (set, get) => ({
  // A fresh start (Electron loads the file without a hash) returns to the last page.
  page: location.hash ? pageFromHash(location.hash) : pageFromHash(localStorage.getItem(PAGE_KEY) ?? ''),
  route: location.hash ? routeFromHash(location.hash) : routeFromHash(localStorage.getItem(PAGE_KEY) ?? ''),
  pageParam: location.hash ? paramFromHash(location.hash) : paramFromHash(localStorage.getItem(PAGE_KEY) ?? ''),
  pagePath: location.hash ? pathFromHash(location.hash) : pathFromHash(localStorage.getItem(PAGE_KEY) ?? ''),
  theme: storedTheme(),
  trayOpen: false,
  toasts: [],
  go(route, param = null, path = []) {
    const hash = hashFor(route, param, path);
    if (location.hash !== hash) history.pushState(null, '', hash);
    localStorage.setItem(PAGE_KEY, hash);
    set({ page: pageOfRoute(route), route, pageParam: param, pagePath: param ? [...path] : [] });
  },
  goHash(hash) {
    get().go(routeFromHash(hash), paramFromHash(hash), pathFromHash(hash));
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
