import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { API, isMethodName, JOB_STATES, JobInfoSchema, parseCall, type MethodName } from './api';
import { AppError } from './errors';

/** Runs parseCall and returns the AppError it throws; fails the test when it does not throw one. */
function rejection(name: unknown, arg: unknown): AppError {
  try {
    parseCall(name, arg);
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error(`parseCall(${String(name)}) accepted ${JSON.stringify(arg)}`);
}

const METHOD_NAMES = Object.keys(API) as MethodName[];
/** Methods whose only required field is an id. */
const ID_METHODS: MethodName[] = ['jobs.get', 'jobs.cancel', 'samples.add'];

describe('API table', () => {
  it('gives every method a summary sentence, an input schema and an output schema', () => {
    expect(METHOD_NAMES.length).toBeGreaterThan(0);
    for (const name of METHOD_NAMES) {
      const entry = API[name];
      expect(name, 'names are capability.verb').toMatch(/^[a-z][A-Za-z]*\.[a-z][A-Za-z]*$/);
      expect(typeof entry.summary, name).toBe('string');
      expect(entry.summary.trim().length, name).toBeGreaterThan(5);
      expect(entry.input, name).toBeInstanceOf(z.ZodType);
      expect(entry.output, name).toBeInstanceOf(z.ZodType);
    }
  });

  /** The smallest valid argument of each method that has required fields other than an id. */
  const SETTINGS = { encoding: 'utf-8', delimiter: ',', decimal: '.', thousands: '', skipLines: 0, hasHeader: true, timeColumn: null, timeFormat: null, timeZone: 'UTC' };
  const MINIMAL: Partial<Record<string, object>> = {
    'datasets.get': { dataset: 'd' },
    'datasets.profile': { dataset: 'd' },
    'datasets.rows': { dataset: 'd', offset: 0 },
    'datasets.series': { dataset: 'd', columns: ['x'] },
    'imports.inspect': { paths: ['/a.csv'] },
    'imports.analyze': { paths: ['/a.csv'], settings: SETTINGS },
    'imports.totals': { stagingId: 'stg_1' },
    'imports.save': { stagingId: 'stg_1', name: 'n' },
    'training.suggest': { dataset: 'd', goal: 'predict_value' },
    'training.start': { dataset: 'd', task: 'anomaly' },
    'models.get': { model: 'm' },
    'models.report': { model: 'm' },
    'models.promote': { model: 'm', version: 1, alias: 'production', reason: 'r' },
    'models.archive': { model: 'm', version: 1 },
    'models.restore': { model: 'm', version: 1 },
    'models.exportMlflow': { model: 'm', out: '/tmp/x' },
    'models.exportBundle': { model: 'm', out: '/tmp/x.tar.gz' },
    'models.lineage': { model: 'm' },
    'models.compare': { a: 'm@1', b: 'm@2' },
    'models.reproduce': { model: 'm' },
    'models.score': { model: 'm', file: '/a.csv' },
    'models.tryIt': { model: 'm' },
    'models.predict': { model: 'm', rows: [{ x: 1 }] },
    'workspace.backup': { out: '/tmp/b.tar.gz' },
    'useCases.create': { name: 'n', goal: 'g', kpi: 'k' },
    'useCases.update': { useCase: 'u' },
    'useCases.assign': { useCase: 'u', kind: 'model', name: 'm' },
    'endpoints.add': { name: 'line-3', url: 'http://10.0.0.5:8080', token: 'a-token-of-16-chars' },
    'endpoints.remove': { name: 'line-3' },
    'endpoints.refresh': { name: 'line-3' },
    'endpoints.stop': { name: 'this-pc' },
    'endpoints.start': { name: 'this-pc' },
    'deploy.run': { model: 'm', target: { kind: 'local' } },
    'deploy.rollback': { endpoint: 'line-3' },
    'monitor.dashboard': { name: 'line-3' },
    'monitor.input': { name: 'line-3', input: 'Temperature' },
    'alerts.acknowledge': { id: 1 },
    'alerts.snooze': { id: 1, minutes: 60 },
    'feedback.get': { id: 1 },
    'feedback.answer': { id: 1, verdict: 'real', cause: 'Bearing wear' },
    'feedback.addToData': { model: 'm' },
    'feedback.recalibration': { model: 'm' },
    'feedback.applyThreshold': { model: 'm', threshold: 0.7, reason: 'fewer false alarms' },
    'retrain.start': { model: 'm' },
    'challenger.report': { model: 'm' },
    'challenger.promote': { model: 'm', reason: 'better on the answered episodes' },
    'challenger.discard': { model: 'm', reason: 'no better' },
    'shadow.start': { endpoint: 'line-3' },
    'shadow.stop': { endpoint: 'line-3' },
    'shadow.status': { endpoint: 'line-3' },
    'sources.save': { name: 'Pump station', settings: { kind: 'opcua', url: 'opc.tcp://10.0.0.5:4840' } },
    'sources.remove': { id: 1 },
    'sources.trust': { thumbprint: 'AB:CD', trust: true },
    'sources.browse': { source: 1 },
    'sources.read': { source: 1, tags: ['ns=1;s=Pump1.Temperature'] },
    'recordings.get': { id: 1 },
    'recordings.start': { source: 1, tags: [{ id: 'ns=1;s=Pump1.Temperature', name: 'Temperature' }] },
    'recordings.stop': { id: 1 },
    'recordings.live': { id: 1 },
    'recordings.overview': { id: 1 },
    'recordings.save': { id: 1, name: 'Pump live' },
    'recordings.remove': { id: 1 },
  };
  it('has a minimal valid argument for each method tested here', () => {
    for (const [name, arg] of Object.entries(MINIMAL)) expect(parseCall(name, arg).name).toBe(name);
  });

  it('makes every input strict, so a misspelt field is refused instead of ignored', () => {
    for (const name of METHOD_NAMES) {
      const valid = MINIMAL[name] ?? (ID_METHODS.includes(name) ? { id: 'x' } : {});
      const err = rejection(name, { ...valid, notAField: 1 });
      expect(err.code, name).toBe('bad_input');
      expect(err.message, name).toContain('"notAField"');
    }
  });

  it('accepts an empty or missing argument for every method without required fields', () => {
    for (const name of METHOD_NAMES) {
      if (MINIMAL[name]) {
        expect(rejection(name, undefined).code, name).toBe('bad_input');
      } else if (ID_METHODS.includes(name)) {
        expect(rejection(name, undefined).field, name).toBe('id');
      } else {
        expect(parseCall(name, undefined).name, name).toBe(name);
      }
    }
  });

  it('recognises only its own method names', () => {
    expect(isMethodName('app.info')).toBe(true);
    expect(isMethodName('jobs.list')).toBe(true);
    expect(isMethodName('toString')).toBe(false);
    expect(isMethodName('__proto__')).toBe(false);
    expect(isMethodName('constructor')).toBe(false);
    expect(isMethodName('')).toBe(false);
    expect(isMethodName(42)).toBe(false);
    expect(isMethodName(undefined)).toBe(false);
  });

  it('describes a job with the same states the job schema accepts', () => {
    const job = {
      id: 'job_1',
      kind: 'system.check',
      title: 'Checking this PC',
      state: 'done',
      progress: 1,
      message: 'Finished',
      createdAt: '2024-01-01T00:00:00.000Z',
      startedAt: null,
      endedAt: null,
      createdBy: 'ana',
      error: null,
      result: { cpuScore: 1 },
    };
    for (const state of JOB_STATES) expect(JobInfoSchema.safeParse({ ...job, state }).success, state).toBe(true);
    expect(JobInfoSchema.safeParse({ ...job, state: 'paused' }).success).toBe(false);
    expect(JobInfoSchema.safeParse({ ...job, progress: 1.5 }).success).toBe(false);
  });
});

describe('parseCall', () => {
  it('refuses an unknown method with unknown_method and names it', () => {
    const err = rejection('jobs.explode', {});
    expect(err.code).toBe('unknown_method');
    expect(err.message).toContain('"jobs.explode"');
  });

  it('refuses inherited object properties as method names', () => {
    for (const name of ['toString', '__proto__', 'hasOwnProperty', 'constructor']) {
      expect(rejection(name, {}).code, name).toBe('unknown_method');
    }
  });

  it('refuses a method name that is not a string', () => {
    expect(rejection(7, {}).code).toBe('unknown_method');
    expect(rejection(null, {}).code).toBe('unknown_method');
  });

  it('cuts a very long unknown name short in the message', () => {
    const err = rejection('x'.repeat(500), {});
    expect(err.code).toBe('unknown_method');
    expect(err.message).toContain('x'.repeat(80));
    expect(err.message).not.toContain('x'.repeat(81));
  });

  it('refuses a field of the wrong type, naming the field', () => {
    const err = rejection('jobs.list', { limit: 'x' });
    expect(err.code).toBe('bad_input');
    expect(err.field).toBe('limit');
    expect(err.message).toBe('jobs.list: "limit" must be a number (got "x").');
  });

  it('refuses a fraction where a whole number is needed', () => {
    const err = rejection('jobs.list', { limit: 1.5 });
    expect(err.code).toBe('bad_input');
    expect(err.field).toBe('limit');
    expect(err.message).toContain('"limit" must be a whole number');
  });

  it('refuses numbers out of range with the bound in the message', () => {
    const low = rejection('jobs.list', { limit: 0 });
    expect(low.code).toBe('bad_input');
    expect(low.field).toBe('limit');
    expect(low.message).toContain('"limit" must be at least 1 (got 0)');

    const high = rejection('jobs.list', { limit: 501 });
    expect(high.field).toBe('limit');
    expect(high.message).toContain('"limit" must be at most 500 (got 501)');

    const short = rejection('system.check', { seconds: 0.1 });
    expect(short.field).toBe('seconds');
    expect(short.message).toContain('"seconds" must be at least 0.2');

    const long = rejection('system.check', { seconds: 301 });
    expect(long.field).toBe('seconds');
    expect(long.message).toContain('"seconds" must be at most 300');
  });
  it('describes an exclusive lower bound truthfully', () => {
    const err = rejection('audit.list', { beforeId: 0 });
    expect(err.field).toBe('beforeId');
    expect(err.message).not.toContain('at least 0 (got 0)');
  });

  it('refuses non-finite numbers', () => {
    expect(rejection('system.check', { seconds: Infinity }).field).toBe('seconds');
    expect(rejection('system.check', { seconds: Number.NaN }).field).toBe('seconds');
  });

  it('refuses an unknown field and names it in the message', () => {
    const err = rejection('jobs.list', { limit: 5, lmit: 5 });
    expect(err.code).toBe('bad_input');
    expect(err.message).toBe('jobs.list: unknown field "lmit".');
  });

  it('names every unknown field when there are several', () => {
    const err = rejection('app.info', { a: 1, b: 2 });
    expect(err.code).toBe('bad_input');
    expect(err.message).toContain('"a"');
    expect(err.message).toContain('"b"');
  });

  it('refuses a value outside an enum, listing the allowed values and the index path', () => {
    const err = rejection('jobs.list', { states: ['running', 'bogus'] });
    expect(err.code).toBe('bad_input');
    expect(err.field).toBe('states.1');
    expect(err.message).toContain('"states.1" must be one of');
    for (const s of JOB_STATES) expect(err.message).toContain(`"${s}"`);
    expect(err.message).toContain('(got "bogus")');
  });

  it('refuses a list that is longer than allowed', () => {
    const err = rejection('jobs.list', { states: Array.from({ length: JOB_STATES.length + 1 }, () => 'queued') });
    expect(err.field).toBe('states');
    expect(err.message).toContain(`at most ${JOB_STATES.length} items`);
  });

  it('refuses empty and over-long ids', () => {
    const empty = rejection('jobs.get', { id: '' });
    expect(empty.field).toBe('id');
    expect(empty.message).toContain('"id" must not be empty');

    const long = rejection('jobs.get', { id: 'x'.repeat(101) });
    expect(long.field).toBe('id');
    expect(long.message).toContain('at most 100 characters');

    const missing = rejection('jobs.get', {});
    expect(missing.field).toBe('id');
    expect(missing.message).toContain('"id" must be text (got nothing)');
  });

  it('refuses an argument that is not an object, without a field', () => {
    for (const arg of [null, [], 'text', 5]) {
      const err = rejection('jobs.list', arg);
      expect(err.code).toBe('bad_input');
      expect(err.field).toBeUndefined();
      expect(err.message).toContain('the argument must be an object');
    }
  });

  it('shortens long text inputs quoted in messages', () => {
    const err = rejection('jobs.list', { limit: 'y'.repeat(100) });
    expect(err.message).toContain(`"${'y'.repeat(40)}…"`);
    expect(err.message).not.toContain('y'.repeat(41));
  });

  it('applies defaults', () => {
    expect(parseCall('jobs.list', {})).toEqual({ name: 'jobs.list', arg: { limit: 50 } });
    expect(parseCall('jobs.list', undefined)).toEqual({ name: 'jobs.list', arg: { limit: 50 } });
    expect(parseCall('system.check', {})).toEqual({ name: 'system.check', arg: { seconds: 3 } });
    expect(parseCall('audit.list', {})).toEqual({ name: 'audit.list', arg: { limit: 100 } });
  });

  it('passes valid arguments through unchanged', () => {
    expect(parseCall('jobs.list', { states: ['running', 'failed'], limit: 7 }).arg).toEqual({ states: ['running', 'failed'], limit: 7 });
    expect(parseCall('system.check', { seconds: 0.2 }).arg).toEqual({ seconds: 0.2 });
    expect(parseCall('system.check', { seconds: 300 }).arg).toEqual({ seconds: 300 });
    expect(parseCall('jobs.get', { id: 'job_abc' }).arg).toEqual({ id: 'job_abc' });
    expect(parseCall('audit.list', { limit: 3, action: 'job.start', beforeId: 9 }).arg).toEqual({
      limit: 3,
      action: 'job.start',
      beforeId: 9,
    });
    expect(parseCall('app.info', {})).toEqual({ name: 'app.info', arg: {} });
  });

  it('does not mutate the argument it was given', () => {
    const arg = { states: ['queued' as const] };
    parseCall('jobs.list', arg);
    expect(arg).toEqual({ states: ['queued'] });
  });
});
