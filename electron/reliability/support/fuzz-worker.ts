/**
 * The worker side of the fuzz sandbox (support/fuzz.ts): the parsers the
 * outside world reaches, called by name on one input at a time, answering
 * with the result or with what was thrown, and how long it took.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { parentPort } from 'node:worker_threads';
import { API, type Handlers } from '../../../shared/api';
import type { ColumnSchema, ColumnType, ProblemKind, ReadSettings, TimeFormat } from '../../../shared/datasets';
import { AppError } from '../../../shared/errors';
import { dispatch } from '../../services/api/dispatch';
import { readManifest, verifyManifest } from '../../services/deploy/bundle';
import { readDelimited, sniffFile } from '../../services/datasets/import/csv-reader';
import { inspectFiles } from '../../services/datasets/import/inspect';
import { pivotLong } from '../../services/datasets/import/long-format';
import { finish, readFiles, readStaging, stagedTotals, writeStaging, type Choice } from '../../services/datasets/import/pipeline';
import { createTimeParser, guessTimeFormat } from '../../services/datasets/import/timestamps';

interface RuntimeBundle {
  filesOfArchive(gz: Buffer, maxUnpacked: number, what: string): Map<string, Buffer>;
  verifyFiles(files: Map<string, Buffer>, what: string, key: unknown): { manifest: { name: string }; sha256: string };
  pinnedKeyOf(pem: string, where: string): unknown;
  BundleError: new (m: string) => Error;
}
interface RuntimeTar {
  TarError: new (m: string) => Error;
}
const runtimeLib = (name: string) => path.resolve(__dirname, '../../../resources/runtime/lib', name);
const req = createRequire(__filename);
const runtime = req(runtimeLib('bundle.js')) as RuntimeBundle;
const tar = req(runtimeLib('tar.js')) as RuntimeTar;

/** Calls the dispatcher received, for the API target: the real validator, handlers that only record. */
let calls: { name: string; arg: unknown }[] = [];
const recording = Object.fromEntries(
  Object.keys(API).map((name) => [
    name,
    (arg: unknown) => {
      calls.push({ name, arg });
      return { recorded: name };
    },
  ]),
) as unknown as Handlers;

