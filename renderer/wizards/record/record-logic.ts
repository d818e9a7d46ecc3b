/**
 * The rules behind the "Record live data" wizard: the source's default name,
 * addresses, the settings sent to the core, column names made unique from the
 * picked tags, the interval and duration a person types, and the sentences that
 * explain them. Pure, so it is unit tested.
 */
import type { BrowseNode, MqttSettings, OpcUaSettings, SourceKind, SourceSettings } from '../../../shared/recording';
import { MQTT_PAYLOADS, OPCUA_AUTH, OPCUA_SECURITY_MODES, OPCUA_SECURITY_POLICIES, RECORDING_INTERVAL } from '../../../shared/recording';

// ---------------------------------------------------------------------------
// Steps

export const RECORD_STEP = { connect: 0, tags: 1, when: 2 } as const;
export const RECORD_STEP_LABELS = ['Connect', 'Pick tags', 'How long'] as const;

// ---------------------------------------------------------------------------
// Connect

export const URL_EXAMPLES: Record<SourceKind, string> = {
  opcua: 'opc.tcp://192.168.0.10:4840',
  mqtt: 'mqtt://broker.local:1883',
};

const SCHEMES: Record<SourceKind, readonly string[]> = {
  opcua: ['opc.tcp'],
  mqtt: ['mqtt', 'mqtts', 'ws', 'wss'],
};

/** What the Connect step holds: every field of both kinds, so switching kind and back loses nothing. */
export interface ConnectForm {
  kind: SourceKind;
  url: string;
  /** OPC UA */
  securityMode: OpcUaSettings['securityMode'];
  securityPolicy: OpcUaSettings['securityPolicy'];
  auth: OpcUaSettings['auth'];
  userCertificateFile: string;
  userKeyFile: string;
  /** MQTT */
  topic: string;
  payload: MqttSettings['payload'];
  /** MQTT has no "auth" setting: a user name means credentials. */
  mqttAuth: 'anonymous' | 'password';
  caFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  rejectUnauthorized: boolean;
  /** Sparkplug B: ask edge nodes whose birth was missed for it again (a write to the broker; off unless ticked). */
  rebirth: boolean;
  /** Both */
  username: string;
}

export function blankConnectForm(kind: SourceKind = 'opcua'): ConnectForm {
  return {
    kind,
    url: '',
    securityMode: OPCUA_SECURITY_MODES[0],
    securityPolicy: OPCUA_SECURITY_POLICIES[0],
    auth: OPCUA_AUTH[0],
    userCertificateFile: '',
    userKeyFile: '',
    topic: '#',
    payload: MQTT_PAYLOADS[0],
    mqttAuth: 'anonymous',
    caFile: '',
    clientCertFile: '',
    clientKeyFile: '',
    rejectUnauthorized: true,
    rebirth: false,
    username: '',
  };
}

/**
 * True when a setting under Advanced differs from a new form's: the section then opens by
 * itself, so a saved source's certificates or Rebirth are seen, not hidden behind a fold.
 */
export function advancedInUse(f: ConnectForm): boolean {
  const d = blankConnectForm(f.kind);
  // User name and password are under Sign in; only a user certificate is under Advanced.
  if (f.kind === 'opcua') return f.securityMode !== d.securityMode || f.auth === 'certificate';
  return !!f.caFile || !!f.clientCertFile || !!f.clientKeyFile || f.rejectUnauthorized !== d.rejectUnauthorized || (f.payload === 'sparkplug' && f.rebirth);
}

/** The form filled from a saved source. */
export function formOfSettings(s: SourceSettings): ConnectForm {
  const f = blankConnectForm(s.kind);
  if (s.kind === 'opcua') {
    return {
      ...f,
      url: s.url,
      securityMode: s.securityMode,
      securityPolicy: s.securityPolicy,
      auth: s.auth,
      username: s.username ?? '',
      userCertificateFile: s.userCertificateFile ?? '',
      userKeyFile: s.userKeyFile ?? '',
    };
  }
  return {
    ...f,
    url: s.url,
    topic: s.topic,
    payload: s.payload,
    mqttAuth: s.username ? 'password' : 'anonymous',
    username: s.username ?? '',
    caFile: s.caFile ?? '',
    clientCertFile: s.clientCertFile ?? '',
    clientKeyFile: s.clientKeyFile ?? '',
    rejectUnauthorized: s.rejectUnauthorized,
    rebirth: s.rebirth ?? false,
  };
}

