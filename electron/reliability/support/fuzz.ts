/**
 * For the fuzz and property tests (issue 11): how many inputs to try, the
 * figures each file writes, and a sandbox that runs a parser in a worker
 * thread with a time limit per input, so an input that makes it loop for
 * ever fails the test with that input instead of hanging the run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { afterAll, beforeAll } from 'vitest';

export const FULL = process.env.MILLWRIGHT_RELIABILITY === 'full';

/** Inputs per property: `short` in CI, `full` (10× unless given) with MILLWRIGHT_RELIABILITY=full. */
export const runs = (short: number, full = short * 10): number => (FULL ? full : short);

/** The run's seed: MILLWRIGHT_FUZZ_SEED to repeat a run, else a new one (written to the figures). */
export const SEED = process.env.MILLWRIGHT_FUZZ_SEED ? Number(process.env.MILLWRIGHT_FUZZ_SEED) | 0 : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;

/** Longest a parser may take on one input. */
export const LIMIT_MS = 2000;

const RESULTS = path.resolve(__dirname, '../../../test-results/reliability');

/**
 * Counts for one test file, written to test-results/reliability/<name>.json:
 * {"area":"fuzz","file":name,"inputs":N,"byTarget":{…},"failures":F,"mode":…,
 * "seed":S,"slowestMs":{target: ms}}.
 */
export class Figures {
  readonly byTarget: Record<string, number> = {};
  readonly slowestMs: Record<string, number> = {};
  failures = 0;
  readonly extra: Record<string, unknown> = {};

  constructor(readonly name: string) {}

  count(target: string, n = 1): void {
    this.byTarget[target] = (this.byTarget[target] ?? 0) + n;
  }

  took(target: string, ms: number): void {
    if (ms > (this.slowestMs[target] ?? 0)) this.slowestMs[target] = Math.round(ms * 10) / 10;
  }

  get inputs(): number {
    return Object.values(this.byTarget).reduce((a, b) => a + b, 0);
  }

  write(): void {
    fs.mkdirSync(RESULTS, { recursive: true });
    const out = {
      area: 'fuzz',
      file: this.name,
      inputs: this.inputs,
      byTarget: this.byTarget,
      failures: this.failures,
      mode: FULL ? 'full' : 'short',
      seed: SEED,
      limitMs: LIMIT_MS,
      slowestMs: this.slowestMs,
      ...this.extra,
    };
    fs.writeFileSync(path.join(RESULTS, `${this.name}.json`), `${JSON.stringify(out, null, 2)}\n`);
  }
}

let seedOffset = 0;

/**
 * Runs a property over `numRuns` generated inputs (after `examples`),
 * counting each under `target`; a failure (fast-check prints the seed and the
 * shrunk input) is counted and rethrown.
 */
export async function property<T>(figures: Figures, target: string, arb: fc.Arbitrary<T>, predicate: (value: T) => Promise<void> | void, numRuns: number, examples: T[] = []): Promise<void> {
  try {
    await fc.assert(
      fc.asyncProperty(arb, async (value) => {
        figures.count(target);
        await predicate(value);
      }),
      // `examples`: inputs that once found a bug, tried first on every run.
      { numRuns, seed: SEED + seedOffset++, examples: examples.map((e) => [e] as [T]) },
    );
  } catch (err) {
    figures.failures++;
    throw err;
  }
}

/** What a target threw, as the worker saw it. */
export interface Thrown {
  /** An AppError (the app's one kind of error a person can read). */
  appError: boolean;
  /** The edge runtime's refusals: BundleError or TarError. */
  bundleError: boolean;
  name: string;
  code?: string;
  field?: string;
  message: string;
  stack?: string;
}

export type Outcome<T> = { ok: true; value: T; ms: number } | { ok: false; error: Thrown; ms: number };

