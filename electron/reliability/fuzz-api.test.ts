/**
 * Issue 11, the API contract's validators (shared/api.ts) as every transport
 * reaches them: through dispatch() (electron/services/api/dispatch.ts), which
 * IPC, HTTP and the CLI all call. For every method: inputs generated from its
 * own schema are accepted and reach the handler as parsed; the same inputs
 * with one value of the wrong type, or an unknown field, are refused as
 * bad_input naming that field; arbitrary JSON is either a valid call or
 * bad_input with a sentence; unknown names are unknown_method; nothing is
 * ever an internal error or a throw past dispatch. The validator runs in the
 * fuzz worker with handlers that only record the call; read-only methods also
 * run against a real core on an empty workspace.
 *
 * Figures: test-results/reliability/fuzz-api.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API, type Envelope, type MethodName } from '../../shared/api';
import { createCore, type Core } from '../services/compose';
import { assertSentence, fuzzSuite, LIMIT_MS, property, runs, tmpDir } from './support/fuzz';

const { figures, call } = fuzzSuite('fuzz-api');

const METHODS = Object.keys(API) as MethodName[];

// ---------------------------------------------------------------- valid inputs from a method's own schema

interface ZodLike {
  _zod: { def: Record<string, unknown> & { type: string } };
  safeParse(v: unknown): { success: boolean; data?: unknown };
}

interface Limits {
  min?: number;
  minIncl: boolean;
  max?: number;
  maxIncl: boolean;
  int: boolean;
  minLen?: number;
  maxLen?: number;
  pattern?: RegExp;
  url: boolean;
  trim: boolean;
}

function limitsOf(s: ZodLike): Limits {
  const out: Limits = { minIncl: true, maxIncl: true, int: false, url: false, trim: false };
  for (const c of (s._zod.def.checks as { _zod: { def: Record<string, unknown> } }[] | undefined) ?? []) {
    const d = c._zod.def;
    if (d.check === 'greater_than') [out.min, out.minIncl] = [d.value as number, d.inclusive as boolean];
    else if (d.check === 'less_than') [out.max, out.maxIncl] = [d.value as number, d.inclusive as boolean];
    else if (d.check === 'number_format') out.int = true;
    else if (d.check === 'min_length') out.minLen = d.minimum as number;
    else if (d.check === 'max_length') out.maxLen = d.maximum as number;
    else if (d.check === 'string_format' && d.format === 'regex') out.pattern = d.pattern as RegExp;
    else if (d.check === 'string_format' && d.format === 'url') out.url = true;
    else if (d.check === 'overwrite') out.trim = true;
  }
  return out;
}

const inner = (s: ZodLike) => s._zod.def.innerType as ZodLike;
const isOptional = (s: ZodLike) => s._zod.def.type === 'optional' || s._zod.def.type === 'default';

/** Values the schema accepts, built from its definition (and checked with it). */
function validOf(s: ZodLike, depth = 0): fc.Arbitrary<unknown> {
  const def = s._zod.def;
  let arb: fc.Arbitrary<unknown>;
  switch (def.type) {
    case 'object': {
      const shape = def.shape as Record<string, ZodLike>;
      const keys = Object.keys(shape);
      arb = fc.record(Object.fromEntries(keys.map((k) => [k, validOf(isOptional(shape[k]!) ? inner(shape[k]!) : shape[k]!, depth + 1)])), {
        requiredKeys: keys.filter((k) => !isOptional(shape[k]!)),
      });
      break;
    }
    case 'string': {
      const l = limitsOf(s);
      const maxLength = Math.min(l.maxLen ?? 24, 24);
      if (l.pattern) arb = fc.stringMatching(l.pattern);
      else if (l.url) arb = fc.webUrl({ withQueryParameters: true, withFragments: true });
      else arb = fc.oneof(fc.string({ minLength: l.minLen ?? 0, maxLength: Math.max(maxLength, l.minLen ?? 0) }), fc.string({ unit: 'binary', minLength: l.minLen ?? 0, maxLength: Math.max(maxLength, l.minLen ?? 0) }));
      if (l.trim) arb = (arb as fc.Arbitrary<string>).map((x) => x.trim());
      break;
    }
    case 'number': {
      const l = limitsOf(s);
      if (l.int) {
        const min = l.min === undefined ? -1e6 : l.minIncl ? Math.ceil(l.min) : Math.floor(l.min) + 1;
        const max = l.max === undefined ? 1e6 : l.maxIncl ? Math.floor(l.max) : Math.ceil(l.max) - 1;
        arb = fc.integer({ min, max });
      } else {
        arb = fc.double({ min: l.min ?? -1e6, max: l.max ?? 1e6, minExcluded: !l.minIncl, maxExcluded: !l.maxIncl, noNaN: true, noDefaultInfinity: true });
      }
      break;
    }
    case 'boolean':
      arb = fc.boolean();
      break;
    case 'enum':
      arb = fc.constantFrom(...Object.values(def.entries as Record<string, string>));
      break;
    case 'literal':
      arb = fc.constantFrom(...(def.values as unknown[]));
      break;
    case 'null':
      arb = fc.constant(null);
      break;
    case 'nullable':
      arb = fc.option(validOf(inner(s), depth + 1), { nil: null });
      break;
    case 'optional':
    case 'default':
      arb = validOf(inner(s), depth + 1);
      break;
    case 'array': {
      const l = limitsOf(s);
      arb = fc.array(validOf(def.element as ZodLike, depth + 1), { minLength: l.minLen ?? 0, maxLength: Math.max(l.minLen ?? 0, Math.min(l.maxLen ?? 4, 4)) });
      break;
    }
    case 'record':
      arb = fc.dictionary(validOf(def.keyType as ZodLike, depth + 1) as fc.Arbitrary<string>, validOf(def.valueType as ZodLike, depth + 1), { maxKeys: 4 });
      break;
    case 'union':
      arb = fc.oneof(...(def.options as ZodLike[]).map((o) => validOf(o, depth + 1)));
      break;
    default:
      arb = fc.jsonValue({ maxDepth: 2 });
  }
  return arb.filter((v) => s.safeParse(v).success);
}