const opt = (v: string) => (v.trim() ? v.trim() : undefined);

/** The settings the core gets: only the fields of the chosen kind, empty ones left out. */
export function settingsOf(f: ConnectForm): SourceSettings {
  if (f.kind === 'opcua') {
    const s: OpcUaSettings = {
      kind: 'opcua',
      url: f.url.trim(),
      // "None" mode goes with the "None" policy and back: a mismatch is only possible under Advanced.
      securityMode: f.securityMode,
      securityPolicy: f.securityMode === 'none' ? 'None' : f.securityPolicy === 'None' ? 'Basic256Sha256' : f.securityPolicy,
      auth: f.auth,
    };
    if (f.auth === 'password' && opt(f.username)) s.username = f.username.trim();
    if (f.auth === 'certificate') {
      if (opt(f.userCertificateFile)) s.userCertificateFile = f.userCertificateFile.trim();
      if (opt(f.userKeyFile)) s.userKeyFile = f.userKeyFile.trim();
    }
    return s;
  }
  // Rebirth only means something for Sparkplug B: a ticked box left behind when switching to JSON is not sent.
  const s: MqttSettings = { kind: 'mqtt', url: f.url.trim(), topic: f.topic.trim() || '#', payload: f.payload, rejectUnauthorized: f.rejectUnauthorized, rebirth: f.payload === 'sparkplug' && f.rebirth };
  if (f.mqttAuth === 'password' && opt(f.username)) s.username = f.username.trim();
  if (opt(f.caFile)) s.caFile = f.caFile.trim();
  if (opt(f.clientCertFile)) s.clientCertFile = f.clientCertFile.trim();
  if (opt(f.clientKeyFile)) s.clientKeyFile = f.clientKeyFile.trim();
  return s;
}

/** Whether the form asks for a password. */
export function wantsPassword(f: ConnectForm): boolean {
  return f.kind === 'opcua' ? f.auth === 'password' : f.mqttAuth === 'password';
}

/** Two settings describe the same connection (a saved source used as it is). */
export function sameSettings(a: SourceSettings, b: SourceSettings): boolean {
  return canonical(a) === canonical(b);
}

function canonical(s: SourceSettings): string {
  const entries = Object.entries(s)
    .filter(([, v]) => v !== undefined && v !== '')
    .sort(([x], [y]) => x.localeCompare(y));
  return JSON.stringify(entries);
}

/** Why the address cannot be used yet, in words; null when it can. */
export function urlProblem(kind: SourceKind, url: string): string | null {
  const u = url.trim();
  const example = URL_EXAMPLES[kind];
  if (!u) return `Enter the ${kind === 'opcua' ? "server's" : "broker's"} address, e.g. ${example}.`;
  const scheme = /^([a-z][a-z0-9.+-]*):\/\//i.exec(u)?.[1]?.toLowerCase();
  const allowed = SCHEMES[kind];
  if (!scheme || !allowed.includes(scheme)) {
    const starts = allowed.map((s) => `${s}://`).join(', ');
    return kind === 'opcua' ? `An OPC UA address starts with opc.tcp://, e.g. ${example}.` : `An MQTT address starts with ${starts}, e.g. ${example}.`;
  }
  if (!hostOf(u)) return `The address has no host name or IP address after ${scheme}://, e.g. ${example}.`;
  return null;
}

/** Everything the Connect step needs before Connect can be pressed, or null. */
export function connectProblem(f: ConnectForm, password: string, passwordSaved: boolean): string | null {
  const u = urlProblem(f.kind, f.url);
  if (u) return u;
  if (wantsPassword(f)) {
    if (!f.username.trim()) return 'Enter the user name.';
    if (!password && !passwordSaved) return 'Enter the password.';
  }
  if (f.kind === 'opcua' && f.auth === 'certificate' && (!f.userCertificateFile.trim() || !f.userKeyFile.trim())) return 'Choose the certificate file and its private key (under Advanced).';
  if (f.kind === 'mqtt' && !f.topic.trim()) return 'Enter the topics to listen to (# for all).';
  return null;
}