interface Pending {
  resolve: (o: Outcome<unknown>) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Runs the targets of support/fuzz-worker.ts in a worker thread, one call at
 * a time. A call that takes longer than `LIMIT_MS` plus a grace for a loaded
 * machine is a hang: the worker is terminated (the next call starts a fresh
 * one) and the call rejects, naming the target.
 */
export class Sandbox {
  private worker: Worker | null = null;
  private next = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(
    private readonly figures: Figures,
    private readonly graceMs = 10_000,
  ) {}

  private start(): Worker {
    const entry = path.join(__dirname, 'fuzz-worker.ts');
    const w = new Worker(`require('tsx/cjs'); require(${JSON.stringify(entry)});`, { eval: true });
    w.on('message', (m: { id: number } & ({ ok: true; value: unknown; ms: number } | { ok: false; error: Thrown; ms: number })) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      p.resolve(m.ok ? { ok: true, value: m.value, ms: m.ms } : { ok: false, error: m.error, ms: m.ms });
    });
    // A worker terminated after a hang has no calls left; only the current one's are failed.
    w.on('error', (e) => this.worker === w && this.failAll(new Error(`the fuzz worker crashed: ${e.message}`)));
    w.on('exit', (code) => {
      if (this.worker !== w) return;
      this.worker = null;
      this.failAll(new Error(`the fuzz worker exited (${code})`));
    });
    w.unref();
    return w;
  }

  private failAll(e: Error): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(e);
    }
  }

  /** Calls `target` on `input`; rejects when it hangs. Records the time it took under `target`. */
  call<T>(target: string, input: unknown): Promise<Outcome<T>> {
    this.worker ??= this.start();
    const w = this.worker;
    const id = this.next++;
    return new Promise<Outcome<T>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.worker = null;
        void w.terminate();
        reject(new Error(`${target} did not finish within ${LIMIT_MS + this.graceMs} ms: it hangs on this input`));
      }, LIMIT_MS + this.graceMs);
      this.pending.set(id, {
        resolve: (o) => {
          this.figures.took(target, o.ms);
          resolve(o as Outcome<T>);
        },
        reject,
        timer,
      });
      w.postMessage({ id, target, input });
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }
}

/**
 * The checks every refusal must pass: an AppError (or, for the edge
 * runtime's bundle checks, a BundleError/TarError) with one readable
 * sentence, never an internal error and never a stack.
 */
export function assertReadableRefusal(e: Thrown, what: string, opts: { bundle?: boolean } = {}): void {
  const kind = opts.bundle ? e.bundleError : e.appError;
  if (!kind) throw new Error(`${what} threw ${e.name}, not a refusal a person can read: ${e.message}\n${e.stack ?? ''}`);
  if (e.code === 'internal') throw new Error(`${what} failed with an internal error: ${e.message}`);
  assertSentence(e.message, what);
}

/** A message a person reads: some words, no stack, no "[object Object]" (unless the input said so). */
export function assertSentence(message: string, what: string, input = ''): void {
  if (typeof message !== 'string' || message.trim().length < 8) throw new Error(`${what}: the message ${JSON.stringify(message)} is not a sentence`);
  if (/\n\s+at .+:\d+:\d+/.test(message)) throw new Error(`${what}: the message carries a stack: ${message}`);
  if (message.includes('[object Object]') && !input.includes('[object Object]')) throw new Error(`${what}: the message shows a raw object: ${message}`);
}

/** A fresh temporary folder under the OS's. */
export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), prefix));
}

/**
 * The figures and the sandbox of one fuzz test file: the sandbox starts
 * before its tests; after them the figures are written and the sandbox closed.
 */
export function fuzzSuite(name: string): { figures: Figures; call: <T>(target: string, input: unknown) => Promise<Outcome<T>> } {
  const figures = new Figures(name);
  let sandbox: Sandbox | undefined;
  beforeAll(() => {
    sandbox = new Sandbox(figures);
  });
  afterAll(async () => {
    figures.write();
    await sandbox?.close();
  });
  return { figures, call: <T>(target: string, input: unknown) => sandbox!.call<T>(target, input) };
}