const validArgs = new Map<MethodName, fc.Arbitrary<unknown>>();
function validArg(name: MethodName): fc.Arbitrary<unknown> {
  let a = validArgs.get(name);
  if (!a) {
    a = validOf(API[name].input as unknown as ZodLike);
    validArgs.set(name, a);
  }
  return a;
}

// ---------------------------------------------------------------- calling dispatch

type Dispatched = { envelope: Envelope<unknown>; calls: { name: string; arg: unknown }[] };

async function dispatchInWorker(name: unknown, arg: unknown): Promise<Dispatched> {
  const o = await call<Dispatched>('api.dispatch', { name, arg });
  expect(o.ms, `validating took ${Math.round(o.ms)} ms`).toBeLessThan(LIMIT_MS);
  if (!o.ok) throw new Error(`dispatch threw past its boundary: ${o.error.name}: ${o.error.message}\n${o.error.stack ?? ''}`);
  return o.value;
}

/** A refusal's envelope: bad_input, a sentence, and no internal error. */
function assertBadInput(d: Dispatched, what: string, input: unknown): { field?: string; message: string } {
  const env = d.envelope;
  if (env.ok) throw new Error(`${what}: accepted`);
  expect(env.error.code, `${what}: ${env.error.message}`).toBe('bad_input');
  expect(d.calls, `${what}: the handler ran`).toEqual([]);
  assertSentence(env.error.message, what, JSON.stringify(input) ?? '');
  return env.error;
}

/** Paths to every value inside an argument, with the value. */
function leaves(v: unknown, at: (string | number)[] = []): { path: (string | number)[]; value: unknown }[] {
  const out: { path: (string | number)[]; value: unknown }[] = at.length ? [{ path: at, value: v }] : [];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...leaves(x, [...at, i])));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...leaves(x, [...at, k]));
  return out;
}

function setAt(v: unknown, p: (string | number)[], value: unknown): unknown {
  if (p.length === 0) return value;
  const [head, ...rest] = p;
  if (Array.isArray(v)) return v.map((x, i) => (i === head ? setAt(x, rest, value) : x));
  return { ...(v as Record<string, unknown>), [head!]: setAt((v as Record<string, unknown>)[head!], rest, value) };
}

/** A value of another JSON type than `v`. */
function wrongFor(v: unknown, pick: number): unknown {
  const options: unknown[] =
    typeof v === 'string' ? [12345, null, {}, [], true] : typeof v === 'number' ? ['12', null, {}, [1], false, 'NaN'] : typeof v === 'boolean' ? ['true', 1, null, {}] : v === null ? [5, {}, 'x'] : Array.isArray(v) ? ['x', 3, { 0: 'a' }, null] : ['x', 3, [], null];
  return options[pick % options.length];
}

