'use strict';
/**
 * A shadow model: a challenger scoring every row production scores, beside
 * it. Only production answers; the shadow scores the same rows afterwards
 * (a turn of the event loop after production's answer is computed, with its
 * own window rows per source), and each minute bucket counts how often the
 * two agreed. A shadow that fails, or falls too far behind, costs production
 * nothing: its rows are counted as shadow errors.
 *
 * The shadow's bundle is checked as a push is (the pinned key) and kept in
 * STATE/shadow/ with STATE/shadow.json saying which it is and since when, so
 * it runs again after a restart until it is removed. Its window rows are
 * saved with the rest of state.json.
 */
const fs = require('node:fs');
const path = require('node:path');
const { BundleError, installBundle, openInstalled, pruneBundles } = require('./bundle');
const { ModelHolder, Streams } = require('./model');
const { writeAtomic } = require('./state');

/** Rows waiting for the shadow at most; past this the shadow is behind and further rows count as its errors. */
const MAX_PENDING_ROWS = 20_000;
/** How long a monitoring read waits for the shadow to catch up before it reads what is counted so far. */
const IDLE_WAIT_MS = 5_000;

/**
 * What the shadow is compared on: the class, the anomaly flag, or the value.
 * @param {{ outputs: { name: string }[] }} sig
 * @returns {'label' | 'anomaly' | 'value' | null}
 */
function answerKind(sig) {
  const names = new Set(sig.outputs.map((o) => o.name));
  return names.has('label') ? 'label' : names.has('anomaly') ? 'anomaly' : names.has('value') ? 'value' : null;
}

const KIND_WORDS = { label: 'a classifier', anomaly: 'an anomaly model', value: 'a regression model' };
const TYPE_WORDS = { float32: 'a number', string: 'a category' };

/**
 * Why a shadow cannot score production's rows, in words; null when it can.
 * Inputs are matched by name (their order may differ).
 * @param {{ name: string, version: string, inputs: { name: string, type: string }[], signature: { outputs: { name: string }[] } }} production
 * @param {import('./bundle').CheckedBundle} shadow
 */
function mismatch(production, shadow) {
  const who = `${shadow.manifest.name} version ${shadow.manifest.version}`;
  const prod = `production (${production.name} version ${production.version})`;
  const theirs = new Map(production.inputs.map((i) => [i.name, i.type]));
  const ours = new Map(shadow.signature.inputs.map((i) => [i.name, i.type]));
  const missing = [...ours.keys()].filter((n) => !theirs.has(n));
  const extra = [...theirs.keys()].filter((n) => !ours.has(n));
  const typed = [...ours].filter(([n, t]) => theirs.has(n) && theirs.get(n) !== t).map(([n, t]) => `"${n}" is ${TYPE_WORDS[t] ?? t} for the shadow and ${TYPE_WORDS[theirs.get(n) ?? ''] ?? theirs.get(n)} for production`);
  if (missing.length || extra.length || typed.length) {
    const parts = [
      missing.length ? `it needs ${list(missing)}, which ${prod} does not take` : '',
      extra.length ? `it does not take ${list(extra)}, which ${prod} does` : '',
      ...typed,
    ].filter(Boolean);
    return `The shadow bundle's inputs differ from production's: ${who}: ${parts.join('; ')}. A shadow must take the same inputs as the model it runs beside.`;
  }
  const a = answerKind(production.signature);
  const b = answerKind(shadow.signature);
  if (a !== b) return `The shadow bundle (${who}) is ${b ? KIND_WORDS[b] : 'a model of unknown kind'} and ${prod} is ${a ? KIND_WORDS[a] : 'a model of unknown kind'}: a shadow must answer the same kind of question.`;
  return null;
}

const list = (names) => names.map((n) => `"${n}"`).join(', ');

/**
 * How many of `n` rows the two answers agreed on: the same class, the same
 * anomaly flag, or a value within 1% of production's (or 1e-6).
 * @param {import('./model').Answer} production
 * @param {import('./model').Answer} shadow
 */
