/**
 * The millwright command line. Every command calls the same contract as the
 * app: arguments become a method's input, validated by its schema.
 *
 * Exit codes: 0 success, 2 bad input (one-line reason on stderr), 1 internal failure.
 * With --json the result is JSON on stdout and progress goes to stderr.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { AppEvent, JobInfo, MethodName, Output } from '../shared/api';
import type { MonitorCycle } from '../shared/monitor';
import { DELIMITERS, TEXT_ENCODINGS, type ProblemKind } from '../shared/datasets';
import { AppError, USER_ERROR_CODES, isErrorCode, toErrorInfo, type ErrorCode } from '../shared/errors';
import { formatDuration, formatPercent, textTable } from '../shared/format';
import { TIME_BUDGET, type TrainingReport } from '../shared/training';
import { VERDICTS, VERDICT_TITLES, type Episode } from '../shared/feedback';
import type { ScoreResult } from './services/scoring/batch';
import type { ReproduceResult } from './services/jobs/kinds/reproduce';
import { checkWorkspace, restoreWorkspace } from './services/registry/backup';
import { appRoot, appVersion } from './services/app/app-root';
import { createCore, type Core } from './services/compose';
import { runtimeCommand } from './services/deploy/local';
import { resolveWorkspaceDir } from './services/workspace/location';
import { diskFullError } from './services/workspace/disk-full';
import { logInternal } from './services/api/dispatch';
import { describeRecording, parseDuration, recordCommand } from './cli-record';
import { RECORDING_STATE_TITLES } from '../shared/recording';

interface Parsed {
  command: string | undefined;
  positional: string[];
  flags: Map<string, string | true>;
}

interface CommandSpec {
  summary: string;
  usage: string;
  flags: Record<string, 'value' | 'switch'>;
  run(ctx: CliContext, args: Parsed): Promise<unknown>;
}

interface CliContext {
  json: boolean;
  workspaceDir: string;
  out: (text: string) => void;
  err: (text: string) => void;
  core(): Core;
  call<K extends MethodName>(name: K, arg: unknown): Promise<Output<K>>;
}

const GLOBAL_FLAGS: Record<string, 'value' | 'switch'> = { workspace: 'value', json: 'switch', help: 'switch' };

const COMMANDS: Record<string, CommandSpec> = {
  version: {
    summary: 'Show the version of Millwright and of the workspace.',
    usage: 'millwright version',
    flags: {},
    async run(ctx) {
      const info = await ctx.call('app.info', {});
      if (!ctx.json) ctx.out(`Millwright ${info.version}\nWorkspace ${info.workspace} (schema ${info.schemaVersion})\nNode ${info.nodeVersion}`);
      return info;
    },
  },
  'serve-app': {
    summary: 'Serve the app to a browser on this computer (server mode).',
    usage: 'millwright serve-app [--port N] [--host 127.0.0.1]',
    flags: { port: 'value', host: 'value' },
    async run(ctx, args) {
      const port = intFlag(args, 'port', 0, 65535) ?? 0;
      const host = stringFlag(args, 'host') ?? '127.0.0.1';
      const { startServer } = await import('./server');
      const core = ctx.core();
      const server = await startServer({ core, rendererDir: path.join(appRoot(), 'dist', 'renderer'), port, host });
      const info = { url: server.url, open: server.openUrl, workspace: core.ws.dir, pid: process.pid };
      if (ctx.json) ctx.out(JSON.stringify(info));
      else {
        ctx.out(`Millwright ${core.version} is running.\n\n  Open this link in a browser:  ${server.openUrl}\n\n  Workspace: ${core.ws.dir}\n  Press Ctrl+C to stop.`);
        if (!['127.0.0.1', 'localhost', '::1'].includes(host)) {
          ctx.err(`Warning: listening on ${host}, so other computers can reach this app. Anyone with the link above can use it.`);
        }
      }
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      ctx.err('Stopping…');
      await server.close();
      return undefined;
    },
  },
  jobs: {
    summary: 'List background tasks, show one, or run one here with progress.',
    usage: 'millwright jobs [--state running,failed] [--limit N]\n       millwright jobs show <id>\n       millwright jobs run system-check [--seconds N]',
    flags: { state: 'value', limit: 'value', seconds: 'value' },
    async run(ctx, args) {
      const [sub, id] = args.positional;
      if (sub === 'show') {
        if (!id) throw new AppError('bad_input', 'Which task? Give its id: millwright jobs show <id>.');
        const job = await ctx.call('jobs.get', { id });
        if (!ctx.json) ctx.out(describeJob(job));
        return job;
      }
      if (sub === 'run') {
        if (id !== 'system-check') throw new AppError('bad_input', `Unknown task "${id ?? ''}". Tasks you can run: system-check.`);
        const seconds = numberFlag(args, 'seconds');
        return runJobHere(ctx, await ctx.call('system.check', seconds === undefined ? {} : { seconds }));
      }
      if (sub !== undefined && sub !== 'list') throw new AppError('bad_input', `Unknown jobs command "${sub}". Use list, show or run.`);
      const state = stringFlag(args, 'state');
      const input: Record<string, unknown> = {};
      if (state) input.states = state.split(',').map((s) => s.trim());
      const limit = intFlag(args, 'limit', 1, 500);
      if (limit !== undefined) input.limit = limit;
      const jobs = await ctx.call('jobs.list', input);
      if (!ctx.json) {
        ctx.out(
          jobs.length
            ? textTable(
                ['ID', 'TASK', 'STATE', 'PROGRESS', 'STARTED', 'TOOK'],
                jobs.map((j) => [j.id, j.title, j.state, formatPercent(j.progress), j.createdAt.replace('T', ' ').slice(0, 19), took(j)]),
              )
            : 'No tasks yet.',
        );
      }
      return jobs;
    },
  },
  import: {
    summary: 'Import CSV/TSV/TXT or Excel files as a new dataset version.',
    usage:
      'millwright import FILE... [--name NAME] [--time-column COL] [--delimiter C] [--decimal C] [--encoding E]\n' +
      '                  [--sheet NAME] [--long-format] [--time-zone ZONE] [--no-header] [--on-bad-row skip|missing] [--json]',
    flags: {
      name: 'value',
      'time-column': 'value',
      sheet: 'value',
      delimiter: 'value',
      decimal: 'value',
      encoding: 'value',
      'time-zone': 'value',
      'no-header': 'switch',
      'long-format': 'switch',
      'on-bad-row': 'value',
    },
    async run(ctx, args) {
      const files = args.positional.map((f) => path.resolve(f));
      if (!files.length) throw new AppError('bad_input', 'Which file? Usage: millwright import FILE... [--name NAME]');
      const overrides: Record<string, unknown> = {};
      const delimiter = stringFlag(args, 'delimiter');
      if (delimiter !== undefined) overrides.delimiter = ({ tab: '\t', '\\t': '\t', comma: ',', semicolon: ';', pipe: '|', space: ' ', spaces: ' ', whitespace: ' ' } as Record<string, string>)[delimiter.toLowerCase()] ?? delimiter;
      const decimal = stringFlag(args, 'decimal');
      if (decimal !== undefined) overrides.decimal = ({ comma: ',', point: '.', dot: '.' } as Record<string, string>)[decimal.toLowerCase()] ?? decimal;
      const encoding = stringFlag(args, 'encoding');
      if (encoding !== undefined) {
        overrides.encoding = ({ utf8: 'utf-8', 'utf-8-sig': 'utf-8', latin1: 'windows-1252', cp1252: 'windows-1252', 'iso-8859-1': 'windows-1252', utf16le: 'utf-16le', utf16be: 'utf-16be' } as Record<string, string>)[encoding.toLowerCase()] ?? encoding.toLowerCase();
      }
      if (overrides.encoding !== undefined && !(TEXT_ENCODINGS as readonly unknown[]).includes(overrides.encoding)) {
        throw new AppError('bad_input', `--encoding must be utf-8, utf-16le, utf-16be or windows-1252 (also: latin1, cp1252) (got "${encoding}").`, 'encoding');
      }
      if (overrides.delimiter !== undefined && !(DELIMITERS as readonly unknown[]).includes(overrides.delimiter)) {
        throw new AppError('bad_input', `--delimiter must be one of , ; tab | space (got "${delimiter}").`, 'delimiter');
      }
      if (overrides.decimal !== undefined && overrides.decimal !== '.' && overrides.decimal !== ',') {
        throw new AppError('bad_input', `--decimal must be "." or "," (got "${decimal}").`, 'decimal');
      }
      const timeColumn = stringFlag(args, 'time-column');
      if (timeColumn !== undefined) overrides.timeColumn = timeColumn;
      const sheet = stringFlag(args, 'sheet');
      if (sheet !== undefined) overrides.sheet = sheet;
      const zone = stringFlag(args, 'time-zone');
      if (zone !== undefined) overrides.timeZone = zone;
      if (args.flags.get('no-header') === true) overrides.hasHeader = false;
      const onBad = stringFlag(args, 'on-bad-row');
      if (onBad !== undefined && onBad !== 'skip' && onBad !== 'missing') {
        throw new AppError('bad_input', `--on-bad-row must be "skip" or "missing" (got "${onBad}").`, 'on-bad-row');
      }
      const inspected = await ctx.call('imports.inspect', { paths: files, settings: overrides });
      if (timeColumn !== undefined && !inspected.schema.some((c) => c.header === timeColumn || c.name === timeColumn)) {
        throw new AppError('bad_input', `${path.basename(files[0]!)} has no column "${timeColumn}". Its columns: ${inspected.schema.map((c) => c.header).join(', ')}.`, 'time-column');
      }
      const settings = { ...inspected.settings };
      // Long format is pivoted whenever it is recognised, as in the wizard; the flag insists on it.
      if (args.flags.get('long-format') === true && !settings.longFormat) {
        throw new AppError(
          'bad_input',
          `${path.basename(files[0]!)} does not look like a historian long export (time, tag, value[, quality]); its columns: ${inspected.schema.map((c) => c.header).join(', ')}.`,
          'long-format',
        );
      }
      if (timeColumn !== undefined) settings.timeColumn = inspected.schema.find((c) => c.header === timeColumn || c.name === timeColumn)!.header;
      const name = stringFlag(args, 'name') ?? path.basename(files[0]!).replace(/\.[^.]+$/, '');
      // The flag is about values that could not be read; repeated or unordered times are valid readings and keep their defaults.
      const choices = onBad ? Object.fromEntries(BAD_VALUE_KINDS.map((k) => [k, onBad])) : undefined;
      const job = await ctx.call('imports.analyze', { paths: files, settings, save: { name, ...(choices ? { choices } : {}) } });
      const final = await runJobHere(ctx, job, true);
      const summary = final.result as { dataset: string; version: number; created: boolean; rows: number; rejectedRows: number; columns: { name: string; type: string; unit: string | null; missing: number }[]; problems: { kind: string; title: string; count: number; choice: string }[] };
      if (!ctx.json) {
        ctx.out(`${summary.created ? 'Imported' : 'Already imported:'} ${summary.dataset} version ${summary.version}: ${summary.rows.toLocaleString('en-US')} rows, ${summary.columns.length} columns.`);
        if (summary.rejectedRows) ctx.out(`${summary.rejectedRows.toLocaleString('en-US')} rows were skipped because of problems.`);
        for (const p of summary.problems) ctx.out(`  ${p.title}: ${p.count.toLocaleString('en-US')} (${p.choice === 'skip' ? 'rows skipped' : p.choice === 'missing' ? 'treated as missing' : 'kept'})`);
      }
      return summary;
    },
  },
  datasets: {
    summary: 'List datasets, or show one with its versions.',
    usage: 'millwright datasets [list]\n       millwright datasets show NAME',
    flags: {},
    async run(ctx, args) {
      const [sub, name] = args.positional;
      if (sub === 'show') {
        if (!name) throw new AppError('bad_input', 'Which dataset? Usage: millwright datasets show NAME');
        const d = await ctx.call('datasets.get', { dataset: name });
        if (!ctx.json) {
          ctx.out(`${d.dataset.name}: ${d.dataset.rows.toLocaleString('en-US')} rows, ${d.dataset.columns.length} columns (version ${d.dataset.version ?? '–'})`);
          ctx.out(
            textTable(
              ['VERSION', 'CREATED', 'BY', 'ROWS', 'FILES'],
              d.versions.map((v) => [String(v.version), v.createdAt.replace('T', ' ').slice(0, 19), v.createdBy, String(v.rows), v.sources.map((s) => s.fileName).join(', ')]),
            ),
          );
        }
        return d;
      }
      if (sub !== undefined && sub !== 'list') throw new AppError('bad_input', `Unknown datasets command "${sub}". Use list or show.`);
      const list = await ctx.call('datasets.list', {});
      if (!ctx.json) {
        ctx.out(
          list.length
            ? textTable(
                ['NAME', 'VERSION', 'ROWS', 'COLUMNS', 'UPDATED'],
                list.map((d) => [d.name, String(d.version ?? '–'), String(d.rows), String(d.columns.length), d.updatedAt.replace('T', ' ').slice(0, 19)]),
              )
            : 'No datasets yet. Import one with: millwright import FILE',
        );
      }
      return list;
    },
  },
  profile: {
    summary: 'Statistics of every column of a dataset version.',
    usage: 'millwright profile NAME[@VERSION] [--json]',
    flags: {},
    async run(ctx, args) {
      const ref = args.positional[0];
      if (!ref) throw new AppError('bad_input', 'Which dataset? Usage: millwright profile NAME[@VERSION]');
      const profile = (await ctx.call('datasets.profile', { dataset: ref })) as {
        rows: number;
        columns: { name: string; type: string; unit: string | null; profile: { count: number; missing: number; min?: number; max?: number; mean?: number; distinct?: number } }[];
      } | null;
      if (!profile) throw new AppError('not_found', `"${ref}" has no profile.`);
      if (!ctx.json) {
        ctx.out(
          textTable(
            ['COLUMN', 'TYPE', 'UNIT', 'MISSING', 'MIN', 'MEAN', 'MAX'],
            profile.columns.map((c) => [
              c.name,
              c.type,
              c.unit ?? '',
              String(c.profile.missing),
              fmt(c.profile.min),
              fmt(c.profile.mean),
              fmt(c.profile.max),
            ]),
          ),
        );
      }
      return profile;
    },
  },
  train: {
    summary: 'Train models on a dataset version and keep the best as a new model version.',
    usage: [
      'millwright train DATASET[@VERSION] (--target COL [--task classification|regression] | --anomaly [--columns A,B] [--label COL])',
      '       [--model NAME] [--inputs A,B] [--time-column C] [--window MINUTES] [--lags 1,2] [--time-budget S] [--seed N]',
      '       [--holdout FRACTION] [--algorithms hgb,forest,...] [--json]',
    ].join('\n'),
    flags: {
      target: 'value', task: 'value', anomaly: 'switch', columns: 'value', inputs: 'value', label: 'value', model: 'value', 'time-column': 'value',
      window: 'value', lags: 'value', 'time-budget': 'value', seed: 'value', holdout: 'value', algorithms: 'value',
    },
    async run(ctx, args) {
      const ref = args.positional[0];
      if (!ref) throw new AppError('bad_input', 'Which dataset? Usage: millwright train DATASET[@VERSION] --target COL');
      const anomaly = args.flags.get('anomaly') === true;
      const target = stringFlag(args, 'target');
      if (anomaly && target) throw new AppError('bad_input', 'Use either --target COL (predict a column) or --anomaly (detect unusual behaviour), not both.', 'target');
      if (!anomaly && !target) throw new AppError('bad_input', 'Give --target COL to predict a column, or --anomaly to detect unusual behaviour.', 'target');
      const list = (name: string) => stringFlag(args, name)?.split(',').map((x) => x.trim()).filter(Boolean);
      const input: Record<string, unknown> = { dataset: ref };
      const taskFlag = stringFlag(args, 'task');
      if (anomaly) {
        input.task = 'anomaly';
        const label = stringFlag(args, 'label');
        if (label) input.labelColumn = label;
      } else {
        input.target = target;
        if (taskFlag !== undefined && taskFlag !== 'classification' && taskFlag !== 'regression') {
          throw new AppError('bad_input', `--task must be "classification" or "regression" (got "${taskFlag}").`, 'task');
        }
        let task = taskFlag;
        if (!task) {
          // A column with a few distinct values (or text, or yes/no) is a category to predict; other numbers are values.
          const s = await ctx.call('training.suggest', { dataset: ref, goal: 'predict_category', target });
          task = s.targets.some((t) => t.name === target) ? 'classification' : 'regression';
        }
        input.task = task === 'classification' ? 'binary' : 'regression';
      }
      const inputs = list('inputs') ?? list('columns');
      if (inputs) input.inputs = inputs;
      const model = stringFlag(args, 'model');
      if (model) input.model = model;
      const timeColumn = stringFlag(args, 'time-column');
      if (timeColumn !== undefined) input.timeColumn = timeColumn === 'none' ? null : timeColumn;
      const window = numberFlag(args, 'window');
      if (window !== undefined) input.windowMinutes = window;
      const lags = list('lags');
      if (lags) input.lags = lags.map((l) => Number(l));
      const budget = numberFlag(args, 'time-budget');
      if (budget !== undefined) input.timeBudgetSeconds = budget;
      const seed = intFlag(args, 'seed', 0, 2 ** 31 - 1);
      if (seed !== undefined) input.seed = seed;
      const holdout = numberFlag(args, 'holdout');
      if (holdout !== undefined) input.holdoutFraction = holdout;
      const algorithms = list('algorithms');
      if (algorithms) input.algorithms = algorithms;
      const job = await ctx.call('training.start', input);
      const final = await runJobHere(ctx, job, true);
      const r = final.result as { model: string; version: number; run: string; modelHash: string; onnxHash: string; report: TrainingReport };
      const rep = r.report;
      const summary = {
        run: r.run,
        model: r.model,
        version: r.version,
        task: rep.task,
        metric: rep.metric.key,
        leaderboard: rep.leaderboard.map((e) => ({ algorithm: e.algorithm, title: e.title, params: e.params, metrics: e.metrics, fitSeconds: e.fitSeconds, status: e.status })),
        metrics: rep.metrics,
        modelHash: r.modelHash,
        onnxHash: r.onnxHash,
        holdout: rep.holdout,
        warnings: rep.warnings,
      };
      if (!ctx.json) {
        ctx.out(`Trained ${r.model} version ${r.version} (${rep.leaderboard[rep.bestIndex]!.title}).`);
        ctx.out(rep.sentences[rep.bestIndex]!);
        ctx.out('');
        ctx.out(
          textTable(
            ['', 'ALGORITHM', rep.metric.label.toUpperCase(), 'FIT'],
            rep.leaderboard.map((e, i) => [i === rep.bestIndex ? '*' : '', e.title, e.status === 'done' ? fmt(e.metrics[rep.metric.key]) : e.status.replace(/_/g, ' '), e.status === 'done' ? `${e.fitSeconds.toFixed(1)} s` : '']),
          ),
        );
        for (const w of rep.warnings) ctx.out(`Note: ${w}`);
      }
      return summary;
    },
  },
  models: {
    summary: 'List models, show one with its versions, or archive and restore a version.',
    usage: 'millwright models [list]\n       millwright models show NAME[@VERSION]\n       millwright models archive NAME@VERSION [--reason "…"]\n       millwright models restore NAME@VERSION',
    flags: { reason: 'value' },
    async run(ctx, args) {
      const [sub, name] = args.positional;
      if (sub === 'archive' || sub === 'restore') {
        const ref = versionRef(name, `millwright models ${sub} NAME@VERSION`);
        const reason = stringFlag(args, 'reason');
        const v = await ctx.call(sub === 'archive' ? 'models.archive' : 'models.restore', { ...ref, ...(sub === 'archive' && reason ? { reason } : {}) });
        if (!ctx.json) ctx.out(`${sub === 'archive' ? 'Archived' : 'Restored'} ${v.model} version ${v.version}.`);
        return v;
      }
      if (sub === 'show') {
        if (!name) throw new AppError('bad_input', 'Which model? Usage: millwright models show NAME[@VERSION]');
        if (/@(\d+|production|challenger)$/.test(name)) {
          const [v] = (await ctx.call('models.get', { model: name })).versions.filter((x) => x.version === Number(name.split('@').pop()) || x.aliases.includes(name.split('@').pop() as never));
          if (!v) throw new AppError('not_found', `No version matches "${name}".`);
          if (!ctx.json) {
            ctx.out(`${v.model} version ${v.version}${v.aliases.length ? ` (${v.aliases.join(', ')})` : ''}${v.archivedAt ? ' — archived' : ''}`);
            ctx.out(v.sentence);
            ctx.out(
              textTable(['', ''], [
                ['Algorithm', v.algorithmTitle],
                ['Trained on', `${v.dataset}@${v.datasetVersion}`],
                ['Target', v.target ?? '(unusual behaviour)'],
                ['Inputs', v.inputs.join(', ')],
                [v.metric.label, fmt(v.metrics[v.metric.key])],
                ['Trained', `${v.createdAt.replace('T', ' ').slice(0, 19)} by ${v.createdBy} (app ${v.appVersion}, ${v.durationSeconds.toFixed(0)} s)`],
                ['Model hash', v.modelHash],
                ['ONNX hash', v.onnxHash ?? ''],
              ]),
            );
          }
          return v;
        }
        const m = await ctx.call('models.get', { model: name });
        if (!ctx.json) {
          ctx.out(`${m.model.name}: ${m.versions.length} version${m.versions.length === 1 ? '' : 's'}`);
          ctx.out(
            textTable(
              ['VERSION', 'ALIASES', 'ALGORITHM', 'METRIC', 'DATASET', 'TRAINED', 'BY'],
              m.versions.map((v) => [String(v.version) + (v.archivedAt ? ' (archived)' : ''), v.aliases.join(', '), v.algorithmTitle, `${v.metric.label} ${fmt(v.metrics[v.metric.key])}`, `${v.dataset}@${v.datasetVersion}`, v.createdAt.replace('T', ' ').slice(0, 19), v.createdBy]),
            ),
          );
        }
        return m;
      }
      if (sub !== undefined && sub !== 'list') throw new AppError('bad_input', `Unknown models command "${sub}". Use list, show, archive or restore.`);
      const list = await ctx.call('models.list', {});
      if (!ctx.json) {
        ctx.out(
          list.length
            ? textTable(
                ['NAME', 'LATEST', 'PRODUCTION', 'ALGORITHM', 'METRIC', 'DATASET', 'TRAINED'],
                list.map((m) => [m.name, String(m.latest.version), m.production === null ? '' : String(m.production), m.latest.algorithmTitle, `${m.latest.metric.label} ${fmt(m.latest.metrics[m.latest.metric.key])}`, `${m.latest.dataset}@${m.latest.datasetVersion}`, m.latest.createdAt.replace('T', ' ').slice(0, 19)]),
              )
            : 'No models yet. Train one with: millwright train DATASET --target COLUMN',
        );
      }
      return list;
    },
  },
  promote: {
    summary: 'Point the production or challenger alias at a model version, with a reason.',
    usage: 'millwright promote MODEL@VERSION --alias production|challenger --reason "…"',
    flags: { alias: 'value', reason: 'value' },
    async run(ctx, args) {
      const ref = versionRef(args.positional[0], 'millwright promote MODEL@VERSION --alias production --reason "…"');
      const alias = stringFlag(args, 'alias') ?? 'production';
      if (alias !== 'production' && alias !== 'challenger') throw new AppError('bad_input', `--alias must be "production" or "challenger" (got "${alias}").`, 'alias');
      const reason = stringFlag(args, 'reason');
      if (!reason) throw new AppError('bad_input', 'Say why with --reason "…" (kept in the audit log).', 'reason');
      const v = await ctx.call('models.promote', { ...ref, alias, reason });
      if (!ctx.json) ctx.out(`${alias} of ${v.model} is now version ${v.version}.`);
      return v;
    },
  },
  predict: {
    summary: 'Score a file with a model version and write it out with the prediction columns appended.',
    usage: 'millwright predict MODEL[@VERSION] FILE --out OUT.csv [--json]',
    flags: { out: 'value' },
    async run(ctx, args) {
      const [model, file] = args.positional;
      if (!model || !file) throw new AppError('bad_input', 'Which model and which file? Usage: millwright predict MODEL[@VERSION] FILE --out OUT.csv');
      const out = stringFlag(args, 'out');
      if (!out) throw new AppError('bad_input', 'Where should the scored file go? Give --out OUT.csv.', 'out');
      const job = await ctx.call('models.score', { model, file: path.resolve(file), out: path.resolve(out) });
      const r = (await runJobHere(ctx, job, true)).result as ScoreResult;
      if (!ctx.json) {
        ctx.out(`Scored ${r.rows.toLocaleString('en-US')} rows of ${path.basename(r.file)} with ${r.model} version ${r.version}; wrote ${r.out} with ${r.added.join(', ')} added.`);
        const counts = Object.entries(r.counts);
        if (counts.length) ctx.out(counts.map(([k, n]) => `${k}: ${n.toLocaleString('en-US')}`).join(', '));
      }
      return r;
    },
  },
  evaluate: {
    summary: "Check a model version against the answers in a file, with training's metrics.",
    usage: 'millwright evaluate MODEL[@VERSION] FILE [--label COL] [--json]',
    flags: { label: 'value' },
    async run(ctx, args) {
      const [model, file] = args.positional;
      if (!model || !file) throw new AppError('bad_input', 'Which model and which file? Usage: millwright evaluate MODEL[@VERSION] FILE [--label COL]');
      const label = stringFlag(args, 'label');
      const job = await ctx.call('models.score', { model, file: path.resolve(file), evaluate: true, ...(label ? { truthColumn: label } : {}) });
      const r = (await runJobHere(ctx, job, true)).result as ScoreResult;
      const metrics = r.metrics ?? {};
      if (!ctx.json) {
        ctx.out(`${r.model} version ${r.version} on ${path.basename(r.file)} (${(metrics.rows ?? r.rows).toLocaleString('en-US')} rows with an answer):`);
        ctx.out(textTable(['METRIC', 'VALUE'], Object.entries(metrics).filter(([k]) => k !== 'rows').map(([k, v]) => [k, fmt(v)])));
      }
      const { rows: _scored, ...rest } = metrics;
      return { rows: metrics.rows ?? r.rows, metrics: rest };
    },
  },
  export: {
    summary: 'Write the deployment bundle of a model version (signed manifest, model.onnx, edge runtime, Dockerfile, k8s.yaml, systemd unit).',
    usage: 'millwright export MODEL[@VERSION] --out FILE.tar.gz [--json]',
    flags: { out: 'value' },
    async run(ctx, args) {
      const model = args.positional[0];
      if (!model) throw new AppError('bad_input', 'Which model? Usage: millwright export MODEL[@VERSION] --out FILE.tar.gz');
      const out = stringFlag(args, 'out');
      if (!out) throw new AppError('bad_input', 'Where should the bundle go? Give --out FILE.tar.gz.', 'out');
      const r = await ctx.call('models.exportBundle', { model, out: path.resolve(out) });
      if (!ctx.json) ctx.out(`Wrote ${r.file} (${(r.bytes / 1024).toFixed(0)} KiB, sha256 ${r.sha256.slice(0, 12)}…), signed by the workspace key ${r.fingerprint}.`);
      return r;
    },
  },
  serve: {
    summary: 'Run a deployment bundle (.tar.gz or its folder) as an endpoint here, in the foreground.',
    usage: 'millwright serve BUNDLE [--port N] [--host H] [--token T] [--admin-token T] [--state DIR] [--key FILE] [--engine worker|main]',
    flags: { port: 'value', host: 'value', token: 'value', 'admin-token': 'value', state: 'value', key: 'value', engine: 'value' },
    async run(ctx, args) {
      const bundle = args.positional[0];
      if (!bundle || args.positional.length > 1) throw new AppError('bad_input', 'Which bundle? Usage: millwright serve BUNDLE.tar.gz [--port N]');
      const file = path.resolve(bundle);
      if (!fs.existsSync(file)) throw new AppError('bad_input', `${file} does not exist. Give a bundle written by "millwright export" (a .tar.gz) or its unpacked folder.`, 'bundle');
      const isDir = fs.statSync(file).isDirectory();
      if (isDir ? !fs.existsSync(path.join(file, 'manifest.json')) : !/\.(tar\.gz|tgz)$/i.test(file)) {
        throw new AppError('bad_input', `${file} is not a bundle: give the .tar.gz written by "millwright export", or a folder holding its manifest.json.`, 'bundle');
      }
      const port = intFlag(args, 'port', 0, 65535);
      const forward: string[] = ['--bundle', file];
      if (port !== undefined) forward.push('--port', String(port));
      for (const flag of ['host', 'state', 'key', 'engine'] as const) {
        const v = stringFlag(args, flag);
        if (v !== undefined) forward.push(`--${flag}`, flag === 'host' || flag === 'engine' ? v : path.resolve(v));
      }
      // Tokens go by environment variables, so the process list does not show them.
      const token = stringFlag(args, 'token');
      const adminToken = stringFlag(args, 'admin-token');
      const cmd = runtimeCommand(path.join(appRoot(), 'resources', 'runtime'), forward, { MILLWRIGHT_TOKEN: token, MILLWRIGHT_ADMIN_TOKEN: adminToken }, true);
      // The IPC channel closes when this process dies, however it dies: the endpoint then stops too (server.js).
      const child = spawn(cmd.command, cmd.args, { env: cmd.env, stdio: ['inherit', 'inherit', 'inherit', 'ipc'] });
      const forwardSignal = (signal: NodeJS.Signals) => child.kill(signal);
      process.on('SIGINT', forwardSignal);
      process.on('SIGTERM', forwardSignal);
      try {
        const code = await new Promise<number>((resolve, reject) => {
          child.once('error', (e) => reject(new AppError('io', `Cannot run the edge runtime: ${e.message}.`)));
          child.once('exit', (c, signal) => resolve(c ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? 0 : 1)));
        });
        process.exitCode = code;
      } finally {
        process.off('SIGINT', forwardSignal);
        process.off('SIGTERM', forwardSignal);
      }
      return undefined;
    },
  },
  endpoints: {
    summary: 'Endpoints this workspace deploys to: list them (with their status now), add one, or remove one.',
    usage: 'millwright endpoints [list]\n       millwright endpoints add NAME --url URL --token T [--admin-token T]\n       millwright endpoints remove NAME',
    flags: { url: 'value', token: 'value', 'admin-token': 'value' },
    async run(ctx, args) {
      const [sub, name, ...extra] = args.positional;
      if (extra.length) throw new AppError('bad_input', `Unexpected "${extra[0]}". Usage: millwright endpoints ${sub ?? ''} NAME`);
      if (sub === 'add') {
        if (!name) throw new AppError('bad_input', 'Which name? Usage: millwright endpoints add NAME --url URL --token T [--admin-token T]');
        const url = requiredFlag(args, 'url', 'Where is it? Give --url, e.g. --url http://10.0.0.5:8080.');
        const token = requiredFlag(args, 'token', 'Give its predict token with --token T (the endpoint printed it at its first start).');
        const adminToken = stringFlag(args, 'admin-token');
        const e = await ctx.call('endpoints.add', { name, url, token, ...(adminToken !== undefined ? { adminToken } : {}) });
        if (!ctx.json) {
          ctx.out(`Added ${e.name} (${e.url})${e.canDeploy ? '' : ' without an admin token: it can be watched but not deployed to'}.`);
          ctx.out(e.status === 'up' ? `It is up${e.model ? `, serving ${e.model.name} version ${e.model.version}` : ''}.` : `It did not answer: ${e.lastError ?? e.status}. It is kept; "millwright endpoints" contacts it again.`);
        }
        return e;
      }
      if (sub === 'remove') {
        if (!name) throw new AppError('bad_input', 'Which endpoint? Usage: millwright endpoints remove NAME');
        const r = await ctx.call('endpoints.remove', { name });
        if (!ctx.json) ctx.out(`Removed ${r.removed}; its tokens were deleted from the workspace.`);
        return r;
      }
      if (sub !== undefined && sub !== 'list') throw new AppError('bad_input', `Unknown endpoints command "${sub}". Use list, add or remove.`);
      if (name) throw new AppError('bad_input', `Unexpected "${name}". Usage: millwright endpoints [list]`);
      const known = await ctx.call('endpoints.list', {});
      const list = await Promise.all(known.map((e) => ctx.call('endpoints.refresh', { name: e.name })));
      if (!ctx.json) {
        ctx.out(
          list.length
            ? textTable(
                ['NAME', 'KIND', 'URL', 'STATUS', 'SERVES', 'REQUESTS', 'LAST CONTACT'],
                list.map((e) => [e.name, e.kind, e.url, e.status + (e.lastError ? ` (${e.lastError.slice(0, 60)})` : ''), e.model ? `${e.model.name}@${e.model.version}` : '', e.requests === null ? '' : String(e.requests), e.lastContact?.replace('T', ' ').slice(0, 19) ?? 'never']),
              )
            : 'No endpoints yet. Add one with: millwright endpoints add NAME --url URL --token T --admin-token T',
        );
      }
      return list;
    },
  },
  deploy: {
    summary: 'Deploy a model version to an endpoint, then check its signature, health and answers. Exits 1 when a check fails.',
    usage: 'millwright deploy MODEL[@VERSION] --endpoint NAME [--json]',
    flags: { endpoint: 'value' },
    async run(ctx, args) {
      const model = args.positional[0];
      if (!model || args.positional.length > 1) throw new AppError('bad_input', 'Which model? Usage: millwright deploy MODEL[@VERSION] --endpoint NAME');
      const name = requiredFlag(args, 'endpoint', 'Which endpoint? Give --endpoint NAME (see "millwright endpoints").');
      const e = await ctx.call('endpoints.refresh', { name });
      if (e.kind === 'local' && e.status !== 'up') {
        throw new AppError('conflict', `The endpoint "${name}" runs on this PC inside the Millwright app, and it is not running now. Open Millwright (it starts it again), or use "millwright serve".`, 'endpoint');
      }
      const r = await ctx.call('deploy.run', { model, target: { kind: 'endpoint', name } });
      if (!ctx.json) {
        ctx.out(`${r.ok ? 'Deployed' : 'Deployed, but a check failed:'} ${r.model} version ${r.version} to ${r.endpoint} (${r.url})${r.replaced ? `, replacing ${r.replaced.name} version ${r.replaced.version}` : ''}.`);
        ctx.out(textTable(['CHECK', '', 'DETAIL'], r.checks.map((c) => [c.name, c.ok ? 'ok' : 'FAILED', c.detail])));
        if (r.curl) ctx.out(`\nCall it:\n  ${r.curl}`);
      }
      if (!r.ok) process.exitCode = 1;
      return r;
    },
  },
  rollback: {
    summary: 'Put back the model version an endpoint served before its last deployment.',
    usage: 'millwright rollback --endpoint NAME [--json]',
    flags: { endpoint: 'value' },
    async run(ctx, args) {
      if (args.positional.length) throw new AppError('bad_input', `Unexpected "${args.positional[0]}". Usage: millwright rollback --endpoint NAME`);
      const name = requiredFlag(args, 'endpoint', 'Which endpoint? Give --endpoint NAME (see "millwright endpoints").');
      const e = await ctx.call('deploy.rollback', { endpoint: name });
      if (!ctx.json) ctx.out(`${e.name} serves ${e.model ? `${e.model.name} version ${e.model.version}` : 'its previous bundle'} again${e.previous ? ` (rolling back again puts ${e.previous.name} version ${e.previous.version} back)` : ''}.`);
      return e;
    },
  },
  'export-mlflow': {
    summary: 'Write a model version as an MLflow model directory (onnx and python_function flavors).',
    usage: 'millwright export-mlflow MODEL[@VERSION] --out DIR [--json]',
    flags: { out: 'value' },
    async run(ctx, args) {
      const model = args.positional[0];
      if (!model) throw new AppError('bad_input', 'Which model? Usage: millwright export-mlflow MODEL[@VERSION] --out DIR');
      const out = stringFlag(args, 'out');
      if (!out) throw new AppError('bad_input', 'Where should the MLflow model go? Give --out DIR (a new folder).', 'out');
      const r = await ctx.call('models.exportMlflow', { model, out: path.resolve(out) });
      if (!ctx.json) ctx.out(`Wrote the MLflow model to ${r.dir} (${r.files.join(', ')}). Load it with mlflow.pyfunc.load_model("${r.dir}").`);
      return r;
    },
  },
  compare: {
    summary: 'Two model versions side by side: what changed in settings and data, and how both score on the same newer rows.',
    usage: 'millwright compare MODEL@A MODEL@B [--json]',
    flags: {},
    async run(ctx, args) {
      const [a, b] = args.positional;
      if (!a || !b) throw new AppError('bad_input', 'Which two versions? Usage: millwright compare MODEL@A MODEL@B');
      const c = await ctx.call('models.compare', { a, b });
      if (!ctx.json) {
        const name = (x: typeof c.a) => `${x.model}@${x.version}`;
        ctx.out(`${name(c.a)} (${c.a.algorithm}, ${c.a.dataset}@${c.a.datasetVersion}) against ${name(c.b)} (${c.b.algorithm}, ${c.b.dataset}@${c.b.datasetVersion})`);
        ctx.out(c.sentence);
        ctx.out('');
        ctx.out(c.settings.length ? textTable(['SETTING', name(c.a).toUpperCase(), name(c.b).toUpperCase()], c.settings.map((x) => [x.name, x.a, x.b])) : 'Settings: the same.');
        ctx.out('');
        ctx.out(c.data.sameData ? 'Data: the same dataset version.' : `Data: ${c.data.rowsA.toLocaleString('en-US')} rows → ${c.data.rowsB.toLocaleString('en-US')} rows${c.data.columnsAdded.length ? `; new columns ${c.data.columnsAdded.join(', ')}` : ''}${c.data.columnsRemoved.length ? `; columns gone ${c.data.columnsRemoved.join(', ')}` : ''}.`);
        for (const i of c.data.inputs) ctx.out(`  ${i.sentence}`);
        ctx.out('');
        const keys = Object.keys(c.metrics.b).filter((k) => k in c.metrics.a);
        ctx.out(`Scored on ${c.holdout.rows.toLocaleString('en-US')} rows held out by ${c.holdout.of} (${c.holdout.dataset}@${c.holdout.datasetVersion}):`);
        ctx.out(textTable(['METRIC', name(c.a).toUpperCase(), name(c.b).toUpperCase()], keys.map((k) => [k, fmt(c.metrics.a[k]), fmt(c.metrics.b[k])])));
        if (c.disagreements.length) {
          ctx.out('');
          ctx.out('Rows where they disagree most:');
          ctx.out(textTable(['ROW', name(c.a).toUpperCase(), name(c.b).toUpperCase(), 'ACTUAL'], c.disagreements.slice(0, 5).map((d) => [String(d.row + 1), d.a, d.b, d.actual ?? ''])));
        }
      }
      return c;
    },
  },
  reproduce: {
    summary: 'Retrain a model version from its lineage and say whether the result is identical (same ONNX hash).',
    usage: 'millwright reproduce MODEL@VERSION [--json]',
    flags: {},
    async run(ctx, args) {
      const ref = versionRef(args.positional[0], 'millwright reproduce MODEL@VERSION');
      const job = await ctx.call('models.reproduce', ref);
      const r = (await runJobHere(ctx, job, true)).result as ReproduceResult;
      if (!ctx.json) {
        ctx.out(r.identical ? `Identical: retraining ${r.model} version ${r.version} gave the same model (ONNX ${r.reproduced.onnxHash.slice(0, 12)}…).` : `Not identical: retraining ${r.model} version ${r.version} gave a different model.`);
        for (const d of r.differences) ctx.out(`  - ${d}`);
      }
      return r;
    },
  },
  backup: {
    summary: 'Write the whole workspace into one .tar.gz (database, blobs, keys).',
    usage: 'millwright backup --out FILE.tar.gz [--json]',
    flags: { out: 'value' },
    async run(ctx, args) {
      const out = stringFlag(args, 'out');
      if (!out) throw new AppError('bad_input', 'Where should the backup go? Give --out FILE.tar.gz.', 'out');
      const r = await ctx.call('workspace.backup', { out: path.resolve(out) });
      if (!ctx.json) ctx.out(`Backed up ${r.files.toLocaleString('en-US')} files into ${r.file} (${(r.bytes / 1e6).toFixed(1)} MB).`);
      return r;
    },
  },
  restore: {
    summary: 'Restore a backup into a new workspace folder, then check it.',
    usage: 'millwright restore FILE.tar.gz --to DIR [--json]',
    flags: { to: 'value' },
    async run(ctx, args) {
      const file = args.positional[0];
      if (!file) throw new AppError('bad_input', 'Which backup? Usage: millwright restore FILE.tar.gz --to DIR');
      const to = stringFlag(args, 'to');
      if (!to) throw new AppError('bad_input', 'Where should the workspace go? Give --to DIR (a new folder).', 'to');
      const r = await restoreWorkspace(file, to);
      const check = checkWorkspace(r.dir);
      if (!ctx.json) {
        ctx.out(`Restored ${r.files.toLocaleString('en-US')} files into ${r.dir} (backed up ${r.manifest.createdAt.replace('T', ' ').slice(0, 19)} by ${r.manifest.createdBy}).`);
        ctx.out(check.ok ? 'Check: everything is in order.' : `Check found problems:\n${check.problems.map((p) => `  - ${p}`).join('\n')}`);
        ctx.out(`Open it with --workspace "${r.dir}" (or set MILLWRIGHT_HOME).`);
      }
      return { dir: r.dir, files: r.files, check };
    },
  },
  check: {
    summary: "Check the workspace: the database's integrity and every blob's hash. Exits 1 when something is wrong.",
    usage: 'millwright check [--json]',
    flags: {},
    async run(ctx) {
      const r = await ctx.call('workspace.check', {});
      if (!ctx.json) {
        ctx.out(r.ok ? `Everything is in order: database ok, ${r.blobs.toLocaleString('en-US')} blobs with the right content, none missing.` : `${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}:\n${r.problems.map((p) => `  - ${p}`).join('\n')}`);
        if (r.unreferenced) ctx.out(`${r.unreferenced.toLocaleString('en-US')} blob${r.unreferenced === 1 ? '' : 's'} nothing refers to (left by an interrupted task): harmless, and removed when Millwright next starts, once an hour old and no task is running.`);
      }
      if (!r.ok) process.exitCode = 1;
      return r;
    },
  },
  monitor: {
    summary: 'Poll every endpoint once (--once) or every interval until Ctrl+C, and print health, drift verdicts and alerts.',
    usage: 'millwright monitor [--once] [--json]',
    flags: { once: 'switch' },
    async run(ctx, args) {
      if (args.positional.length) throw new AppError('bad_input', `"monitor" takes no names (got "${args.positional[0]}"). Usage: millwright monitor [--once] [--json]`);
      const once = args.flags.get('once');
      if (once !== undefined && once !== true) throw new AppError('bad_input', '--once takes no value. Usage: millwright monitor [--once] [--json]', 'once');
      const show = (cycle: MonitorCycle) => (ctx.json ? ctx.out(JSON.stringify(cycle)) : ctx.out(describeCycle(cycle)));
      if (once) {
        const cycle = await ctx.call('monitor.cycle', {});
        if (!ctx.json) show(cycle);
        return cycle;
      }
      // The loop: the core's scheduler polls each endpoint when its time comes; each round is printed as it ends.
      const core = ctx.core();
      const settings = await ctx.call('monitor.settings', {});
      if (!ctx.json) ctx.err(`Polling every ${settings.intervalSeconds} s; press Ctrl+C to stop.`);
      // Each round's printout; Ctrl+C waits for those under way, and one that fails says why in a line, not a stack.
      const printing = new Set<Promise<void>>();
      const onEvent = (e: AppEvent) => {
        if (e.type !== 'monitor') return;
        const names = new Set(e.endpoints);
        const p: Promise<void> = ctx
          .call('monitor.status', {})
          .then((s) => show({ endpoints: s.endpoints.filter((x) => names.has(x.name)) }))
          .catch((err: unknown) => ctx.err(`millwright: ${toErrorInfo(err).message.replace(/\s+/g, ' ')}`))
          .finally(() => printing.delete(p));
        printing.add(p);
      };
      core.events.on('event', onEvent);
      core.monitor.start();
      try {
        await new Promise<void>((resolve) => {
          process.once('SIGINT', () => resolve());
          process.once('SIGTERM', () => resolve());
        });
      } finally {
        core.events.off('event', onEvent);
        await core.monitor.close();
        await Promise.all(printing);
      }
      return undefined;
    },
  },
  feedback: {
    summary: 'List the anomaly episodes and answer them: a real problem (with its cause), normal operation, or not sure.',
    usage: [
      'millwright feedback [list] [--all|--answered] [--model M] [--endpoint E] [--limit N] [--json]',
      '       millwright feedback answer EPISODE --verdict real|normal|unsure [--cause C] [--comment T]',
      '       millwright feedback add-to-data MODEL [--dataset D[@VERSION]] [--endpoint E]',
      '       millwright feedback recalibrate MODEL[@VERSION]',
    ].join('\n'),
    flags: { all: 'switch', answered: 'switch', model: 'value', endpoint: 'value', limit: 'value', verdict: 'value', cause: 'value', comment: 'value', dataset: 'value' },
    async run(ctx, args) {
      const [sub = 'list', target, ...extra] = args.positional;
      const usage = (i: number) => this.usage.split('\n')[i]!.trim();
      if (extra.length) throw new AppError('bad_input', `Unexpected "${extra[0]}". Usage: ${usage(sub === 'answer' ? 1 : 0)}`);
      if (sub === 'answer') return answerEpisode(ctx, args, target, usage(1));
      if (sub === 'add-to-data') {
        if (!target) throw new AppError('bad_input', `Which model? Usage: ${usage(2)}`);
        const ds = stringFlag(args, 'dataset');
        const m = ds ? /^(.+?)(?:@(\d+))?$/.exec(ds)! : null;
        const endpoint = stringFlag(args, 'endpoint');
        const r = await ctx.call('feedback.addToData', { model: target, ...(m ? { dataset: m[1]!, ...(m[2] ? { version: Number(m[2]) } : {}) } : {}), ...(endpoint ? { endpoint } : {}) });
        if (!ctx.json) ctx.out(r.sentence);
        return r;
      }
      if (sub === 'recalibrate') {
        if (!target) throw new AppError('bad_input', `Which model? Usage: ${usage(3)}`);
        const m = /^(.+?)(?:@(\d+))?$/.exec(target)!;
        const r = await ctx.call('feedback.recalibration', { model: m[1]!, ...(m[2] ? { version: Number(m[2]) } : {}) });
        if (!ctx.json) ctx.out(r.sentence);
        return r;
      }
      if (sub !== 'list') throw new AppError('bad_input', `Unknown feedback command "${sub}". Use list, answer, add-to-data or recalibrate.`);
      if (target) throw new AppError('bad_input', `Unexpected "${target}". Usage: ${usage(0)}`);
      if (args.flags.has('all') && args.flags.has('answered')) throw new AppError('bad_input', 'Use either --all or --answered, not both.', 'answered');
      for (const f of ['all', 'answered'] as const) if (args.flags.has(f) && args.flags.get(f) !== true) throw new AppError('bad_input', `--${f} takes no value.`, f);
      // Every flag is checked before the scan: a refused command leaves the workspace as it was.
      for (const [f, goes] of [['verdict', 'answer'], ['cause', 'answer'], ['comment', 'answer'], ['dataset', 'add-to-data']] as const) {
        if (args.flags.has(f)) throw new AppError('bad_input', `--${f} goes with "millwright feedback ${goes}", not with list. Usage: ${usage(0)}`, f);
      }
      const model = stringFlag(args, 'model');
      const endpoint = stringFlag(args, 'endpoint');
      const limit = intFlag(args, 'limit', 1, 10_000);
      ctx.core().feedback.checkFilter({ model, endpoint });
      // Events the last poll stored but nobody grouped yet (the app groups after every poll; this may be the first look).
      await ctx.call('feedback.scan', {});
      const status = args.flags.has('all') ? 'all' : args.flags.has('answered') ? 'answered' : 'unanswered';
      const list = await ctx.call('feedback.list', { status, ...(model ? { model } : {}), ...(endpoint ? { endpoint } : {}), ...(limit ? { limit } : {}) });
      const episodes = list.map(episodeLine);
      if (!ctx.json) {
        ctx.out(
          episodes.length
            ? textTable(
                ['ID', 'MODEL', 'WHERE', 'START', 'END', 'PEAK', 'INPUTS', 'ANSWER'],
                episodes.map((e, i) => [String(e.id), `${e.model}@${list[i]!.version}`, e.endpoint ?? `job ${list[i]!.job ?? ''}`, e.start.replace('T', ' ').slice(0, 16), e.end.replace('T', ' ').slice(0, 16), fmt(e.peakScore), e.inputs.slice(0, 3).join(', '), e.verdict ? `${VERDICT_TITLES[e.verdict]}${e.cause ? `: ${e.cause}` : ''}` : '']),
              )
            : status === 'unanswered'
              ? 'No episodes wait for an answer. "millwright feedback list --all" shows the answered ones too.'
              : 'No episodes yet.',
        );
      }
      return { episodes };
    },
  },
  retrain: {
    summary: "Train a challenger with the production version's settings on the newest data (with the feedback labels), and compare it with production.",
    usage: 'millwright retrain MODEL [--dataset D[@VERSION]] [--time-budget S] [--json]',
    flags: { dataset: 'value', 'time-budget': 'value' },
    async run(ctx, args) {
      const [model, ...extra] = args.positional;
      if (!model) throw new AppError('bad_input', `Which model? Usage: ${this.usage}`);
      if (extra.length) throw new AppError('bad_input', `Unexpected "${extra[0]}". Usage: ${this.usage}`);
      const ds = stringFlag(args, 'dataset');
      const m = ds ? /^(.+?)(?:@(\d+))?$/.exec(ds)! : null;
      const budget = intFlag(args, 'time-budget', TIME_BUDGET.min, TIME_BUDGET.max);
      const job = await ctx.call('retrain.start', { model, ...(m ? { dataset: m[1]!, ...(m[2] ? { version: Number(m[2]) } : {}) } : {}), ...(budget ? { timeBudgetSeconds: budget } : {}) });
      const final = await runJobHere(ctx, job, true);
      const report = await ctx.call('challenger.report', { model });
      if (!ctx.json) {
        ctx.out(`Trained ${model} version ${report.challenger?.version ?? '?'} as the challenger.`);
        ctx.out(report.sentence);
        ctx.out(`Promote it (and deploy it where production runs) with: millwright challenger promote ${model} --reason "…"`);
      }
      return { job: final.id, ...report };
    },
  },
  challenger: {
    summary: 'Production beside its challenger (same holdout, answered episodes, shadow runs); promote it (and deploy where production ran) or discard it.',
    usage: [
      'millwright challenger [report] MODEL [--json]',
      '       millwright challenger promote MODEL --reason "…" [--no-deploy]',
      '       millwright challenger discard MODEL --reason "…"',
    ].join('\n'),
    flags: { reason: 'value', 'no-deploy': 'switch' },
    async run(ctx, args) {
      const [first, second, ...extra] = args.positional;
      const sub = first === 'promote' || first === 'discard' || first === 'report' ? first : 'report';
      const model = first === sub ? second : first;
      if (!model) throw new AppError('bad_input', `Which model? Usage: ${this.usage.split('\n')[0]}`);
      const more = first === sub ? extra : [second, ...extra].filter((x) => x !== undefined);
      if (more.length) throw new AppError('bad_input', `Unexpected "${more[0]}". Usage: ${this.usage.split('\n')[0]}`);
      if (sub === 'report') {
        if (args.flags.has('reason') || args.flags.has('no-deploy')) throw new AppError('bad_input', '--reason and --no-deploy go with promote or discard.', 'reason');
        const r = await ctx.call('challenger.report', { model });
        if (!ctx.json) {
          ctx.out(r.sentence);
          for (const s of r.shadows) ctx.out(`Shadow on ${s.endpoint}: ${s.sentence}`);
        }
        return r;
      }
      const reason = requiredFlag(args, 'reason', `Say why with --reason "…" (kept in the audit log).`);
      if (sub === 'discard' && args.flags.has('no-deploy')) throw new AppError('bad_input', '--no-deploy goes with promote.', 'no-deploy');
      const v = sub === 'promote' ? await ctx.call('challenger.promote', { model, reason, deploy: !args.flags.has('no-deploy') }) : await ctx.call('challenger.discard', { model, reason });
      if (!ctx.json) ctx.out(sub === 'promote' ? `Production of ${v.model} is now version ${v.version}.` : `Version ${v.version} of ${v.model} is no longer the challenger; it stays in the registry.`);
      return v;
    },
  },
  shadow: {
    summary: 'Run a model version in shadow on an endpoint (both score every request, only production answers), see how it compares, or stop it.',
    usage: ['millwright shadow start ENDPOINT [--model M[@VERSION]]', '       millwright shadow status ENDPOINT', '       millwright shadow stop ENDPOINT'].join('\n'),
    flags: { model: 'value' },
    async run(ctx, args) {
      const [sub, endpoint, ...extra] = args.positional;
      if (sub !== 'start' && sub !== 'stop' && sub !== 'status') throw new AppError('bad_input', `Use shadow start, status or stop. Usage: ${this.usage.split('\n')[0]}`);
      if (!endpoint) throw new AppError('bad_input', `Which endpoint? Usage: millwright shadow ${sub} ENDPOINT`);
      if (extra.length) throw new AppError('bad_input', `Unexpected "${extra[0]}". Usage: millwright shadow ${sub} ENDPOINT`);
      const m = stringFlag(args, 'model');
      if (m !== undefined && sub !== 'start') throw new AppError('bad_input', '--model goes with shadow start.', 'model');
      if (sub === 'start') {
        const ref = m ? /^(.+?)(?:@(\d+))?$/.exec(m)! : null;
        const s = await ctx.call('shadow.start', { endpoint, ...(ref ? { model: ref[1]!, ...(ref[2] ? { version: Number(ref[2]) } : {}) } : {}) });
        if (!ctx.json) ctx.out(`${s.model} version ${s.version} now runs in shadow on ${s.endpoint}: it scores every request, production still answers.`);
        return s;
      }
      if (sub === 'stop') {
        const r = await ctx.call('shadow.stop', { endpoint });
        if (!ctx.json) ctx.out(r.stopped ? `The shadow run on ${r.endpoint} has ended.` : `No shadow runs on ${r.endpoint}.`);
        return r;
      }
      const s = await ctx.call('shadow.status', { endpoint });
      if (!ctx.json) ctx.out(s ? s.sentence : `No shadow runs on ${endpoint}.`);
      return s;
    },
  },
  record: {
    summary: 'Record live values from an OPC UA server or an MQTT broker into the workspace, until the duration is over or Ctrl+C.',
    usage:
      'millwright record opcua URL --tags A,B [--interval 1s] [--duration 1h] [--name NAME] [--security none|sign|encrypt] [--policy P]\n' +
      '                            [--user U --password-env VAR] [--trust THUMBPRINT] [--json]\n' +
      '       millwright record mqtt URL --topic T [--field F,G] [--payload json|number|sparkplug] [--interval 1s] [--duration 1h]\n' +
      '                            [--name NAME] [--user U --password-env VAR] [--ca FILE] [--listen 3s] [--rebirth] [--json]\n' +
      '       --rebirth (Sparkplug B): ask edge nodes whose birth was missed to send it again (a Rebirth command written to the broker).',
    flags: { tags: 'value', interval: 'value', duration: 'value', name: 'value', security: 'value', policy: 'value', user: 'value', 'password-env': 'value', trust: 'value', topic: 'value', field: 'value', payload: 'value', ca: 'value', listen: 'value', rebirth: 'switch' },
    async run(ctx, args) {
      const [kind, url, ...extra] = args.positional;
      if (extra.length) throw new AppError('bad_input', `Unexpected "${extra[0]}". Separate tags with commas: --tags A,B.`);
      return recordCommand({ json: ctx.json, out: ctx.out, err: ctx.err, core: ctx.core, flag: (n) => stringFlag(args, n), has: (n) => args.flags.has(n) }, kind, url);
    },
  },
  recordings: {
    summary: 'Recordings of live data: list them, save a time range of one as a dataset version, stop or remove one.',
    usage:
      'millwright recordings [list]\n' +
      '       millwright recordings save ID --name NAME [--from ISO] [--to ISO] [--interval 1s] [--aggregate mean|last]\n' +
      '       millwright recordings stop ID\n' +
      '       millwright recordings remove ID',
    flags: { name: 'value', from: 'value', to: 'value', interval: 'value', aggregate: 'value' },
    async run(ctx, args) {
      const [sub, ref, ...extra] = args.positional;
      if (extra.length) throw new AppError('bad_input', `Unexpected "${extra[0]}".`);
      const idOf = () => {
        const id = Number(ref);
        if (!ref || !Number.isInteger(id) || id < 1) throw new AppError('bad_input', `Which recording? Give its number as "millwright recordings" lists it (got "${ref ?? ''}").`);
        return id;
      };
      if (sub === 'save') {
        const id = idOf();
        const name = requiredFlag(args, 'name', 'Name the dataset with --name NAME.');
        const text = stringFlag(args, 'interval');
        const intervalMs = text === undefined ? undefined : parseDuration(text);
        if (intervalMs === null || (intervalMs !== undefined && intervalMs < 100)) throw new AppError('bad_input', `--interval must be a duration like 1s, 10s or 1min (got "${text}").`, 'interval');
        const aggregate = stringFlag(args, 'aggregate') ?? 'mean';
        if (aggregate !== 'mean' && aggregate !== 'last') throw new AppError('bad_input', `--aggregate must be mean or last (got "${aggregate}").`, 'aggregate');
        const job = await ctx.call('recordings.save', { id, name, aggregate, ...(intervalMs !== undefined ? { intervalMs } : {}), ...(stringFlag(args, 'from') ? { from: stringFlag(args, 'from') } : {}), ...(stringFlag(args, 'to') ? { to: stringFlag(args, 'to') } : {}) });
        const final = await runJobHere(ctx, job, true);
        const summary = final.result as { dataset: string; version: number; rows: number; columns: { name: string }[] };
        if (!ctx.json) ctx.out(`Saved ${summary.dataset} version ${summary.version}: ${summary.rows.toLocaleString('en-US')} rows, columns ${summary.columns.map((c) => c.name).join(', ')}.`);
        return summary;
      }
      if (sub === 'stop') {
        const r = await ctx.call('recordings.stop', { id: idOf() });
        if (!ctx.json) ctx.out(describeRecording(r));
        return r;
      }
      if (sub === 'remove') {
        const r = await ctx.call('recordings.remove', { id: idOf() });
        if (!ctx.json) ctx.out(`Removed recording ${ref} and its samples; datasets saved from it stay.`);
        return r;
      }
      if (sub !== undefined && sub !== 'list') throw new AppError('bad_input', `Unknown recordings command "${sub}". Use list, save, stop or remove.`);
      if (ref) throw new AppError('bad_input', `Unexpected "${ref}". Usage: millwright recordings [list]`);
      const list = await ctx.call('recordings.list', {});
      if (!ctx.json) {
        ctx.out(
          list.length
            ? textTable(
                ['ID', 'NAME', 'SOURCE', 'STATE', 'SAMPLES', 'GAPS', 'STARTED', 'DATASETS'],
                list.map((r) => [String(r.id), r.name, r.source.url, RECORDING_STATE_TITLES[r.state], r.samples.toLocaleString('en-US'), String(r.gaps), r.startedAt.replace('T', ' ').slice(0, 19), r.datasets.map((d) => `${d.name}@${d.version}`).join(', ')]),
              )
            : 'No recordings yet. Start one with: millwright record opcua opc.tcp://HOST:4840 --tags A,B',
        );
      }
      return { recordings: list };
    },
  },
  audit: {
    summary: 'Show the audit log: who did what, and when; or write it as CSV.',
    usage: 'millwright audit [--limit N] [--action NAME] [--who PERSON] [--object NAME] [--use-case NAME] [--csv FILE]',
    flags: { limit: 'value', action: 'value', who: 'value', object: 'value', 'use-case': 'value', csv: 'value' },
    async run(ctx, args) {
      const input: Record<string, unknown> = {};
      for (const [flag, key] of [['action', 'action'], ['who', 'who'], ['object', 'object'], ['use-case', 'useCase']] as const) {
        const v = stringFlag(args, flag);
        if (v) input[key] = v;
      }
      const csv = stringFlag(args, 'csv');
      if (csv) {
        const r = await ctx.call('audit.csv', input);
        const file = path.resolve(csv);
        try {
          fs.writeFileSync(file, r.csv);
        } catch (e) {
          throw new AppError('bad_input', `Cannot write ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'its folder does not exist' : (e as Error).message}.`, 'csv');
        }
        if (!ctx.json) ctx.out(`Wrote ${r.rows.toLocaleString('en-US')} entries to ${file}.`);
        return { file, rows: r.rows };
      }
      const limit = intFlag(args, 'limit', 1, 1000);
      if (limit !== undefined) input.limit = limit;
      const entries = await ctx.call('audit.list', input);
      if (!ctx.json) {
        ctx.out(
          entries.length
            ? textTable(
                ['WHEN', 'WHO', 'WHAT', 'DETAILS'],
                entries.map((e) => [e.at.replace('T', ' ').slice(0, 19), e.who, e.action, JSON.stringify(e.details).slice(0, 80)]),
              )
            : Object.keys(input).length ? 'No entries match.' : 'The audit log is empty.',
        );
      }
      return entries;
    },
  },
};

const BAD_VALUE_KINDS: ProblemKind[] = ['not_a_number', 'bad_timestamp', 'bad_boolean', 'ragged_row'];

/** A poll's findings in plain words, an endpoint a paragraph. */
function describeCycle(cycle: MonitorCycle): string {
  if (!cycle.endpoints.length) return 'No endpoints to watch. Add one with "millwright endpoints add NAME --url URL --token T --admin-token A".';
  return cycle.endpoints
    .map((e) => {
      const when = e.lastContact ? `last contact ${e.lastContact.replace('T', ' ').slice(0, 19)} UTC` : 'never contacted';
      const head = `${e.name}: ${e.reachable ? 'answering' : 'NOT answering'} (${when})${e.model ? `, serves ${e.model.name} version ${e.model.version}` : ''}.`;
      const traffic = `  Last hour: ${e.requests} ${e.requests === 1 ? 'request' : 'requests'}, ${e.errors} ${e.errors === 1 ? 'error' : 'errors'}${e.latencyP99Ms !== null ? `, 99% answered within ${fmt(e.latencyP99Ms)} ms` : ''}.`;
      const drift = `  Drift: ${e.drift.verdict === 'unknown' ? 'not enough rows to say' : e.drift.verdict}.`;
      const inputs = e.drift.inputs.filter((i) => i.verdict !== 'unknown').map((i) => `    ${i.name}: ${i.verdict} (PSI ${fmt(i.psi)}${i.test ? `, ${i.test} ${fmt(i.statistic)}` : ''})`);
      const alerts = e.alerts.map((a) => `  Alert: ${a.message}`);
      return [head, traffic, drift, ...inputs, ...alerts].join('\n');
    })
    .join('\n\n');
}

