import { describe, expect, it } from 'vitest';
import type { EndpointSummary } from '../../../shared/deploy';
import {
  bundleFileName,
  clockTime,
  defaultBundlePath,
  defaultVersion,
  endpointBlocked,
  endpointDraftProblem,
  failedLines,
  historyWords,
  inExportsFolder,
  nameProblem,
  portProblem,
  relativeTime,
  rollbackSentence,
  statusLook,
  trafficWords,
} from './deploy-logic';

const v = (version: number, aliases: ('production' | 'challenger')[] = [], archivedAt: string | null = null) => ({ version, aliases, archivedAt });
const NOW = Date.parse('2024-05-03T12:00:00Z');
const ago = (s: number) => new Date(NOW - s * 1000).toISOString();

describe('defaultVersion', () => {
  it('prefers production, else the newest version that is not archived', () => {
    expect(defaultVersion([v(3), v(2, ['production']), v(1)])).toBe(2);
    expect(defaultVersion([v(3, ['challenger']), v(2), v(1)])).toBe(3);
    expect(defaultVersion([v(3, [], '2024-01-01'), v(2), v(1)])).toBe(2);
    expect(defaultVersion([v(1, [], '2024-01-01')])).toBeNull();
    expect(defaultVersion([])).toBeNull();
  });
});

describe('bundle file', () => {
  it('names the file after the model and version, without characters Windows refuses', () => {
    expect(bundleFileName('Failure alarm', 2)).toBe('Failure alarm v2.tar.gz');
    expect(bundleFileName('P-101: trips/day?', 1)).toBe('P-101_ trips_day_ v1.tar.gz');
  });
  it('goes into the workspace exports folder with the workspace own separator', () => {
    expect(defaultBundlePath('/home/ana/.local/share/Millwright/', 'Pump', 3)).toBe('/home/ana/.local/share/Millwright/exports/Pump v3.tar.gz');
    expect(defaultBundlePath('C:\\Users\\ana\\AppData\\Roaming\\Millwright', 'Pump', 3)).toBe('C:\\Users\\ana\\AppData\\Roaming\\Millwright\\exports\\Pump v3.tar.gz');
  });
  it('offers a download only for files directly in the exports folder', () => {
    expect(inExportsFolder('/ws/exports/Pump v3.tar.gz', '/ws')).toBe(true);
    expect(inExportsFolder('C:\\ws\\exports\\Pump v3.tar.gz', 'C:\\ws\\')).toBe(true);
    expect(inExportsFolder('/ws/exports/sub/Pump v3.tar.gz', '/ws')).toBe(false);
    expect(inExportsFolder('/tmp/Pump v3.tar.gz', '/ws')).toBe(false);
  });
});

describe('relativeTime', () => {
  it('says how long ago in seconds, minutes, hours and days', () => {
    expect(relativeTime(ago(3), NOW, 'en')).toBe('now');
    expect(relativeTime(ago(42), NOW, 'en')).toBe('42 seconds ago');
    expect(relativeTime(ago(150), NOW, 'en')).toBe('2 minutes ago');
    expect(relativeTime(ago(3 * 3600 + 5), NOW, 'en')).toBe('3 hours ago');
    expect(relativeTime(ago(86_400 + 10), NOW, 'en')).toBe('yesterday');
    expect(relativeTime('not a time', NOW, 'en')).toBe('–');
  });
});

const endpoint = (p: Partial<EndpointSummary>): EndpointSummary => ({
  name: 'this-pc',
  url: 'http://127.0.0.1:5000',
  kind: 'local',
  canDeploy: true,
  status: 'up',
  model: { name: 'Failure alarm', version: 2 },
  previous: { name: 'Failure alarm', version: 1 },
  lastContact: ago(20),
  lastError: null,
  requests: 1204,
  errors: 1,
  addedAt: ago(3600),
  addedBy: 'ana',
  ...p,
});

describe('clockTime', () => {
  it('shows the time alone today and the date with it before', () => {
    expect(clockTime(ago(600), NOW, 'en-GB', 'UTC')).toBe('11:50');
    expect(clockTime(ago(2 * 86_400), NOW, 'en-GB', 'UTC')).toBe('1 May, 12:00');
    expect(clockTime('never', NOW, 'en-GB', 'UTC')).toBe('–');
  });
});

