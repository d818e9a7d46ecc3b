import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InboxSchema } from '../../../shared/feedback';
import { AuditLog } from '../workspace/audit';
import { at, EventsFixture, MIN, T0 } from './events-fixture';
import type { FeedbackService } from './service';

/** Answers with their history, causes, and the periodic prompt and Inbox, on a real workspace. */

let fx: EventsFixture;
let svc: FeedbackService;
const zone = process.env.TZ;

beforeEach(() => {
  fx = new EventsFixture();
  svc = fx.service();
  svc.configure({ gapMinutes: 10, minRows: 1 });
});

afterEach(async () => {
  await svc.close();
  fx.close();
  vi.useRealTimers();
  if (zone === undefined) delete process.env.TZ;
  else process.env.TZ = zone;
});

/** n episodes of Kiln on kiln-1, an hour apart, peaks 0.7, 0.8, …; closed (the clock moves past the gap). */
async function episodes(n: number): Promise<number[]> {
  for (let k = 0; k < n; k++) fx.put('kiln-1', [{ m: 60 * k, score: 0.7 + k / 10 }, { m: 60 * k + 2, score: 0.65 }]);
  await svc.scan();
  fx.now += 11 * MIN;
  return (await svc.list({})).map((e) => e.id).sort((a, b) => a - b);
}

describe('answers', () => {
  it('are kept on the episode with who and when, every change in its history, audited; a cause goes with a real problem only', async () => {
    const [id] = await episodes(1);
    fx.now = T0 + 2000 * MIN;
    const first = await svc.answer({ id: id!, verdict: 'real', cause: '  Bearing wear ', comment: ' hot bearing ' });
    expect(first).toEqual(expect.objectContaining({ verdict: 'real', cause: 'Bearing wear', comment: 'hot bearing', answeredBy: 'ana', answeredAt: at(2000), rank: null, rankReason: null }));
    fx.now = T0 + 2100 * MIN;
    const second = await svc.answer({ id: id!, verdict: 'normal', cause: 'ignored', comment: '' });
    expect(second).toEqual(expect.objectContaining({ verdict: 'normal', cause: null, comment: null, answeredAt: at(2100) }));
    const d = await svc.get({ id: id! });
    expect(d.history).toEqual([
      { verdict: 'real', cause: 'Bearing wear', comment: 'hot bearing', by: 'ana', at: at(2000) },
      { verdict: 'normal', cause: null, comment: null, by: 'ana', at: at(2100) },
    ]);
    const audit = AuditLog.list(fx.ws.db, { limit: 10, action: 'feedback.answer' });
    expect(audit.map((a) => [a.who, a.details.verdict, (a.details.before as { verdict: string } | null)?.verdict ?? null])).toEqual([
      ['ana', 'normal', 'real'],
      ['ana', 'real', null],
    ]);
    expect(audit[0]!.details.model).toBe('Kiln');
    expect(fx.events.filter((e) => e.type === 'feedback').length).toBeGreaterThanOrEqual(3);
  });

  it('an unknown episode is named', async () => {
    await expect(svc.answer({ id: 999, verdict: 'unsure' })).rejects.toThrow(/^There is no episode 999\./);
    await expect(svc.get({ id: 999 })).rejects.toMatchObject({ code: 'not_found', field: 'id' });
  });

  it('causes given before, most used first, spellings differing only in case as one', async () => {
    const ids = await episodes(5);
    await svc.answer({ id: ids[0]!, verdict: 'real', cause: 'Seal leak' });
    await svc.answer({ id: ids[1]!, verdict: 'real', cause: 'bearing wear' });
    await svc.answer({ id: ids[2]!, verdict: 'real', cause: 'Bearing wear' });
    await svc.answer({ id: ids[3]!, verdict: 'real', cause: 'Bearing wear' });
    await svc.answer({ id: ids[4]!, verdict: 'normal' });
    expect(svc.causes({})).toEqual([
      { cause: 'Bearing wear', count: 3 },
      { cause: 'Seal leak', count: 1 },
    ]);
    expect(svc.causes({ model: 'Pump' })).toEqual([]);
    // Lists by status, model, endpoint, newest first, up to a limit.
    fx.put('kiln-2', [{ m: 0, model: 'Pump' }]);
    await svc.scan();
    expect((await svc.list({ status: 'answered' })).length).toBe(5);
    expect((await svc.list({ status: 'unanswered' })).map((e) => [e.model, e.endpoint])).toEqual([['Pump', 'kiln-2']]);
    expect((await svc.list({ endpoint: 'kiln-2' })).length).toBe(1);
    expect((await svc.list({ model: 'Kiln' })).map((e) => e.start)).toEqual([240, 180, 120, 60, 0].map(at));
    expect((await svc.list({ model: 'Kiln', limit: 2 })).map((e) => e.start)).toEqual([at(240), at(180)]);
  });
});