describe('every method accepts the inputs its schema describes', () => {
  it('a generated valid input reaches the handler once, as parsed', async () => {
    await property(
      figures,
      'api valid inputs',
      fc.constantFrom(...METHODS).chain((name) => validArg(name).map((arg) => ({ name, arg }))),
      async ({ name, arg }) => {
        const d = await dispatchInWorker(name, arg);
        if (!d.envelope.ok) throw new Error(`${name} refused a valid input ${JSON.stringify(arg)}: ${d.envelope.error.code}: ${d.envelope.error.message}`);
        expect(d.calls).toEqual([{ name, arg: API[name].input.parse(arg) }]);
      },
      runs(1500),
    );
  }, 600_000);
});

describe('one wrong value is refused, naming its field', () => {
  it('a value of the wrong type anywhere in a valid input: bad_input with that field (or the union holding it)', async () => {
    await property(
      figures,
      'api wrong type',
      fc
        .constantFrom(...METHODS)
        .chain((name) => validArg(name).map((arg) => ({ name, arg })))
        .filter(({ arg }) => leaves(arg).length > 0)
        .chain(({ name, arg }) => fc.tuple(fc.constant(name), fc.constant(arg), fc.constantFrom(...leaves(arg)), fc.nat())),
      async ([name, arg, leaf, pick]) => {
        const bad = setAt(arg, leaf.path, wrongFor(leaf.value, pick));
        const d = await dispatchInWorker(name, bad);
        if (d.envelope.ok) {
          // Only where the schema takes that type too (a nullable field given null, a union).
          expect(API[name].input.safeParse(bad).success, `${name} accepted ${JSON.stringify(bad)}`).toBe(true);
          return;
        }
        const err = assertBadInput(d, `${name} with ${leaf.path.join('.')} wrong`, bad);
        const p = leaf.path.join('.');
        // The union holding it, or (an object or list in the wrong place) a field inside it.
        const f = err.field;
        expect(f !== undefined && (p === f || p.startsWith(`${f}.`) || f.startsWith(`${p}.`)), `${name}: field "${f}" for a wrong value at "${p}": ${err.message}`).toBe(true);
        expect(err.message).toContain(`"${err.field}"`);
      },
      runs(1500),
    );
  }, 600_000);

  it('an unknown field is refused by name', async () => {
    await property(
      figures,
      'api unknown field',
      fc.tuple(
        fc.constantFrom(...METHODS).chain((name) => validArg(name).map((arg) => ({ name, arg }))),
        fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'then', 'valueOf')),
        fc.jsonValue({ maxDepth: 2 }),
      ),
      async ([{ name, arg }, key, value]) => {
        const shape = (API[name].input as unknown as ZodLike)._zod.def.shape as Record<string, unknown>;
        if (Object.hasOwn(shape, key)) return;
        // Built by JSON.parse, as a transport does, so "__proto__" is an own field and not the prototype.
        const rest = JSON.stringify(arg).slice(1);
        const withKey = JSON.parse(`{${JSON.stringify(key)}:${JSON.stringify(value)}${rest === '}' ? '' : ','}${rest}`) as object;
        const d = await dispatchInWorker(name, withKey);
        const err = assertBadInput(d, `${name} with the unknown field ${JSON.stringify(key)}`, withKey);
        expect(err.field, `${name}: ${err.message}`).toBe(key);
      },
      runs(500),
    );
  }, 600_000);
});