/** One episode as `feedback list --json` prints it. */
function episodeLine(e: Episode) {
  return { id: e.id, model: e.model, endpoint: e.endpoint, start: e.start, end: e.end, peakScore: e.peakScore, inputs: e.inputs.map((i) => i.name), verdict: e.verdict, cause: e.cause, comment: e.comment };
}

async function answerEpisode(ctx: CliContext, args: Parsed, ref: string | undefined, usage: string) {
  const id = ref !== undefined && /^\d+$/.test(ref) ? Number(ref) : NaN;
  if (!Number.isSafeInteger(id) || id < 1) throw new AppError('bad_input', `Which episode? Give its number from "millwright feedback list"${ref ? ` (got "${ref}")` : ''}. Usage: ${usage}`, 'episode');
  const verdict = requiredFlag(args, 'verdict', `Give --verdict real, normal or unsure. Usage: ${usage}`);
  if (!(VERDICTS as readonly string[]).includes(verdict)) throw new AppError('bad_input', `--verdict must be real, normal or unsure (got "${verdict}").`, 'verdict');
  const cause = stringFlag(args, 'cause');
  if (cause !== undefined && verdict !== 'real') throw new AppError('bad_input', 'A cause goes with --verdict real only.', 'cause');
  const comment = stringFlag(args, 'comment');
  const e = await ctx.call('feedback.answer', { id, verdict, ...(cause !== undefined ? { cause } : {}), ...(comment !== undefined ? { comment } : {}) });
  if (!ctx.json) ctx.out(`Episode ${e.id} (${e.model}, ${e.start.replace('T', ' ').slice(0, 16)} to ${e.end.replace('T', ' ').slice(0, 16)}): ${VERDICT_TITLES[e.verdict!]}${e.cause ? `, ${e.cause}` : ''}.`);
  return episodeLine(e);
}

