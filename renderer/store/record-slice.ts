import type { StateCreator } from 'zustand';
import type { BrowseNode, ConnectResult, LiveValue, Recording, Source, SourceSettings } from '../../shared/recording';
import { RECORDING_INTERVAL } from '../../shared/recording';
import { call } from '../api/api';
import {
  blankConnectForm,
  defaultRecordingName,
  defaultSourceName,
  formOfSettings,
  parseDuration,
  parseIntervalSeconds,
  pickNode,
  RECORD_STEP,
  renameTag,
  sameSettings,
  settingsOf,
  unpick,
  type ConnectForm,
  type DurationUnit,
  type PickedTag,
} from '../wizards/record/record-logic';
import { errorMessage, reportError } from './report-error';
import type { State } from './store';

/** One list of browsed nodes: the children of a folder, search hits, or what an MQTT broker was heard to publish. */
export interface BrowseList {
  nodes: BrowseNode[] | null;
  truncated: boolean;
  /** What the source says about what it heard but could not list (BrowseResult.notes), e.g. a Sparkplug edge node whose birth was missed. */
  notes?: string[];
  loading: boolean;
  error: string | null;
}

const loadingList = (): BrowseList => ({ nodes: null, truncated: false, loading: true, error: null });

/** How long "Listen" listens to an MQTT broker. */
export const LISTEN_MS = 3000;

/**
 * The "Record live data" wizard's draft: kept in the store so Back, or leaving the
 * page, never loses what was entered (the password too, until the wizard ends).
 */
export interface RecordDraft {
  step: number;
  form: ConnectForm;
  password: string;
  /** The saved source the form was filled from, or the one saved on leaving Connect. */
  sourceId: number | null;
  /** What the source is saved as ("" until the person or a successful connection fills it). */
  sourceName: string;
  /** A connection test is running. */
  testing: boolean;
  /** What the last test or trust decision said, and for which settings. */
  result: ConnectResult | null;
  testedFor: SourceSettings | null;
  trusting: boolean;
  /** The thumbprint the person chose not to trust: its certificate is not offered again until they ask. */
  refused: string | null;
  saving: boolean;
  /** The source and settings the browsed lists belong to. */
  browsedFor: string | null;
  /** Children by parent id ("" is the top). */
  tree: Record<string, BrowseList>;
  expanded: string[];
  search: string;
  searchList: BrowseList | null;
  /** MQTT: what was heard. */
  heard: BrowseList | null;
  listenStartedAt: number | null;
  picked: PickedTag[];
  live: Record<string, LiveValue>;
  liveError: string | null;
  intervalMs: number;
  /** The custom interval as typed, in seconds; null while a preset is chosen. */
  customInterval: string | null;
  untilStopped: boolean;
  durationText: string;
  durationUnit: DurationUnit;
  /** "" until the person types one: the default name is shown. */
  name: string;
  starting: boolean;
  error: string | null;
}

export interface RecordSlice {
  recordings: Recording[] | null;
  sources: Source[] | null;
  loadRecordings(): Promise<void>;
  loadSources(): Promise<void>;
  /** Puts a recording the core sent (start, stop, get) into the list. */
  keepRecording(r: Recording): void;

  rw: RecordDraft;
  recordOpen(): void;
  recordReset(): void;
  recordSet(p: Partial<Pick<RecordDraft, 'step' | 'password' | 'sourceName' | 'search' | 'intervalMs' | 'customInterval' | 'untilStopped' | 'durationText' | 'durationUnit' | 'name'>>): void;
  recordForm(p: Partial<ConnectForm>): void;
  /** Fills the form from a saved source (null: a new one). */
  recordUseSource(id: number | null): void;
  recordConnect(): Promise<void>;
  recordCancelConnect(): void;
  recordTrust(trust: boolean): Promise<void>;
  /** Offers a refused certificate to decide about again. */
  recordReconsider(): void;
  /** Saves the source (new or changed) and moves on to Pick tags. */
  recordSaveSource(): Promise<void>;
  recordBrowse(parent: string): Promise<void>;
  recordToggle(id: string): void;
  recordSearch(text: string): Promise<void>;
  recordListen(): Promise<void>;
  recordPick(node: BrowseNode): void;
  recordUnpick(id: string): void;
  recordRename(id: string, name: string): void;
  recordReadLive(): Promise<void>;
  /** Starts the recording; the new recording's id, or null when refused (the reason is in rw.error). */
  recordStart(): Promise<number | null>;
}