describe('statusLook', () => {
  it('keeps a running endpoint grey and turns a silent one red, saying since when and why', () => {
    expect(statusLook(endpoint({}), NOW, 'en')).toMatchObject({ label: 'Up', tone: 'neutral', note: null });
    const down = statusLook(endpoint({ status: 'down', lastContact: ago(600), lastError: 'connection refused at 10.0.4.21:8080' }), NOW, 'en-GB', 'UTC');
    expect(down).toMatchObject({ label: 'Down', tone: 'bad' });
    expect(down.note).toBe('No contact since 11:50 (10 minutes ago): connection refused at 10.0.4.21:8080');
    expect(statusLook(endpoint({ status: 'down', lastContact: null }), NOW, 'en').note).toBe('Has never answered.');
    expect(statusLook(endpoint({ status: 'stopped' }), NOW, 'en')).toMatchObject({ label: 'Stopped', tone: 'neutral' });
    expect(statusLook(endpoint({ status: 'unknown' }), NOW, 'en')).toMatchObject({ label: 'Not checked yet', tone: 'neutral' });
  });
});

describe('words', () => {
  it('counts traffic with the right plural, and nothing before any contact', () => {
    expect(trafficWords({ requests: 1, errors: 0 })).toEqual({ requests: '1 request', errors: '0 errors' });
    expect(trafficWords({ requests: 3, errors: 1 })).toEqual({ requests: '3 requests', errors: '1 error' });
    expect(trafficWords({ requests: null, errors: null })).toBeNull();
  });
  it('names failed checks with their detail', () => {
    expect(
      failedLines({
        checks: [
          { name: 'signature', ok: true, detail: 'Signed by SHA256:abc.' },
          { name: 'smoke', ok: false, detail: 'Row 3: the endpoint said 0.91, the app 0.12.' },
        ],
      }),
    ).toEqual(['The smoke test failed: Row 3: the endpoint said 0.91, the app 0.12.']);
  });
  it('says what a rollback puts back and what the history holds', () => {
    expect(rollbackSentence(endpoint({}))).toBe(
      'It serves Failure alarm version 2 now; this-pc goes back to Failure alarm version 1, the version it served before. Requests in flight are answered; none are dropped.',
    );
    expect(rollbackSentence(endpoint({ previous: null }))).toBe('this-pc has no previous version to go back to.');
    expect(historyWords({ action: 'deploy', model: 'Pump', version: 2 })).toBe('Deployed Pump version 2');
    expect(historyWords({ action: 'rollback', model: 'Pump', version: 1 })).toBe('Rolled back to Pump version 1');
    expect(endpointBlocked(endpoint({ canDeploy: false, name: 'line-3' }))).toMatch(/no admin token for line-3/);
    expect(endpointBlocked(endpoint({}))).toBeNull();
  });
});

describe('fields', () => {
  it('checks ports and names', () => {
    expect(portProblem('')).toBeNull();
    expect(portProblem('8080')).toBeNull();
    expect(portProblem('80')).toMatch(/below 1024/);
    expect(portProblem('70000')).toMatch(/whole number/);
    expect(portProblem('80a')).toMatch(/whole number/);
    expect(nameProblem('this-pc')).toBeNull();
    expect(nameProblem('')).toMatch(/Give the endpoint a name/);
    expect(nameProblem('line 3')).toMatch(/letters, digits/);
  });
  it('finds the first thing wrong with a new endpoint and the field it is in', () => {
    const ok = { name: 'line-3', url: 'http://10.0.4.21:8080', token: 'p'.repeat(16), adminToken: 'a'.repeat(16) };
    expect(endpointDraftProblem(ok, [])).toBeNull();
    expect(endpointDraftProblem({ ...ok, adminToken: '' }, [])).toBeNull();
    expect(endpointDraftProblem(ok, ['line-3'])).toMatchObject({ field: 'name', message: 'There is already an endpoint called line-3.' });
    expect(endpointDraftProblem({ ...ok, url: '10.0.4.21:8080' }, [])?.field).toBe('url');
    expect(endpointDraftProblem({ ...ok, url: 'ftp://10.0.4.21' }, [])?.field).toBe('url');
    expect(endpointDraftProblem({ ...ok, token: 'short' }, [])?.field).toBe('token');
    expect(endpointDraftProblem({ ...ok, adminToken: 'short' }, [])?.field).toBe('adminToken');
    expect(endpointDraftProblem({ ...ok, adminToken: ok.token }, [])).toMatchObject({ field: 'adminToken', message: 'The admin token must differ from the predict token.' });
  });
});