function fmt(n: number | null | undefined): string {
  return typeof n === 'number' && Number.isFinite(n) ? String(Number(n.toPrecision(6))) : '';
}

function took(j: JobInfo): string {
  if (!j.startedAt) return '';
  const end = j.endedAt ? Date.parse(j.endedAt) : Date.now();
  return formatDuration(end - Date.parse(j.startedAt));
}

function describeJob(j: JobInfo): string {
  const lines = [
    `${j.title} (${j.id})`,
    `  state     ${j.state}${j.state === 'running' ? ` ${formatPercent(j.progress)}` : ''}`,
    `  message   ${j.message}`,
    `  started   ${j.startedAt ?? '–'} by ${j.createdBy}`,
    `  ended     ${j.endedAt ?? '–'}`,
  ];
  if (j.error) lines.push(`  reason    ${j.error.message}`);
  if (j.result !== null) lines.push(`  result    ${JSON.stringify(j.result)}`);
  return lines.join('\n');
}

async function runJobHere(ctx: CliContext, job: JobInfo, quiet = false): Promise<JobInfo> {
  const core = ctx.core();
  let last = '';
  const onEvent = (e: { type: string; job?: JobInfo }) => {
    if (e.type !== 'job' || e.job?.id !== job.id) return;
    const line = `${formatPercent(e.job.progress).padStart(5)}  ${e.job.message}`;
    if (line !== last) ctx.err(line);
    last = line;
  };
  core.events.on('event', onEvent);
  const onSigint = () => core.jobs.cancel(job.id);
  process.on('SIGINT', onSigint);
  try {
    const final = await core.jobs.wait(job.id);
    // A task that failed on the person's input (a missing file, a bad value) exits 2 like any bad input.
    if (final.state === 'failed') throw new AppError(isErrorCode(final.error?.code) ? final.error.code : 'job_failed', final.error?.message ?? 'The task failed.');
    if (final.state === 'cancelled') throw new AppError('cancelled', 'The task was cancelled.');
    if (!ctx.json && !quiet) ctx.out(describeJob(final));
    return final;
  } finally {
    core.events.off('event', onEvent);
    process.off('SIGINT', onSigint);
  }
}