describe('prompts and the Inbox', () => {
  it('a prompt asks about at most perPrompt episodes, the most informative first, and says so; the Inbox shows those still unanswered', async () => {
    svc.configure({ perPrompt: 2 });
    const ids = await episodes(4);
    const empty = await svc.inbox();
    expect(empty).toEqual(expect.objectContaining({ due: [], unanswered: 4, lastPromptAt: null }));
    const inbox = InboxSchema.parse(await svc.prompt());
    expect(inbox.due).toHaveLength(2);
    expect(inbox.lastPromptAt).toBe(new Date(fx.now).toISOString());
    const all = await svc.list({ status: 'unanswered' });
    const best = [...all].sort((a, b) => b.rank! - a.rank!).slice(0, 2).map((e) => e.id);
    expect(inbox.due.map((e) => e.id)).toEqual(best);
    expect(fx.events.filter((e) => e.type === 'prompt')).toEqual([{ type: 'prompt', due: 2, message: '2 episodes of Kiln are waiting for your answer' }]);
    // Answering one leaves one due; the next prompt asks about the best two left.
    await svc.answer({ id: inbox.due[0]!.id, verdict: 'normal' });
    expect((await svc.inbox()).due.map((e) => e.id)).toEqual([inbox.due[1]!.id]);
    fx.now += 60 * MIN;
    const next = await svc.prompt();
    expect(next.due).toHaveLength(2);
    expect(next.unanswered).toBe(3);
    expect(next.due.map((e) => e.id)).not.toContain(inbox.due[0]!.id);
    for (const id of ids) await svc.answer({ id, verdict: 'unsure' });
    // Nothing left to ask: no prompt is said.
    fx.events.length = 0;
    fx.now += 60 * MIN;
    expect((await svc.prompt()).due).toEqual([]);
    expect(fx.events.filter((e) => e.type === 'prompt')).toEqual([]);
  });

  it('a prompt time missed while the app was closed is made up once at start; a first start only notes the time', async () => {
    process.env.TZ = 'UTC';
    await episodes(2);
    fx.now = Date.parse('2024-03-05T05:00:00Z');
    svc.start();
    await svc.close();
    expect(fx.events.filter((e) => e.type === 'prompt')).toEqual([]);
    // Opened again at 07:00: the 06:00 prompt was missed.
    fx.now = Date.parse('2024-03-05T07:00:00Z');
    svc = fx.service();
    svc.start();
    await vi.waitFor(() => expect(fx.events.filter((e) => e.type === 'prompt')).toHaveLength(1));
    expect((await svc.inbox()).nextPromptAt).toBe('2024-03-05T14:00:00.000Z');
    await svc.close();
    // Opened again at 08:00: nothing missed since.
    fx.now = Date.parse('2024-03-05T08:00:00Z');
    svc = fx.service();
    svc.start();
    await svc.close();
    await new Promise((r) => setTimeout(r, 50));
    expect(fx.events.filter((e) => e.type === 'prompt')).toHaveLength(1);
  });

  it('the timer prompts at the prompt time', async () => {
    process.env.TZ = 'UTC';
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    vi.setSystemTime(Date.parse('2024-03-05T05:40:00Z'));
    await svc.close();
    svc = fx.service('system');
    await episodes(1);
    vi.setSystemTime(Date.parse('2024-03-05T05:59:00Z'));
    svc.start();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(fx.events.filter((e) => e.type === 'prompt')).toEqual([]);
    await vi.advanceTimersByTimeAsync(31_000);
    expect(fx.events.filter((e) => e.type === 'prompt')).toEqual([{ type: 'prompt', due: 1, message: '1 episode of Kiln is waiting for your answer' }]);
    expect((await svc.inbox()).lastPromptAt).toBe('2024-03-05T06:00:00.000Z');
  });
});

describe('episodes grow until answered, and are asked about once closed', () => {
  it('rows flagged after an answer start a new episode instead of inheriting the answer', async () => {
    svc.configure({ gapMinutes: 30 });
    fx.put('kiln-1', [{ m: 0 }, { m: 1 }, { m: 2 }]);
    await svc.scan();
    const [blip] = await svc.list({});
    await svc.answer({ id: blip!.id, verdict: 'normal' });
    // 25 minutes later (within the gap) a long hot stretch.
    fx.put('kiln-1', Array.from({ length: 60 }, (_, i) => ({ m: 27 + i, score: 0.99 })));
    await svc.scan();
    const all = await svc.list({ status: 'all' });
    expect(all.map((e) => [e.start, e.end, e.rows, e.verdict])).toEqual([
      [at(27), at(86), 60, null],
      [at(0), at(2), 3, 'normal'],
    ]);
  });

  it('an episode still growing is not asked about until it closes, or has grown for more than four hours', async () => {
    fx.put('kiln-1', [{ m: 0 }, { m: 2 }]);
    await svc.scan();
    expect((await svc.list({}))[0]!.open).toBe(true);
    expect((await svc.prompt()).due).toEqual([]);
    // Flagged on and on: every few minutes, for five hours of wall time.
    for (let m = 4; m <= 300; m += 4) {
      fx.now += 4 * MIN;
      fx.put('kiln-1', [{ m }]);
      await svc.scan();
      if (m === 200) expect((await svc.prompt()).due).toEqual([]);
    }
    const [long] = await svc.list({});
    expect(long!.open).toBe(true);
    expect((await svc.prompt()).due.map((e) => e.id)).toEqual([long!.id]);
    // Closed: asked about at once.
    fx.put('kiln-2', [{ m: 0 }, { m: 1 }]);
    await svc.scan();
    fx.now += 11 * MIN;
    expect((await svc.prompt()).due.map((e) => e.endpoint)).toContain('kiln-2');
  });
});