/** The host of an address: "opc.tcp://plc-7:4840/x" → "plc-7", "mqtt://[::1]:1883" → "::1". */
export function hostOf(url: string): string {
  const m = /^[a-z][a-z0-9.+-]*:\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)/i.exec(url.trim());
  return (m?.[1] ?? '').replace(/^\[|\]$/g, '');
}

/** A name for a new source: its host, with " 2", " 3"… when a saved source has that name already. */
export function defaultSourceName(f: Pick<ConnectForm, 'kind' | 'url'>, taken: readonly string[]): string {
  const base = (hostOf(f.url) || (f.kind === 'opcua' ? 'OPC UA server' : 'MQTT broker')).slice(0, 90);
  return uniqueAmong(base, taken);
}

function uniqueAmong(base: string, taken: readonly string[]): string {
  const used = new Set(taken.map((t) => t.toLowerCase()));
  if (!used.has(base.toLowerCase())) return base;
  for (let i = 2; ; i++) {
    const name = `${base} ${i}`;
    if (!used.has(name.toLowerCase())) return name;
  }
}

// ---------------------------------------------------------------------------
// Pick tags

/** A picked tag: what the driver subscribes to, where it is, and the column it becomes. */
export interface PickedTag {
  id: string;
  /** Slash-separated names from the root (BrowseNode.path). */
  path: string;
  /** What the source calls it (BrowseNode.name): the column name while it is unique. */
  browseName: string;
  /** The column name; follows the path until the person edits it. */
  name: string;
  /** Typed by the person: kept as it is. */
  edited: boolean;
  unit: string | null;
  dataType: string | null;
}

/** The parts of a tag's path, ending in its browse name; the tag id when there is neither. */
function segments(t: Pick<PickedTag, 'id' | 'path' | 'browseName'>): string[] {
  const parts = t.path.split('/').map((p) => p.trim()).filter(Boolean);
  const name = t.browseName.trim();
  if (name) return [...parts.slice(0, -1), name];
  return parts.length ? parts : [t.id];
}

/**
 * Column names for the picked tags. A name a person typed stays; the others are
 * the tag's browse name, and when two would be alike, as much of the path before it
 * as makes them differ ("Pump1.Temperature", "Pump2.Temperature"). Whatever still clashes
 * (two typed alike, one path inside another) gets " 2", " 3"; case does not count.
 */
export function uniqueColumnNames(tags: readonly Pick<PickedTag, 'id' | 'path' | 'browseName' | 'name' | 'edited'>[]): string[] {
  const segs = tags.map(segments);
  const depth = tags.map(() => 1);
  const suffix = (i: number) => segs[i]!.slice(-depth[i]!).join('.');
  // Lengthen the auto names that clash with another auto name, as long as that helps.
  for (let round = 0; round < 20; round++) {
    const byName = new Map<string, number[]>();
    tags.forEach((t, i) => {
      if (t.edited) return;
      const key = suffix(i).toLowerCase();
      byName.set(key, [...(byName.get(key) ?? []), i]);
    });
    let grew = false;
    for (const group of byName.values()) {
      if (group.length < 2) continue;
      for (const i of group) {
        if (depth[i]! < segs[i]!.length) {
          depth[i]!++;
          grew = true;
        }
      }
    }
    if (!grew) break;
  }
  const wanted = tags.map((t, i) => (t.edited ? t.name.trim() : suffix(i)).slice(0, 190));
  // Typed names first, so a typed name keeps its exact text and an auto name moves aside.
  const order = tags.map((_, i) => i).sort((a, b) => Number(tags[b]!.edited) - Number(tags[a]!.edited) || a - b);
  const used = new Set<string>();
  const out: string[] = new Array<string>(tags.length);
  for (const i of order) {
    const base = wanted[i] || segs[i]!.at(-1)!;
    let name = base;
    for (let n = 2; used.has(name.toLowerCase()); n++) name = `${base} ${n}`;
    used.add(name.toLowerCase());
    out[i] = name;
  }
  return out;
}