function parseArgs(argv: string[]): Parsed {
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  let command: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = a.slice(2, eq < 0 ? undefined : eq);
      if (eq >= 0) flags.set(name, a.slice(eq + 1));
      else {
        const next = argv[i + 1];
        const wantsValue = GLOBAL_FLAGS[name] === 'value' || Object.values(COMMANDS).some((c) => c.flags[name] === 'value');
        if (wantsValue && next !== undefined && !next.startsWith('--')) {
          flags.set(name, next);
          i++;
        } else flags.set(name, true);
      }
    } else if (a === '-h') flags.set('help', true);
    else if (command === undefined) command = a;
    else positional.push(a);
  }
  return { command, positional, flags };
}

/** "NAME@VERSION" (a number) into the API's {model, version}. */
function versionRef(ref: string | undefined, usage: string): { model: string; version: number } {
  const m = ref ? /^(.+)@(\d+)$/.exec(ref) : null;
  if (!m) throw new AppError('bad_input', `Name the version as MODEL@VERSION (for example "pumps@3"). Usage: ${usage}`);
  return { model: m[1]!, version: Number(m[2]) };
}

function stringFlag(args: Parsed, name: string): string | undefined {
  const v = args.flags.get(name);
  if (v === true) throw new AppError('bad_input', `--${name} needs a value.`, name);
  return v;
}

