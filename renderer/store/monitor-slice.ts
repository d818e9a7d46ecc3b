import type { StateCreator } from 'zustand';
import type { Alert, EndpointDashboard, InputHistogram, MonitorCycle, MonitorSettings, MonitorWindow } from '../../shared/monitor';
import { call } from '../api/api';
import { mergeAlert } from '../pages/monitoring/monitor-logic';
import { errorMessage, reportError } from './report-error';
import type { State } from './store';

/** What one endpoint's dashboard shows, or why it cannot. */
export interface DashboardView {
  name: string;
  window: MonitorWindow;
  data: EndpointDashboard | null;
  error: string | null;
  loading: boolean;
}

export interface InputView {
  endpoint: string;
  input: string;
  window: MonitorWindow;
  data: InputHistogram | null;
  error: string | null;
}

export interface MonitorSlice {
  /** Every endpoint as of the last poll (monitor.status), null until loaded. */
  monitor: MonitorCycle | null;
  monitorError: string | null;
  /** "Check now": when it started (ms), null when idle. */
  checkingSince: number | null;
  /** Firing alerts, newest first (null until loaded). */
  alerts: Alert[] | null;
  dashboard: DashboardView | null;
  inputView: InputView | null;
  monitorWindow: MonitorWindow;
  monitorSettings: MonitorSettings | null;

  loadMonitor(): Promise<void>;
  /** Polls every endpoint (or one) now, as the scheduler does. */
  checkNow(name?: string): Promise<void>;
  /** Quietly: the navigation badge loads this at start, before monitoring may be there. */
  loadAlerts(): Promise<void>;
  /** Acknowledge or snooze; null when done, else the core's sentence. */
  alertAction(id: number, action: { kind: 'acknowledge' } | { kind: 'snooze'; minutes: number }): Promise<string | null>;
  /** An AppEvent {type:'alert'}: the list and badge follow it, and someone elsewhere in the app hears of a new one. */
  noteAlert(alert: Alert): void;
  /** An AppEvent {type:'monitor'}: reload what is on screen for these endpoints. */
  notePolled(endpoints: readonly string[]): void;
  setMonitorWindow(w: MonitorWindow): void;
  loadDashboard(name: string, quiet?: boolean): Promise<void>;
  openInput(endpoint: string, input: string | null): Promise<void>;
  loadMonitorSettings(): Promise<void>;
  configureMonitor(s: MonitorSettings): Promise<string | null>;
}

export const createMonitorSlice: StateCreator<State, [], [], MonitorSlice> = (set, get) => ({
  monitor: null,
  monitorError: null,
  checkingSince: null,
  alerts: null,
  dashboard: null,
  inputView: null,
  monitorWindow: 'hour',
  monitorSettings: null,

  async loadMonitor() {
    // The registry says which local endpoints were stopped on purpose (a poll only hears silence).
    void get().loadEndpoints();
    try {
      set({ monitor: await call('monitor.status', {}), monitorError: null });
    } catch (err) {
      set({ monitorError: errorMessage(err) });
    }
  },
  async checkNow(name) {
    if (get().checkingSince !== null) return;
    set({ checkingSince: Date.now() });
    try {
      const cycle = await call('monitor.cycle', name ? { name } : {});
      if (name) {
        const before = get().monitor?.endpoints ?? [];
        const got = cycle.endpoints[0];
        set({ monitor: { endpoints: got ? (before.some((e) => e.name === name) ? before.map((e) => (e.name === name ? got : e)) : [...before, got]) : before } });
      } else set({ monitor: cycle, monitorError: null });
      await get().loadAlerts();
      void get().loadEndpoints();
      const d = get().dashboard;
      if (d && (!name || d.name === name)) await get().loadDashboard(d.name, true);
    } catch (err) {
      reportError(err);
    } finally {
      set({ checkingSince: null });
    }
  },
  async loadAlerts() {
    try {
      set({ alerts: await call('alerts.list', {}) });
    } catch {
      // The badge stays empty; the Monitoring page says what went wrong when opened.
    }
  },
  async alertAction(id, action) {
    try {
      const a = action.kind === 'acknowledge' ? await call('alerts.acknowledge', { id }) : await call('alerts.snooze', { id, minutes: action.minutes });
      get().noteAlert(a);
      return null;
    } catch (err) {
      return errorMessage(err);
    }
  },
  noteAlert(a) {
    const known = get().alerts?.find((x) => x.id === a.id);
    set({ alerts: mergeAlert(get().alerts ?? [], a, true) });
    const m = get().monitor;
    if (m?.endpoints.some((e) => e.name === a.endpoint)) {
      set({ monitor: { endpoints: m.endpoints.map((e) => (e.name === a.endpoint ? { ...e, alerts: mergeAlert(e.alerts, a, true) } : e)) } });
    }
    const d = get().dashboard;
    if (d?.data && d.name === a.endpoint) set({ dashboard: { ...d, data: { ...d.data, alerts: mergeAlert(d.data.alerts, a, false) } } });
    if (!known && a.state === 'firing' && get().page !== 'monitoring') get().toast('error', a.message);
  },
  notePolled(endpoints) {
    const s = get();
    if (s.page !== 'monitoring') return;
    void s.loadMonitor();
    const d = s.dashboard;
    if (d && endpoints.includes(d.name)) {
      void s.loadDashboard(d.name, true);
      const iv = s.inputView;
      if (iv && iv.endpoint === d.name) void s.openInput(iv.endpoint, iv.input);
    }
  },
  setMonitorWindow(w) {
    set({ monitorWindow: w });
    const d = get().dashboard;
    // Quietly: the old window stays on screen until the new one arrives, so the page does not jump.
    if (d) void get().loadDashboard(d.name, true);
    const iv = get().inputView;
    if (iv) void get().openInput(iv.endpoint, iv.input);
  },
  async loadDashboard(name, quiet = false) {
    const window = get().monitorWindow;
    const before = get().dashboard;
    const same = before?.name === name && before.window === window;
    // A quiet reload keeps the dashboard on screen; a new endpoint or window starts empty.
    set({ dashboard: { name, window, data: same || quiet ? (before?.data ?? null) : null, error: null, loading: true } });
    try {
      const data = await call('monitor.dashboard', { name, window });
      if (get().dashboard?.name === name && get().monitorWindow === window) set({ dashboard: { name, window, data, error: null, loading: false } });
    } catch (err) {
      if (get().dashboard?.name === name) set({ dashboard: { name, window, data: get().dashboard?.data ?? null, error: errorMessage(err), loading: false } });
    }
  },
  async openInput(endpoint, input) {
    if (input === null) return set({ inputView: null });
    const window = get().monitorWindow;
    const before = get().inputView;
    const same = before?.endpoint === endpoint && before.input === input;
    set({ inputView: { endpoint, input, window, data: same ? before.data : null, error: null } });
    try {
      const data = await call('monitor.input', { name: endpoint, input, window });
      const now = get().inputView;
      if (now?.endpoint === endpoint && now.input === input) set({ inputView: { endpoint, input, window, data, error: null } });
    } catch (err) {
      const now = get().inputView;
      if (now?.endpoint === endpoint && now.input === input) set({ inputView: { ...now, error: errorMessage(err) } });
    }
  },
  async loadMonitorSettings() {
    try {
      set({ monitorSettings: await call('monitor.settings', {}) });
    } catch (err) {
      reportError(err);
    }
  },
  async configureMonitor(s) {
    try {
      set({ monitorSettings: await call('monitor.configure', s) });
      return null;
    } catch (err) {
      return errorMessage(err);
    }
  },
});