/** Applies uniqueColumnNames to the picked list. */
export function withColumnNames(tags: readonly PickedTag[]): PickedTag[] {
  const names = uniqueColumnNames(tags);
  return tags.map((t, i) => (t.name === names[i] ? t : { ...t, name: names[i]! }));
}

/** Adds a browsed variable to the picked tags (once). */
export function pickNode(tags: readonly PickedTag[], n: BrowseNode): PickedTag[] {
  if (tags.some((t) => t.id === n.id)) return [...tags];
  return withColumnNames([...tags, { id: n.id, path: n.path || n.name, browseName: n.name, name: n.name, edited: false, unit: n.unit, dataType: n.dataType }]);
}

export function unpick(tags: readonly PickedTag[], id: string): PickedTag[] {
  return withColumnNames(tags.filter((t) => t.id !== id));
}

/** The person typed a column name; clearing it gives the automatic one back. */
export function renameTag(tags: readonly PickedTag[], id: string, name: string): PickedTag[] {
  return withColumnNames(tags.map((t) => (t.id === id ? { ...t, name, edited: name.trim() !== '' } : t)));
}

/** Why the picked names cannot be used, or null: empty or duplicate names, as the dataset would refuse them. */
export function columnNameProblem(tags: readonly Pick<PickedTag, 'name'>[]): string | null {
  const seen = new Set<string>();
  for (const t of tags) {
    const n = t.name.trim();
    if (!n) return 'Every tag needs a column name.';
    if (n.length > 200) return `The column name "${n.slice(0, 40)}…" is longer than 200 characters.`;
    if (seen.has(n.toLowerCase())) return `Two tags would both be the column "${n}": rename one.`;
    seen.add(n.toLowerCase());
  }
  return null;
}

/** Why a browsed variable cannot be picked, or null when it can. */
export function whyNotPickable(n: BrowseNode): string | null {
  if (n.kind !== 'variable') return null;
  if (n.numeric) return null;
  const type = n.dataType ? n.dataType.toLowerCase() : null;
  const what = type === 'string' || type === 'localizedtext' ? 'text' : type === 'json' ? 'a JSON object' : type ? `a ${n.dataType}` : 'not a number';
  return `Holds ${what}: only numbers and on/off values can be recorded.`;
}

/** A node of the tree shown for MQTT: what the broker was heard to publish, grouped by topic level. */
export interface TreeItem {
  /** Unique within the tree: the node's id for variables, "folder:" and the path for folders. */
  key: string;
  name: string;
  path: string;
  node: BrowseNode | null;
  children: TreeItem[];
}

/**
 * Builds a tree from nodes listed flat with slash-separated paths (MQTT topics and
 * JSON fields as heard). Folders are made for every level; a node that is both a
 * topic with a value and the parent of deeper topics keeps its value and children.
 */
export function treeFromPaths(nodes: readonly BrowseNode[]): TreeItem[] {
  const root: TreeItem = { key: 'folder:', name: '', path: '', node: null, children: [] };
  // Every item by path, leaves too: a topic heard with a value may turn out to have subtopics, or the other way round.
  const byPath = new Map<string, TreeItem>([['', root]]);
  const itemAt = (parts: string[], node: BrowseNode | null): TreeItem => {
    const path = parts.join('/');
    const known = byPath.get(path);
    if (known) {
      if (node) known.node = node;
      return known;
    }
    const parent = itemAt(parts.slice(0, -1), null);
    const item: TreeItem = { key: node ? node.id : `folder:${path}`, name: parts.at(-1)!, path, node, children: [] };
    parent.children.push(item);
    byPath.set(path, item);
    return item;
  };
  for (const n of nodes) {
    const parts = (n.path || n.name).split('/').filter((p) => p !== '');
    if (!parts.length) parts.push(n.name || n.id);
    itemAt(parts, n.kind === 'variable' ? n : null);
  }
  const sort = (items: TreeItem[]) => {
    items.sort((a, b) => Number(b.children.length > 0) - Number(a.children.length > 0) || a.name.localeCompare(b.name, undefined, { numeric: true }));
    items.forEach((i) => sort(i.children));
  };
  sort(root.children);
  return root.children;
}