/** A flag the command cannot do without; `message` says what to give. */
function requiredFlag(args: Parsed, name: string, message: string): string {
  const v = stringFlag(args, name);
  if (!v) throw new AppError('bad_input', message, name);
  return v;
}

function numberFlag(args: Parsed, name: string): number | undefined {
  const v = stringFlag(args, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new AppError('bad_input', `--${name} must be a number (got "${v}").`, name);
  return n;
}

function intFlag(args: Parsed, name: string, min: number, max: number): number | undefined {
  const n = numberFlag(args, name);
  if (n === undefined) return undefined;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new AppError('bad_input', `--${name} must be a whole number from ${min} to ${max} (got ${n}).`, name);
  }
  return n;
}

function helpText(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(11)} ${c.summary}`);
  return [
    'Usage: millwright <command> [options]',
    '',
    'Commands:',
    ...rows,
    '',
    'Options for every command:',
    '  --workspace DIR  Use this workspace folder (default: $MILLWRIGHT_HOME, else the app-data folder).',
    '  --json           Print the result as JSON on stdout; progress goes to stderr.',
    '  --help           Show help for a command.',
    '',
    'Exit codes: 0 success, 2 bad input, 1 internal failure.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const out = (t: string) => process.stdout.write(t + '\n');
  const err = (t: string) => process.stderr.write(t + '\n');
  let args: Parsed;
  const json = argv.includes('--json');
  let core: Core | undefined;
  let workspace: string | undefined;
  try {
    args = parseArgs(argv);
    if (args.flags.get('version') === true && !args.command) args.command = 'version';
    if (!args.command) {
      if (args.flags.get('help') === true) {
        out(helpText());
        return 0;
      }
      err(helpText());
      return 2;
    }
    const spec = COMMANDS[args.command];
    if (!spec) throw new AppError('bad_input', `Unknown command "${args.command}". Run "millwright --help" to see the commands.`);
    if (args.flags.get('help') === true) {
      out(`${spec.summary}\n\nUsage: ${spec.usage}`);
      return 0;
    }
    for (const name of args.flags.keys()) {
      if (!(name in GLOBAL_FLAGS) && !(name in spec.flags)) {
        throw new AppError('bad_input', `Unknown option --${name} for "${args.command}". Usage: ${spec.usage.split('\n')[0]}`, name);
      }
    }
    const workspaceDir = resolveWorkspaceDir(stringFlag(args, 'workspace'));
    workspace = workspaceDir;
    const ctx: CliContext = {
      json,
      workspaceDir,
      out,
      err,
      // Only serve-app lives long enough to run the local endpoints again, and to poll in the background (monitor starts its own loop).
      core: () => (core ??= createCore({ workspaceDir, resumeEndpoints: args.command === 'serve-app', monitor: args.command === 'serve-app' })),
      async call(name, arg) {
        const reply = await ctx.core().call(name, arg);
        if (!reply.ok) throw new AppError(reply.error.code as ErrorCode, reply.error.message, reply.error.field);
        return reply.value as never;
      },
    };
    const result = await spec.run(ctx, args);
    if (json && result !== undefined && args.command !== 'serve-app') out(JSON.stringify(result, null, 2));
    // A command that ran but found something wrong (check, deploy) says so with exit 1; serve passes on the endpoint's own code.
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    // A full disk (opening the workspace, or a write outside the contract's calls) is said as such.
    const full = e instanceof AppError || workspace === undefined ? null : diskFullError(workspace, e);
    const info = toErrorInfo(full ?? e);
    if (!(e instanceof AppError) && !full && core) logInternal(core.ws.logDir, `cli ${argv.join(' ')}`, e);
    err(`millwright: ${info.message.replace(/\s+/g, ' ')}`);
    // Scripts reading stdout get the same reason as data.
    if (json) out(JSON.stringify({ error: info }));
    return USER_ERROR_CODES.has(info.code) ? 2 : 1;
  } finally {
    await core?.close();
  }
}

export { appVersion };