const targets: Record<string, (input: never) => unknown> = {
  'csv.sniff': (a: { file: string; overrides: Partial<ReadSettings> }) => sniffFile(a.file, a.overrides),

  'csv.read': (a: { file: string; settings: ReadSettings; schema: ColumnSchema[]; chunkSize?: number; maxRows?: number }) =>
    readDelimited(a.file, a.settings, a.schema, { ...(a.chunkSize ? { chunkSize: a.chunkSize } : {}), ...(a.maxRows !== undefined ? { maxRows: a.maxRows } : {}) }),

  /** The pipeline's own way: sniff with the person's settings, apply their types, read. */
  'csv.sniffRead': async (a: { file: string; overrides: Partial<ReadSettings>; types: Record<string, ColumnType>; chunkSize?: number }) => {
    const sniffed = await sniffFile(a.file, a.overrides);
    const schema = sniffed.schema.map((c) => ({ ...c, type: a.types[c.header] ?? c.type }));
    const settings = { ...sniffed.settings, ...a.overrides };
    const table = await readDelimited(a.file, settings, schema, a.chunkSize ? { chunkSize: a.chunkSize } : {});
    return { sniffed: { settings: sniffed.settings, schema: sniffed.schema }, table };
  },

  'csv.inspect': (a: { paths: string[]; overrides: Partial<ReadSettings> }) => inspectFiles(a.paths, a.overrides),

  /**
   * analyze + save as the import job runs them (readFiles, staging, totals,
   * finish), with the given choices; the stored columns go to `wsDir`.
   */
  'csv.pipeline': async (a: { paths: string[]; settings: ReadSettings; types?: Record<string, ColumnType>; wsDir: string; choices: Partial<Record<ProblemKind, Choice>> }) => {
    const staged = await readFiles({ paths: a.paths, settings: a.settings, ...(a.types ? { types: a.types } : {}), fingerprint: false }, {});
    const id = writeStaging(a.wsDir, staged);
    const totals = stagedTotals(a.wsDir, id, a.choices);
    const summary = { rowCount: staged.rowCount, problems: staged.problems, problemRows: staged.problemRows, schema: staged.schema, blankLines: staged.blankLines };
    try {
      const done = await finish(readStaging(a.wsDir, id), { workspaceDir: a.wsDir, name: 'fuzz', choices: a.choices }, {});
      return { staged: summary, totals, finished: { rowCount: done.rowCount, report: done.report, missing: done.missing }, finishError: null };
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      return { staged: summary, totals, finished: null, finishError: { code: err.code, message: err.message } };
    }
  },

  /** Reads a long file as it is, then pivots it (the reader's table stays for the caller to compare). */
  'csv.long': async (a: { file: string; settings: ReadSettings & { longFormat: NonNullable<ReadSettings['longFormat']> }; schema: ColumnSchema[] }) => {
    const table = await readDelimited(a.file, a.settings, a.schema);
    const pivoted = pivotLong(table, a.settings);
    return { table, pivoted };
  },

  'time.parse': (a: { format: TimeFormat; zone: string; texts: string[] }) => {
    const p = createTimeParser(a.format, a.zone);
    return a.texts.map((t) => {
      const v = p.parse(t);
      return [v, p.lastFlag as number];
    });
  },

  'time.guess': (a: { samples: string[]; allowNumeric: boolean }) => guessTimeFormat(a.samples, { allowNumeric: a.allowNumeric }),

  'api.dispatch': async (a: { name: unknown; arg: unknown }) => {
    calls = [];
    const envelope = await dispatch(recording, a.name, a.arg);
    return { envelope, calls };
  },

  /** The edge runtime's checks of an uploaded .tar.gz: unpack, manifest, signature, every file's sha256. */
  'bundle.runtime': (a: { gz: Uint8Array; maxUnpacked: number; pem: string }) => {
    const files = runtime.filesOfArchive(Buffer.from(a.gz), a.maxUnpacked, 'the upload');
    const checked = runtime.verifyFiles(files, 'the upload', runtime.pinnedKeyOf(a.pem, 'the test key'));
    return { name: checked.manifest.name, sha256: checked.sha256, files: [...files.keys()] };
  },

  /** The app's read-back of a bundle it wrote: manifest.json and manifest.sig, and the signature check. */
  'bundle.app': (a: { gz: Uint8Array; pem: string }) => {
    const { manifest, signature } = readManifest(Buffer.from(a.gz));
    return { verifies: verifyManifest(manifest, signature, a.pem), manifestBytes: manifest.length };
  },
};

function describe(err: unknown) {
  const e = err as { name?: string; message?: string; stack?: string; code?: unknown; field?: unknown };
  return {
    appError: err instanceof AppError,
    bundleError: err instanceof runtime.BundleError || err instanceof tar.TarError,
    name: err instanceof Error ? err.constructor.name : typeof err,
    ...(typeof e?.code === 'string' ? { code: e.code } : {}),
    ...(typeof e?.field === 'string' ? { field: e.field } : {}),
    message: typeof e?.message === 'string' ? e.message : String(err),
    ...(err instanceof Error && !(err instanceof AppError) ? { stack: e.stack } : {}),
  };
}

parentPort!.on('message', (m: { id: number; target: string; input: never }) => {
  const started = performance.now();
  const answer = (body: Record<string, unknown>) => parentPort!.postMessage({ id: m.id, ms: performance.now() - started, ...body });
  const fn = targets[m.target];
  if (!fn) {
    answer({ ok: false, error: describe(new Error(`no fuzz target ${m.target}`)) });
    return;
  }
  let result: unknown;
  try {
    result = fn(m.input);
  } catch (err) {
    answer({ ok: false, error: describe(err) });
    return;
  }
  Promise.resolve(result).then(
    (value) => {
      try {
        answer({ ok: true, value });
      } catch (err) {
        answer({ ok: false, error: describe(new Error(`the result of ${m.target} cannot be sent back: ${(err as Error).message}`)) });
      }
    },
    (err: unknown) => answer({ ok: false, error: describe(err) }),
  );
});