/** Counts of what was heard, for "Heard 12 topics, 9 of them numbers." */
export function countVariables(nodes: readonly BrowseNode[]): { all: number; numeric: number } {
  const vars = nodes.filter((n) => n.kind === 'variable');
  return { all: vars.length, numeric: vars.filter((n) => n.numeric).length };
}

// ---------------------------------------------------------------------------
// How long

export const INTERVAL_PRESETS = [100, 1000, 5000, 60_000] as const;

/** "100 ms", "1 s", "2.5 s", "1 min", "1 min 30 s", "2 h". */
export function formatInterval(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${trim(ms / 1000)} s`;
  if (ms < 3_600_000) {
    const min = Math.floor(ms / 60_000);
    const s = (ms - min * 60_000) / 1000;
    return s ? `${min} min ${trim(s)} s` : `${min} min`;
  }
  const h = Math.floor(ms / 3_600_000);
  const min = Math.round((ms - h * 3_600_000) / 60_000);
  return min ? `${h} h ${min} min` : `${h} h`;
}

function trim(v: number): string {
  return String(Math.round(v * 1000) / 1000);
}

/** A decimal a person typed, with a point or a comma: "2,5" → 2.5; null when it is not one. */
export function parseDecimal(text: string): number | null {
  const s = text.trim().replace(',', '.');
  if (!/^\d+(\.\d*)?$|^\.\d+$/.test(s)) return null;
  const v = Number(s);
  return Number.isFinite(v) ? v : null;
}

/** The custom interval typed in seconds → ms, or the sentence saying what is wrong. */
export function parseIntervalSeconds(text: string): { ms: number } | { error: string } {
  const v = parseDecimal(text);
  const limits = `from ${formatInterval(RECORDING_INTERVAL.min)} to ${formatInterval(RECORDING_INTERVAL.max)}`;
  if (v === null) return { error: `Enter the interval in seconds, e.g. 2 or 0.5 (${limits}).` };
  const ms = Math.round(v * 1000);
  if (ms < RECORDING_INTERVAL.min || ms > RECORDING_INTERVAL.max) return { error: `The interval must be ${limits}.` };
  return { ms };
}

export const DURATION_UNITS = ['minutes', 'hours', 'days'] as const;
export type DurationUnit = (typeof DURATION_UNITS)[number];
const UNIT_MS: Record<DurationUnit, number> = { minutes: 60_000, hours: 3_600_000, days: 86_400_000 };
/** The core's limit (recordings.start). */
export const MAX_DURATION_MS = 366 * 86_400_000;

/** A duration typed as an amount of a unit → ms, or the sentence saying what is wrong. */
export function parseDuration(text: string, unit: DurationUnit): { ms: number } | { error: string } {
  const v = parseDecimal(text);
  if (v === null || v <= 0) return { error: `Enter how many ${unit} to record, e.g. 30.` };
  const ms = Math.round(v * UNIT_MS[unit]);
  if (ms < 60_000) return { error: 'Record for at least a minute.' };
  if (ms > MAX_DURATION_MS) return { error: 'Record for at most 366 days; choose "Until I stop" for longer.' };
  return { ms };
}

/** The sentence under the interval: what it means for the kind of source. */
export function intervalNote(kind: SourceKind, ms: number): string {
  const every = formatInterval(ms);
  if (kind === 'mqtt') return `MQTT records every message as it arrives. ${every} is the time grid a dataset saved from the recording gets unless you choose another.`;
  return `The server is asked for a new value of each tag every ${every}; it is also the time grid of a dataset saved from the recording.`;
}

/** About how many values an hour (OPC UA: one per tag and interval); null for MQTT, which records what arrives. */
export function valuesPerHour(kind: SourceKind, tags: number, intervalMs: number): number | null {
  if (kind === 'mqtt' || intervalMs <= 0) return null;
  return Math.round((tags * 3_600_000) / intervalMs);
}

/** "Pump station 2025-03-14 08:15": the source and the local start time. */
export function defaultRecordingName(source: string, at: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const when = `${at.getFullYear()}-${p(at.getMonth() + 1)}-${p(at.getDate())} ${p(at.getHours())}:${p(at.getMinutes())}`;
  return `${source.trim() || 'Recording'} ${when}`.slice(0, 200);
}