function compare(production, shadow, n) {
  const p = production.outputs;
  const s = shadow.outputs;
  let agreed = 0;
  let anomalies = 0;
  let productionAnomalies = 0;
  for (let i = 0; i < n; i++) {
    if (p.label && s.label) {
      if (p.label.data[i] === s.label.data[i]) agreed++;
    } else if (p.anomaly && s.anomaly) {
      const a = p.anomaly.data[i] === 1;
      const b = s.anomaly.data[i] === 1;
      if (a) productionAnomalies++;
      if (b) anomalies++;
      if (a === b) agreed++;
    } else if (p.value && s.value) {
      const a = /** @type {number} */ (p.value.data[i]);
      const b = /** @type {number} */ (s.value.data[i]);
      if (Math.abs(b - a) <= Math.max(0.01 * Math.abs(a), 1e-6) || (Number.isNaN(a) && Number.isNaN(b))) agreed++;
    }
  }
  return { agreed, anomalies, productionAnomalies };
}

/**
 * @typedef {{ name: string, version: string, since: string }} ShadowInfo
 * @typedef {{ format: 1, sha256: string, name: string, version: string, since: string }} ShadowRecord
 * @typedef {{ info: ShadowInfo, sha256: string, holder: ModelHolder, columns: WeakMap<object, number[]> }} ShadowRun
 * @typedef {{ rows: number, agreed: number, anomalies: number, productionAnomalies: number, errors: number }} ShadowTally
 */

class Shadow {
  /**
   * @param {{
   *   stateDir: string,
   *   key: import('./bundle').PinnedKey,
   *   openModel: (b: import('./bundle').VerifiedBundle) => Promise<import('./model').LoadedModel>,
   *   maxSources: number,
   *   tally: (production: { name: string, version: string }, info: ShadowInfo, t: ShadowTally) => void,
   *   onChange: () => void,
   *   warn: (message: string) => void,
   * }} deps
   */
  constructor(deps) {
    this.deps = deps;
    this.file = path.join(deps.stateDir, 'shadow.json');
    this.dir = path.join(deps.stateDir, 'shadow');
    /** @type {ShadowRun | null} */
    this.run = null;
    /** The shadow's own window rows per source. */
    this.streams = new Streams(deps.maxSources, deps.onChange);
    /** Scorings under way. @type {Set<Promise<void>>} */
    this.pending = new Set();
    this.pendingRows = 0;
    this.failures = 0;
  }

  /** @returns {ShadowInfo | null} */
  status() {
    return this.run ? { ...this.run.info } : null;
  }

  /** At start: the shadow STATE/shadow.json names, if any, loaded again; one that cannot be is forgotten with a warning. */
  async load() {
    let saved;
    try {
      saved = JSON.parse(fs.readFileSync(this.file, 'utf8'));
    } catch (e) {
      if (e.code !== 'ENOENT') this.deps.warn(`${this.file} cannot be read (${e.code ?? e.message}); no shadow model runs.`);
      return;
    }
    if (!saved || saved.format !== 1 || typeof saved.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(saved.sha256) || typeof saved.since !== 'string') {
      this.deps.warn(`${this.file} is not a record of a shadow model; no shadow model runs.`);
      return;
    }
    try {
      const b = openInstalled(this.dir, saved.sha256, this.deps.key);
      const model = await this.deps.openModel(b);
      // Its window rows come back with state.json.
      this.start(model, saved.sha256, saved.since, true);
    } catch (e) {
      this.deps.warn(`The shadow model run before the restart (${saved.name} version ${saved.version}) cannot run again: ${e.message} It was removed.`);
      this.forget();
    }
  }

  /**
   * Installs a checked bundle as the shadow beside `production`, replacing any
   * shadow before it. Throws BundleError (with `status` 409 when it cannot
   * score production's rows).
   * @param {import('./bundle').CheckedBundle} checked
   * @param {import('./model').LoadedModel} production
   */
  async install(checked, production) {
    const why = mismatch(production, checked);
    if (why) throw Object.assign(new BundleError(why), { status: 409 });
    if (this.run && this.run.sha256 === checked.sha256) return { shadow: this.status(), unchanged: true };
    const model = await this.deps.openModel(installBundle(this.dir, checked, this.deps.key));
    const since = new Date().toISOString();
    try {
      /** @type {ShadowRecord} */
      const record = { format: 1, sha256: checked.sha256, name: model.name, version: model.version, since };
      writeAtomic(this.file, `${JSON.stringify(record, null, 2)}\n`);
    } catch (e) {
      model.release();
      throw new BundleError(`Cannot write ${this.file}: ${e.code ?? e.message}.`);
    }
    this.stop();
    this.start(model, checked.sha256, since);
    pruneBundles(this.dir, [checked.sha256]);
    return { shadow: this.status() };
  }

