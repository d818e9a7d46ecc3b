/**
 * Deployments in words: which version the wizard offers first, where an
 * exported bundle goes, what an endpoint's status means, how long ago it last
 * answered. Pure, so it is unit tested.
 */
import type { ModelVersionInfo } from '../../../shared/api';
import { ENDPOINT_NAME, type DeployCheck, type DeploymentRecord, type DeployResult, type EndpointSummary } from '../../../shared/deploy';

/** The name the wizard gives the endpoint it runs on this PC. */
export const LOCAL_DEFAULT_NAME = 'this-pc';

type Version = Pick<ModelVersionInfo, 'version' | 'aliases' | 'archivedAt'>;

/** The version the wizard preselects: production, else the newest that is not archived (versions come newest first). */
export function defaultVersion(versions: readonly Version[]): number | null {
  const live = versions.filter((v) => !v.archivedAt);
  return (live.find((v) => v.aliases.includes('production')) ?? live[0])?.version ?? null;
}

/** "Failure alarm v2.tar.gz": characters Windows refuses in file names become "_". */
export function bundleFileName(model: string, version: number): string {
  // eslint-disable-next-line no-control-regex
  const safe = model.replace(/[\\/:*?"<>|\u0000-\u001f]/g, '_').trim() || 'model';
  return `${safe} v${version}.tar.gz`;
}

const separatorOf = (dir: string) => (dir.includes('\\') && !dir.includes('/') ? '\\' : '/');

/** Where "Export a file" writes by default: the workspace's exports folder, beside scored files. */
export function defaultBundlePath(workspace: string, model: string, version: number): string {
  const sep = separatorOf(workspace);
  return [workspace.replace(/[\\/]+$/, ''), 'exports', bundleFileName(model, version)].join(sep);
}

/** True when a file is directly in the workspace's exports folder, which server mode offers as a download. */
export function inExportsFolder(file: string, workspace: string): boolean {
  const norm = (p: string) => p.replace(/\\/g, '/').replace(/\/+$/, '');
  const f = norm(file);
  const dir = f.slice(0, f.lastIndexOf('/'));
  return dir === `${norm(workspace)}/exports`;
}

/** "3 min ago", in the user's language; the exact time goes in a tooltip beside it. */
export function relativeTime(iso: string, now: number, locale?: string): string {
  const seconds = Math.round((now - new Date(iso).getTime()) / 1000);
  if (!Number.isFinite(seconds)) return '–';
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  if (seconds < 10) return rtf.format(0, 'second');
  if (seconds < 60) return rtf.format(-seconds, 'second');
  if (seconds < 3600) return rtf.format(-Math.floor(seconds / 60), 'minute');
  if (seconds < 86_400) return rtf.format(-Math.floor(seconds / 3600), 'hour');
  return rtf.format(-Math.floor(seconds / 86_400), 'day');
}

/** "14:02" today, "3 May, 14:02" before: plant time, in the user's language. */
export function clockTime(iso: string, now: number, locale?: string, timeZone?: string): string {
  const d = new Date(iso);
  if (!Number.isFinite(d.getTime())) return '–';
  const day = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  const today = day.format(d) === day.format(new Date(now));
  return d.toLocaleString(locale, { timeZone, ...(today ? {} : { month: 'short', day: 'numeric' }), hour: '2-digit', minute: '2-digit' });
}

export type Tone = 'neutral' | 'bad';

export interface StatusLook {
  label: string;
  /** Colour only when something needs attention (ISA-101): a running endpoint needs none. */
  tone: Tone;
  icon: 'check' | 'alert' | 'stop' | 'info';
  /** One line under the chip: since when, and why. */
  note: string | null;
}

/** An endpoint's status in plain words, with "no contact since …" when it stopped answering. */
export function statusLook(e: Pick<EndpointSummary, 'status' | 'lastContact' | 'lastError' | 'kind'>, now: number, locale?: string, timeZone?: string): StatusLook {
  switch (e.status) {
    case 'up':
      return { label: 'Up', tone: 'neutral', icon: 'check', note: null };
    case 'down': {
      const since = e.lastContact ? `No contact since ${clockTime(e.lastContact, now, locale, timeZone)} (${relativeTime(e.lastContact, now, locale)})` : 'Has never answered';
      return { label: 'Down', tone: 'bad', icon: 'alert', note: e.lastError ? `${since}: ${e.lastError}` : `${since}.` };
    }
    case 'stopped':
      return { label: 'Stopped', tone: 'neutral', icon: 'stop', note: e.kind === 'local' ? 'Not running on this PC. Start it to answer again.' : null };
    case 'unknown':
      return { label: 'Not checked yet', tone: 'neutral', icon: 'info', note: 'Refresh to contact it.' };
  }
}

/** "1,204 requests" and "3 errors", or null before any contact. */
export function trafficWords(e: Pick<EndpointSummary, 'requests' | 'errors'>): { requests: string; errors: string | null } | null {
  if (e.requests === null) return null;
  const count = (n: number, one: string, many: string) => `${n.toLocaleString()} ${n === 1 ? one : many}`;
  return { requests: count(e.requests, 'request', 'requests'), errors: e.errors === null ? null : count(e.errors, 'error', 'errors') };
}

export const CHECK_TITLES: Record<DeployCheck['name'], string> = {
  signature: 'Signature',
  health: 'Health',
  smoke: 'Smoke test',
};

/** What each check looks at, shown while it runs. */
export const CHECK_WAITING: Record<DeployCheck['name'], string> = {
  signature: 'The endpoint verifies the bundle against the workspace key it trusts.',
  health: 'The endpoint says it is live and the model is ready.',
  smoke: "Rows the model was checked on go to the endpoint; its answers must match the app's own.",
};

const CHECK_IN_A_SENTENCE: Record<DeployCheck['name'], string> = {
  signature: 'signature check',
  health: 'health check',
  smoke: 'smoke test',
};

/** "The smoke test failed: …", one line per failed check; empty when every check passed. */
export function failedLines(r: Pick<DeployResult, 'checks'>): string[] {
  return r.checks.filter((c) => !c.ok).map((c) => `The ${CHECK_IN_A_SENTENCE[c.name]} failed: ${c.detail}`);
}

/** "Failure alarm version 2". */
export const servedWords = (s: { name: string; version: number | string }) => `${s.name} version ${s.version}`;

/** "Deployed Failure alarm version 2" / "Rolled back to Failure alarm version 1". */
export function historyWords(r: Pick<DeploymentRecord, 'action' | 'model' | 'version'>): string {
  const what = servedWords({ name: r.model, version: r.version });
  return r.action === 'rollback' ? `Rolled back to ${what}` : `Deployed ${what}`;
}

/** The confirmation of a rollback: what goes back, and what it replaces. */
export function rollbackSentence(e: Pick<EndpointSummary, 'name' | 'model' | 'previous'>): string {
  if (!e.previous) return `${e.name} has no previous version to go back to.`;
  const now = e.model ? `It serves ${servedWords(e.model)} now; ` : '';
  return `${now}${e.name} goes back to ${servedWords(e.previous)}, the version it served before. Requests in flight are answered; none are dropped.`;
}

/** Why the wizard cannot deploy to a known endpoint, or null when it can. */
export function endpointBlocked(e: Pick<EndpointSummary, 'name' | 'canDeploy'>): string | null {
  return e.canDeploy ? null : `Millwright has no admin token for ${e.name}, so it can only watch it. Remove it and add it again with the admin token to deploy.`;
}

/** Why the port field is not right, or null ("" means a free port). */
export function portProblem(text: string): string | null {
  const t = text.trim();
  if (!t) return null;
  if (!/^\d+$/.test(t) || Number(t) > 65535) return 'The port is a whole number from 1 to 65535, or empty for a free one.';
  if (Number(t) > 0 && Number(t) < 1024) return 'Ports below 1024 need administrator rights; choose one from 1024 up, or leave it empty.';
  return null;
}

/** Why an endpoint name is not right, or null. */
export function nameProblem(name: string): string | null {
  if (!name.trim()) return 'Give the endpoint a name, such as "line-3-gateway".';
  if (!ENDPOINT_NAME.test(name)) return 'A name uses letters, digits, ".", "-" and "_", starts with a letter or digit, and is at most 64 long.';
  return null;
}

export interface EndpointDraft {
  name: string;
  url: string;
  token: string;
  adminToken: string;
}

/** The first thing wrong with a new endpoint, in words, with the field it concerns; null when it can be sent. */
export function endpointDraftProblem(d: EndpointDraft, taken: readonly string[]): { field: keyof EndpointDraft; message: string } | null {
  const name = nameProblem(d.name);
  if (name) return { field: 'name', message: name };
  if (taken.includes(d.name)) return { field: 'name', message: `There is already an endpoint called ${d.name}.` };
  let url: URL | null;
  try {
    url = new URL(d.url.trim());
  } catch {
    url = null;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    return { field: 'url', message: 'The address starts with http:// or https://, such as http://10.0.4.21:8080.' };
  }
  if (d.token.trim().length < 16) return { field: 'token', message: 'The predict token is at least 16 characters; operations printed it when they installed the endpoint.' };
  const admin = d.adminToken.trim();
  if (admin && admin.length < 16) return { field: 'adminToken', message: 'The admin token is at least 16 characters, or leave it empty to only watch the endpoint.' };
  if (admin && admin === d.token.trim()) return { field: 'adminToken', message: 'The admin token must differ from the predict token.' };
  return null;
}
