import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventsFixture } from './services/feedback/events-fixture';
import { Workspace } from './services/workspace/workspace';
import { privateCliBuildAsync } from './test-support/cli-build';

/** `millwright feedback list` as a person runs it: the compiled CLI on a workspace holding anomaly events not grouped yet. */

let root: string;
let wsDir: string;
let cli: ReturnType<typeof privateCliBuildAsync>;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'millwright-cli-feedback-'));
  cli = privateCliBuildAsync(root);
  await cli.ready();
  const fx = new EventsFixture();
  fx.put('kiln-1', [{ m: 0 }, { m: 1 }, { m: 2 }]);
  fx.ws.close();
  wsDir = path.join(root, 'ws');
  fs.cpSync(path.join(fx.root, 'ws'), wsDir, { recursive: true });
  fs.rmSync(fx.root, { recursive: true, force: true });
}, 300_000);

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

function grouped(): { episodes: number; cursor: number } {
  const ws = Workspace.open(wsDir, { who: 'test' });
  try {
    const episodes = (ws.db.prepare('SELECT COUNT(*) AS n FROM episodes').get() as { n: number }).n;
    const cursor = (ws.db.prepare("SELECT episodes_cursor AS c FROM endpoints WHERE name = 'kiln-1'").get() as { c: number }).c;
    return { episodes, cursor };
  } finally {
    ws.close();
  }
}

describe('millwright feedback list', () => {
  it('refuses a bad flag, an unknown model or endpoint, by name with exit 2, before grouping anything', async () => {
    const limit = await cli(['feedback', 'list', '--limit', '0', '--workspace', wsDir], { timeoutMs: 60_000 });
    expect([limit.status, limit.stderr.trim()]).toEqual([2, 'millwright: --limit must be a whole number from 1 to 10000 (got 0).']);
    const model = await cli(['feedback', 'list', '--model', 'NoSuchModel', '--workspace', wsDir], { timeoutMs: 60_000 });
    expect(model.status).toBe(2);
    expect(model.stderr).toMatch(/^millwright: There is no model "NoSuchModel" in this workspace/);
    const endpoint = await cli(['feedback', 'list', '--endpoint', 'kiln-9', '--workspace', wsDir], { timeoutMs: 60_000 });
    expect(endpoint.status).toBe(2);
    expect(endpoint.stderr).toMatch(/^millwright: There is no endpoint "kiln-9" in this workspace/);
    const other = await cli(['feedback', 'list', '--verdict', 'real', '--workspace', wsDir], { timeoutMs: 60_000 });
    expect(other.status).toBe(2);
    expect(other.stderr).toMatch(/^millwright: --verdict goes with "millwright feedback answer", not with list\./);
    expect(grouped()).toEqual({ episodes: 0, cursor: 0 });
    // Good flags: the events are grouped and listed.
    const ok = await cli(['feedback', 'list', '--model', 'Kiln', '--endpoint', 'kiln-1', '--json', '--workspace', wsDir], { timeoutMs: 60_000 });
    expect(ok.status).toBe(0);
    expect((JSON.parse(ok.stdout) as { episodes: { endpoint: string }[] }).episodes.map((e) => e.endpoint)).toEqual(['kiln-1']);
    expect(grouped()).toEqual({ episodes: 1, cursor: 3 });
  }, 120_000);
});