  /** Removes the shadow; what it was, or null when none ran. */
  remove() {
    const was = this.status();
    this.stop();
    this.forget();
    return was;
  }

  /** @param {import('./model').LoadedModel} model */
  start(model, sha256, since, keepRows = false) {
    this.run = { info: { name: model.name, version: model.version, since }, sha256, holder: new ModelHolder(model), columns: new WeakMap() };
    if (!keepRows) this.streams.kept.clear();
    this.failures = 0;
    this.deps.onChange();
  }

  stop() {
    if (!this.run) return;
    this.run.holder.close();
    this.run = null;
    this.streams.kept.clear();
    this.deps.onChange();
  }

  forget() {
    fs.rmSync(this.file, { force: true });
    pruneBundles(this.dir, []);
  }

  /**
   * Production answered `n` rows of `source`: the shadow scores the same rows
   * after this turn of the event loop, so production's answer goes out first.
   * @param {import('./model').LoadedModel} production
   * @param {import('./model').Answer} answer
   * @param {string} source
   * @param {import('./model').Columns} cols
   */
  after(production, answer, source, cols, n) {
    const run = this.run;
    if (!run || n === 0) return;
    const info = run.info;
    const count = (t) => {
      // A shadow removed or replaced meanwhile is not counted.
      if (this.run === run) this.deps.tally(production, info, t);
    };
    if (this.pendingRows + n > MAX_PENDING_ROWS) {
      this.failed(`it is more than ${MAX_PENDING_ROWS} rows behind production`);
      count({ rows: 0, agreed: 0, anomalies: 0, productionAnomalies: 0, errors: n });
      return;
    }
    this.pendingRows += n;
    const work = new Promise((resolve) => setImmediate(resolve))
      .then(() =>
        run.holder.use((m) => {
          const mapped = this.columnsFor(run, production, m).map((j) => cols[j]);
          return this.streams.score(m, source, mapped, n);
        }),
      )
      .then(
        (shadow) => count({ rows: n, ...compare(answer, shadow, n), errors: 0 }),
        (e) => {
          this.failed(e && e.message ? e.message : String(e));
          count({ rows: 0, agreed: 0, anomalies: 0, productionAnomalies: 0, errors: n });
        },
      )
      .finally(() => {
        this.pendingRows -= n;
        this.pending.delete(work);
      });
    this.pending.add(work);
  }

  /**
   * For each shadow input, production's column with its name (cached per production model).
   * @param {ShadowRun} run
   * @param {import('./model').LoadedModel} production
   * @param {import('./model').LoadedModel} shadow
   */
  columnsFor(run, production, shadow) {
    let map = run.columns.get(production);
    if (!map) {
      map = shadow.inputs.map((input) => {
        const j = production.inputIndex.get(input.name);
        if (j === undefined || production.inputs[j].type !== input.type) throw new Error(`production (${production.name} version ${production.version}) has no ${TYPE_WORDS[input.type] ?? input.type} input "${input.name}"`);
        return j;
      });
      run.columns.set(production, map);
    }
    return map;
  }

  /** Says the first failure of a shadow, then one in a thousand: counted in every bucket, not written for every row. */
  failed(why) {
    if (this.failures++ % 1000 === 0) this.deps.warn(`The shadow model ${this.run ? `${this.run.info.name} version ${this.run.info.version} ` : ''}could not score rows (${this.failures} time${this.failures === 1 ? '' : 's'} so far): ${why}`);
  }

  /** Waits (up to IDLE_WAIT_MS) for the scorings under way, so a monitoring read counts every row answered before it. */
  async idle() {
    if (!this.pending.size) return;
    let timer;
    const limit = new Promise((resolve) => {
      timer = setTimeout(resolve, IDLE_WAIT_MS);
    });
    // The rows production answered in this turn are scored after it: let them join first.
    await new Promise((resolve) => setImmediate(resolve));
    await Promise.race([Promise.allSettled([...this.pending]), limit]);
    clearTimeout(timer);
  }

  /** The shadow's window rows, for state.json. */
  toJSON() {
    return this.streams.toJSON();
  }

  /** Restores what toJSON wrote (before load() opens the model again). */
  loadRows(saved) {
    this.streams.load(saved);
  }
}

module.exports = { Shadow, mismatch, compare, answerKind };