const blank = (): RecordDraft => ({
  step: RECORD_STEP.connect,
  form: blankConnectForm(),
  password: '',
  sourceId: null,
  sourceName: '',
  testing: false,
  result: null,
  testedFor: null,
  trusting: false,
  refused: null,
  saving: false,
  browsedFor: null,
  tree: {},
  expanded: [],
  search: '',
  searchList: null,
  heard: null,
  listenStartedAt: null,
  picked: [],
  live: {},
  liveError: null,
  intervalMs: RECORDING_INTERVAL.default,
  customInterval: null,
  untilStopped: true,
  durationText: '8',
  durationUnit: 'hours',
  name: '',
  starting: false,
  error: null,
});

/** The saved source the draft was filled from, when its settings are still the saved ones. */
export function savedUnchanged(d: RecordDraft, sources: readonly Source[] | null): Source | null {
  const s = d.sourceId === null ? null : (sources?.find((x) => x.id === d.sourceId) ?? null);
  return s && sameSettings(s.settings, settingsOf(d.form)) ? s : null;
}

/** The connection last tested is the one in the form, and it worked. */
export function connected(d: RecordDraft): boolean {
  return Boolean(d.result?.ok && d.testedFor && sameSettings(d.testedFor, settingsOf(d.form)));
}

/** The name the source is saved as when the person leaves the field empty. */
export function sourceNameOf(d: RecordDraft, sources: readonly Source[] | null): string {
  if (d.sourceName.trim()) return d.sourceName.trim();
  const others = (sources ?? []).filter((s) => s.id !== d.sourceId).map((s) => s.name);
  return defaultSourceName(d.form, others);
}

/** The recording's name when the person leaves the field empty. */
export function recordingNameOf(d: RecordDraft, sources: readonly Source[] | null, now: Date): string {
  return d.name.trim() || defaultRecordingName(sourceNameOf(d, sources), now);
}