describe('arbitrary JSON', () => {
  const jsonFor = (name: MethodName) => {
    const shape = Object.keys(((API[name].input as unknown as ZodLike)._zod.def.shape as Record<string, unknown>) ?? {});
    return fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.constantFrom(undefined, null, [], '', 0, 'null', {}),
      // The method's own field names with any values, and a few others.
      shape.length ? fc.dictionary(fc.oneof(fc.constantFrom(...shape), fc.string({ maxLength: 6 })), fc.jsonValue({ maxDepth: 3 }), { maxKeys: shape.length + 2 }) : fc.constant({}),
      // Numbers JSON cannot carry but a careless client sends anyway.
      fc.dictionary(fc.constantFrom(...(shape.length ? shape : ['x'])), fc.constantFrom(NaN, Infinity, -Infinity, -0, 2 ** 53 + 1, 1e308, 5e-324), { maxKeys: 3 }),
    );
  };

  it('for every method: a valid call, or bad_input with a sentence naming a field the input or the schema has', async () => {
    await property(
      figures,
      'api arbitrary JSON',
      fc.constantFrom(...METHODS).chain((name) => jsonFor(name).map((arg) => ({ name, arg }))),
      async ({ name, arg }) => {
        const d = await dispatchInWorker(name, arg);
        if (d.envelope.ok) {
          expect(d.calls.length).toBe(1);
          expect(d.calls[0]!.name).toBe(name);
          return;
        }
        const err = assertBadInput(d, `${name} with ${JSON.stringify(arg)}`, arg);
        if (arg !== undefined && arg !== null && typeof arg === 'object' && !Array.isArray(arg)) {
          const shape = ((API[name].input as unknown as ZodLike)._zod.def.shape as Record<string, unknown>) ?? {};
          // A field named "" is named in the message only (the envelope leaves an empty field out).
          if (err.field === undefined && Object.hasOwn(arg, '') && err.message.includes('""')) return;
          expect(err.field, `${name}: no field named for ${JSON.stringify(arg)}: ${err.message}`).toBeTruthy();
          // Keys may hold dots themselves, so the field starts with one of them rather than splitting at its first dot.
          const f = err.field!;
          const names = [...Object.keys(arg), ...Object.keys(shape)];
          expect(names.some((k) => f === k || f.startsWith(`${k}.`)), `${name}: the field "${f}" is neither in the input nor in the schema`).toBe(true);
        }
      },
      runs(2000),
    );
  }, 600_000);

  it('unknown method names, and names that are not text, are unknown_method', async () => {
    await property(
      figures,
      'api unknown method',
      fc.tuple(
        fc.oneof(
          fc.string({ maxLength: 30 }).filter((s) => !Object.hasOwn(API, s)),
          fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'APP.INFO', 'app.info ', ' app.info', 'app.info\u0000', 'datasets', 'datasets.', '.list', 'a'.repeat(10_000)),
          fc.jsonValue({ maxDepth: 2 }).filter((v) => typeof v !== 'string'),
        ),
        fc.jsonValue({ maxDepth: 2 }),
      ),
      async ([name, arg]) => {
        const d = await dispatchInWorker(name, arg);
        if (d.envelope.ok) throw new Error(`${JSON.stringify(name)} was called`);
        expect(d.envelope.error.code).toBe('unknown_method');
        expect(d.calls).toEqual([]);
        assertSentence(d.envelope.error.message, 'an unknown method', JSON.stringify(name) ?? '');
        expect(d.envelope.error.message.length).toBeLessThan(200);
      },
      runs(500),
      // A name that is not text: String() of it threw (an internal error), or showed "[object Object]".
      [[{ toString: null }, {}], [{}, []], [null, null]],
    );
  }, 600_000);
});

// ---------------------------------------------------------------- a real core

/** Methods that only read (or refuse): safe to call with anything on an empty workspace. */
const READ_ONLY: MethodName[] = [
  'app.info', 'jobs.list', 'jobs.get', 'jobs.cancel', 'audit.list', 'audit.people', 'useCases.list', 'samples.list', 'datasets.list', 'datasets.get', 'datasets.rows',
  'datasets.series', 'imports.totals', 'training.suggest', 'models.list', 'models.get', 'models.report', 'models.compare', 'models.lineage', 'endpoints.list', 'endpoints.history',
  'monitor.status', 'monitor.dashboard', 'monitor.input', 'monitor.settings', 'alerts.list', 'feedback.inbox', 'feedback.list', 'feedback.get', 'feedback.settings',
  'feedback.causes', 'feedback.suggestions', 'feedback.recalibration', 'challenger.report', 'shadow.status', 'sources.list', 'recordings.list', 'recordings.get',
].filter((m): m is MethodName => Object.hasOwn(API, m));

describe('a real core on an empty workspace', () => {
  let core: Core;
  let dir: string;

  beforeAll(() => {
    dir = tmpDir('millwright-fuzz-api-');
    core = createCore({ workspaceDir: path.join(dir, 'ws'), monitor: false, resumeEndpoints: false });
  });

  afterAll(async () => {
    await core?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('read-only methods with valid and arbitrary inputs: an answer or a refusal a person can read, never an internal error', async () => {
    await property(
      figures,
      'api real core',
      fc.constantFrom(...READ_ONLY).chain((name) => fc.oneof({ weight: 3, arbitrary: validArg(name) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) }).map((arg) => ({ name, arg }))),
      async ({ name, arg }) => {
        const started = performance.now();
        const env = await core.call(name, arg);
        figures.took('api real core', performance.now() - started);
        if (env.ok) return;
        expect(env.error.code, `${name}(${JSON.stringify(arg)}): ${env.error.message}`).not.toBe('internal');
        assertSentence(env.error.message, `${name}(${JSON.stringify(arg)})`, JSON.stringify(arg) ?? '');
      },
      runs(400),
    );
    // Nothing was logged as an internal error.
    const log = path.join(core.ws.logDir, 'errors.log');
    expect(fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '').toBe('');
  }, 600_000);
});
