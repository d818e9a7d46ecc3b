import type { ParsedInput, Suggestion } from '../../../shared/api';
import { AppError } from '../../../shared/errors';
import type { Goal, TrainSettings } from '../../../shared/training';
import type { DatasetReader } from '../datasets/reader';
import type { VersionRecord } from '../datasets/versions';
import type { TrainParams } from '../jobs/kinds/train';
import { medianInterval } from './frame';
import { suggest } from './suggest';
import { encodeTarget } from './target';

function suggestSource(reader: DatasetReader, v: VersionRecord) {
  const time = v.timeColumn ? reader.column(v, v.timeColumn) : null;
  return {
    dataset: v.datasetName,
    version: v.version,
    rows: v.rowCount,
    schema: v.schema,
    timeColumn: v.timeColumn,
    intervalMs: time && time.type === 'timestamp' ? medianInterval(time.values) : null,
    column: (name: string) => reader.column(v, name),
  };
}

export function suggestTraining(reader: DatasetReader, a: ParsedInput<'training.suggest'>): Suggestion {
  const v = reader.version(a.dataset, a.version);
  if (a.target && !v.schema.some((c) => c.name === a.target)) throw unknownColumn(v, a.target, 'target');
  if (a.labelColumn && !v.schema.some((c) => c.name === a.labelColumn)) throw unknownColumn(v, a.labelColumn, 'labelColumn');
  return suggest(suggestSource(reader, v), a.goal, a.target, a.labelColumn);
}

function unknownColumn(v: VersionRecord, name: string, field: string): AppError {
  return new AppError('bad_input', `Dataset "${v.datasetName}" has no column "${name}". Its columns: ${v.schema.map((c) => c.name).join(', ')}.`, field);
}

/**
 * Checks a training request against the data before any work starts, fills in
 * the defaults (inputs, time column, model name) and returns the job's params.
 * Every refusal names the column or setting and says why.
 */
export function prepareTraining(reader: DatasetReader, a: ParsedInput<'training.start'>, appVersion: string): TrainParams {
  const v = reader.version(a.dataset, a.version);
  const has = (n: string) => v.schema.some((c) => c.name === n);
  let task = a.task;
  if (task === 'anomaly') {
    if (a.target) throw new AppError('bad_input', 'Unusual behaviour is learned without a target; leave the target out (a column of known problems can be given as the label column).', 'target');
    if (a.labelColumn && !has(a.labelColumn)) throw unknownColumn(v, a.labelColumn, 'labelColumn');
  } else {
    if (!a.target) throw new AppError('bad_input', 'Which column should the model predict? Give a target.', 'target');
    if (!has(a.target)) throw unknownColumn(v, a.target, 'target');
    if (a.labelColumn) throw new AppError('bad_input', 'A label column is only used when detecting unusual behaviour.', 'labelColumn');
    const t = encodeTarget(reader.column(v, a.target), a.target, task);
    if (t.kind === 'classes') task = t.classes.length === 2 ? 'binary' : 'multiclass';
    if (t.usable.length < 30) throw new AppError('bad_input', `Only ${t.usable.length} rows have a value for "${a.target}"; training needs at least 30.`, 'target');
  }
  if (v.rowCount < 30) throw new AppError('bad_input', `Dataset "${v.datasetName}" has only ${v.rowCount} rows; training needs at least 30.`, 'dataset');
  const timeColumn = a.timeColumn === undefined ? v.timeColumn : a.timeColumn;
  if (timeColumn) {
    const c = v.schema.find((x) => x.name === timeColumn);
    if (!c) throw unknownColumn(v, timeColumn, 'timeColumn');
    if (c.type !== 'timestamp') throw new AppError('bad_input', `"${timeColumn}" does not hold times, so it cannot order the rows.`, 'timeColumn');
  }
  const goal: Goal = task === 'anomaly' ? 'detect_unusual' : task === 'regression' ? 'predict_value' : 'predict_category';
  let inputs = a.inputs;
  let modelName = a.model;
  if (!inputs || !modelName) {
    const s = suggest(suggestSource(reader, v), goal, a.target ?? undefined, a.labelColumn ?? undefined);
    inputs ??= s.inputs.filter((i) => i.selected && i.name !== a.labelColumn).map((i) => i.name);
    modelName ??= s.modelName;
  }
  for (const name of inputs) {
    if (!has(name)) throw unknownColumn(v, name, 'inputs');
    if (name === a.target) throw new AppError('bad_input', `"${name}" is the target; it cannot also be an input.`, 'inputs');
    if (name === timeColumn) throw new AppError('bad_input', `"${name}" is the time column; it orders the rows and cannot be an input.`, 'inputs');
    if (name === a.labelColumn) throw new AppError('bad_input', `"${name}" marks known problems; it judges the model and cannot be an input.`, 'inputs');
  }
  if (!inputs.length) throw new AppError('bad_input', 'No usable input columns: choose at least one.', 'inputs');
  if (a.windowMinutes && !timeColumn) throw new AppError('bad_input', 'Window features need a time column.', 'windowMinutes');
  const settings: TrainSettings = {
    task,
    target: a.target,
    labelColumn: a.labelColumn,
    inputs: [...new Set(inputs)],
    timeColumn,
    windowMinutes: a.windowMinutes,
    lags: a.lags,
    holdoutFraction: a.holdoutFraction,
    timeBudgetSeconds: a.timeBudgetSeconds,
    seed: a.seed,
    algorithms: a.algorithms,
  };
  return { versionId: v.id, dataset: v.datasetName, version: v.version, rowCount: v.rowCount, schema: v.schema, modelName, settings, appVersion };
}