export const createRecordSlice: StateCreator<State, [], [], RecordSlice> = (set, get) => {
  const patch = (p: Partial<RecordDraft>) => set({ rw: { ...get().rw, ...p } });
  /** Replies to a test the person cancelled, or made for other settings, are dropped. */
  let testSeq = 0;
  let searchSeq = 0;

  /** The form's settings, with the saved source they came from (whose password is used unless one is typed). */
  const target = (): { source?: number; settings: SourceSettings } => {
    const d = get().rw;
    return { ...(d.sourceId !== null ? { source: d.sourceId } : {}), settings: settingsOf(d.form) };
  };
  const browseKey = (d: RecordDraft) => `${d.sourceId}|${JSON.stringify(settingsOf(d.form))}`;

  return {
    recordings: null,
    sources: null,
    async loadRecordings() {
      try {
        set({ recordings: await call('recordings.list', {}) });
      } catch (err) {
        reportError(err);
      }
    },
    async loadSources() {
      try {
        set({ sources: await call('sources.list', {}) });
      } catch (err) {
        reportError(err);
      }
    },
    keepRecording(r) {
      const list = get().recordings;
      if (!list) return;
      const at = list.findIndex((x) => x.id === r.id);
      set({ recordings: at < 0 ? [r, ...list] : list.map((x) => (x.id === r.id ? r : x)) });
    },

    rw: blank(),
    recordOpen() {
      void get().loadSources();
    },
    recordReset() {
      testSeq++;
      set({ rw: blank() });
    },
    recordSet(p) {
      patch(p);
    },
    recordForm(p) {
      const form = { ...get().rw.form, ...p };
      // Keep the OPC UA mode and policy consistent: "None" goes with "None".
      if (p.securityMode === 'none') form.securityPolicy = 'None';
      else if (p.securityMode && form.securityPolicy === 'None') form.securityPolicy = 'Basic256Sha256';
      patch({ form, error: null });
    },
    recordUseSource(id) {
      const s = id === null ? null : get().sources?.find((x) => x.id === id);
      testSeq++;
      patch({
        sourceId: s?.id ?? null,
        form: s ? formOfSettings(s.settings) : blankConnectForm(get().rw.form.kind),
        sourceName: s?.name ?? '',
        password: '',
        testing: false,
        result: null,
        testedFor: null,
      });
    },
    async recordConnect() {
      const seq = ++testSeq;
      const d = get().rw;
      const settings = settingsOf(d.form);
      patch({ testing: true, result: null, testedFor: null, refused: null, error: null });
      try {
        const t = target();
        const result = await call('sources.test', { ...t, ...(d.password ? { password: d.password } : {}) });
        if (seq !== testSeq) return;
        patch({ testing: false, result, testedFor: settings });
      } catch (err) {
        if (seq !== testSeq) return;
        patch({ testing: false, result: { ok: false, problem: 'other', message: errorMessage(err), certificate: null, serverName: null }, testedFor: settings });
      }
    },
    recordCancelConnect() {
      testSeq++;
      patch({ testing: false });
    },
    async recordTrust(trust) {
      const d = get().rw;
      const cert = d.result?.certificate;
      if (!cert) return;
      const settings = settingsOf(d.form);
      const seq = ++testSeq;
      patch({ trusting: true });
      try {
        let result = await call('sources.trust', { ...target(), thumbprint: cert.thumbprint, trust });
        // Trusted, but the check after it had no password (a source not saved yet): connect again with it.
        if (trust && !result.ok && result.problem !== 'untrusted_certificate' && d.password) {
          result = await call('sources.test', { ...target(), password: d.password });
        }
        if (seq !== testSeq) return;
        patch({ trusting: false, result, testedFor: settings, refused: trust ? null : cert.thumbprint });
      } catch (err) {
        if (seq !== testSeq) return;
        patch({ trusting: false, result: { ...d.result!, message: errorMessage(err) } });
      }
    },
    recordReconsider() {
      patch({ refused: null });
    },
    async recordSaveSource() {
      const d = get().rw;
      if (!connected(d)) return;
      const saved = savedUnchanged(d, get().sources);
      const name = sourceNameOf(d, get().sources);
      patch({ saving: true, error: null });
      try {
        // A saved source used as it is, under its own name and password, needs no saving.
        const source =
          saved && saved.name === name && !d.password
            ? saved
            : await call('sources.save', { ...(d.sourceId !== null ? { id: d.sourceId } : {}), name, settings: settingsOf(d.form), ...(d.password ? { password: d.password } : {}) });
        const list = get().sources ?? [];
        set({ sources: list.some((s) => s.id === source.id) ? list.map((s) => (s.id === source.id ? source : s)) : [...list, source] });
        const next = { ...get().rw, sourceId: source.id, sourceName: source.name };
        const key = browseKey(next);
        // Another source or other settings: what was browsed and picked belonged to the old one.
        const fresh = key !== d.browsedFor ? { browsedFor: key, tree: {}, expanded: [], search: '', searchList: null, heard: null, picked: [], live: {}, liveError: null } : {};
        patch({ sourceId: source.id, sourceName: source.name, saving: false, step: RECORD_STEP.tags, ...fresh });
      } catch (err) {
        patch({ saving: false, error: errorMessage(err) });
      }
    },
    async recordBrowse(parent) {
      const { sourceId } = get().rw;
      if (sourceId === null) return;
      patch({ tree: { ...get().rw.tree, [parent]: loadingList() } });
      try {
        const r = await call('sources.browse', { source: sourceId, ...(parent ? { parent } : {}) });
        patch({ tree: { ...get().rw.tree, [parent]: { nodes: r.nodes, truncated: r.truncated, loading: false, error: null } } });
      } catch (err) {
        patch({ tree: { ...get().rw.tree, [parent]: { nodes: null, truncated: false, loading: false, error: errorMessage(err) } } });
      }
    },
    recordToggle(id) {
      const d = get().rw;
      const open = d.expanded.includes(id);
      patch({ expanded: open ? d.expanded.filter((x) => x !== id) : [...d.expanded, id] });
      if (!open && !d.tree[id]?.nodes && !d.tree[id]?.loading) void get().recordBrowse(id);
    },
    async recordSearch(text) {
      const seq = ++searchSeq;
      const { sourceId } = get().rw;
      const q = text.trim();
      if (!q || sourceId === null) {
        patch({ searchList: null });
        return;
      }
      patch({ searchList: { ...(get().rw.searchList ?? loadingList()), loading: true, error: null } });
      try {
        const r = await call('sources.browse', { source: sourceId, search: q });
        if (seq === searchSeq) patch({ searchList: { nodes: r.nodes, truncated: r.truncated, loading: false, error: null } });
      } catch (err) {
        if (seq === searchSeq) patch({ searchList: { nodes: null, truncated: false, loading: false, error: errorMessage(err) } });
      }
    },
    async recordListen() {
      const { sourceId } = get().rw;
      if (sourceId === null) return;
      patch({ heard: { ...(get().rw.heard ?? loadingList()), loading: true, error: null }, listenStartedAt: Date.now() });
      try {
        const r = await call('sources.browse', { source: sourceId, listenMs: LISTEN_MS });
        patch({ heard: { nodes: r.nodes, truncated: r.truncated, notes: r.notes ?? [], loading: false, error: null }, listenStartedAt: null });
      } catch (err) {
        patch({ heard: { nodes: get().rw.heard?.nodes ?? null, truncated: false, loading: false, error: errorMessage(err) }, listenStartedAt: null });
      }
    },
    recordPick(node) {
      patch({ picked: pickNode(get().rw.picked, node) });
      void get().recordReadLive();
    },
    recordUnpick(id) {
      patch({ picked: unpick(get().rw.picked, id) });
    },
    recordRename(id, name) {
      patch({ picked: renameTag(get().rw.picked, id, name) });
    },
    async recordReadLive() {
      const { sourceId, picked } = get().rw;
      if (sourceId === null || picked.length === 0) return;
      try {
        const values = await call('sources.read', { source: sourceId, tags: picked.slice(0, 500).map((t) => t.id) });
        patch({ live: { ...get().rw.live, ...Object.fromEntries(values.map((v) => [v.tag, v])) }, liveError: null });
      } catch (err) {
        patch({ liveError: errorMessage(err) });
      }
    },
    async recordStart() {
      const d = get().rw;
      if (d.sourceId === null || d.picked.length === 0) return null;
      const interval = d.customInterval === null ? { ms: d.intervalMs } : parseIntervalSeconds(d.customInterval);
      const duration = d.untilStopped ? { ms: null } : parseDuration(d.durationText, d.durationUnit);
      if ('error' in interval || 'error' in duration) {
        patch({ error: 'error' in interval ? interval.error : (duration as { error: string }).error });
        return null;
      }
      patch({ starting: true, error: null });
      try {
        const r = await call('recordings.start', {
          source: d.sourceId,
          name: recordingNameOf(d, get().sources, new Date()),
          tags: d.picked.map((t) => ({ id: t.id, name: t.name.trim(), ...(t.unit ? { unit: t.unit } : {}) })),
          intervalMs: interval.ms,
          durationMs: duration.ms,
        });
        get().keepRecording(r);
        testSeq++;
        set({ rw: blank() });
        return r.id;
      } catch (err) {
        patch({ starting: false, error: errorMessage(err) });
        return null;
      }
    },
  };
};
