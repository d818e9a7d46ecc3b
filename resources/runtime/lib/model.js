'use strict';
/**
 * The model being served: an ONNX Runtime session on a verified bundle, a
 * holder that can switch to another bundle without dropping requests, and
 * the per-source history rows that window and lag features need.
 */
const ort = require('onnxruntime-node');
const { BundleError } = require('./bundle');
const { openEngine, SESSION_OPTIONS } = require('./scorer');
const { toJsonNumber, fromJsonNumber } = require('./values');

/** The stream a row belongs to when it names no `source`. */
const DEFAULT_SOURCE = 'default';

/**
 * Rows scored together at most when calls wait for a run in flight. ONNX
 * Runtime costs about as much for one row as for dozens (the binding's price
 * per call and per named input dominates), so calls that queue behind a run
 * share the next one; past this many rows the per-row work dominates and a
 * bigger batch would only make the first caller wait longer.
 */
const MAX_BATCH_ROWS = 64;

/**
 * Columns in the graph's input order: Float32Array for numbers and yes/no
 * values (NaN = missing), string[] for categories ('' = missing).
 * @typedef {(Float32Array | string[])[]} Columns
 * @typedef {{ type: 'float32' | 'int64' | 'string', width: number, data: Float32Array | Float64Array | string[] }} OutputBlock
 * @typedef {{ rows: number, outputs: Record<string, OutputBlock> }} Answer
 */

class LoadedModel {
  /**
   * Opens ONNX Runtime on a verified bundle's model: checked here, then
   * served by an engine (scorer.js), in a worker thread unless `how` says.
   * @param {import('./bundle').VerifiedBundle} bundle
   * @param {{ engine?: 'worker' | 'direct' | 'public' }} [how] the tests compare the engines
   */
  static async open(bundle, how = {}) {
    let session;
    try {
      session = await ort.InferenceSession.create(bundle.modelBytes, SESSION_OPTIONS);
    } catch (e) {
      throw new BundleError(`ONNX Runtime cannot load the bundle's model.onnx: ${e.message}`);
    }
    const sig = bundle.signature;
    const missingIn = sig.inputs.map((i) => i.name).filter((n) => !session.inputNames.includes(n));
    const missingOut = sig.outputs.map((o) => o.name).filter((n) => !session.outputNames.includes(n));
    await session.release().catch(() => undefined);
    if (missingIn.length || missingOut.length || session.inputNames.length !== sig.inputs.length) {
      throw new BundleError(`model.onnx does not have the inputs and outputs its manifest describes (graph inputs: ${session.inputNames.join(', ')}; outputs: ${session.outputNames.join(', ')}).`);
    }
    let engine;
    try {
      engine = await openEngine(bundle.modelBytes, sig.inputs, sig.outputs, how.engine ?? 'worker');
    } catch (e) {
      throw new BundleError(e.message);
    }
    return new LoadedModel(bundle, engine);
  }

  /**
   * @param {import('./bundle').VerifiedBundle} bundle
   * @param {import('./scorer').Engine} engine
   */
  constructor(bundle, engine) {
    const m = bundle.manifest;
    this.manifest = m;
    this.signature = bundle.signature;
    this.engine = engine;
    this.name = m.name;
    this.version = String(m.version);
    this.appVersion = String(m.appVersion ?? '');
    this.inputs = bundle.signature.inputs;
    this.outputs = bundle.signature.outputs;
    this.historyRows = bundle.signature.historyRows;
    /** The column that holds each row's own timestamp in training data, when the bundle says. */
    this.timeColumn = typeof m.timeColumn === 'string' && m.timeColumn ? m.timeColumn : null;
    /** Rows kept for one model serve another only when the inputs are the same. */
    this.layout = JSON.stringify(this.inputs.map((i) => [i.name, i.type]));
    this.inputIndex = new Map(this.inputs.map((i, j) => [i.name, j]));
    this.refs = 0;
    this.retired = false;
    this.released = false;
    /** Calls waiting to be scored together. @type {{ cols: Columns, n: number, resolve: (a: Answer) => void, reject: (e: unknown) => void }[]} */
    this.waiting = [];
    this.draining = false;
  }

  /**
   * Answers `n` rows that need no history. Calls made in one turn of the
   * event loop, and calls made while a run is in flight, are scored in one
   * run (dynamic batching, as Triton and TorchServe do), and each call gets
   * its own rows back: the same answers as scoring it alone, since every row
   * is computed on its own.
   * @param {Columns} cols
   * @returns {Promise<Answer>}
   */
  score(cols, n) {
    if (n === 0 || n >= MAX_BATCH_ROWS) return this.run(cols, n, 0);
    return new Promise((resolve, reject) => {
      this.waiting.push({ cols, n, resolve, reject });
      if (this.draining) return;
      this.draining = true;
      // After the requests that arrived with this one have been read: they join its run.
      setImmediate(() => void this.drain());
    });
  }

  /** Runs the waiting calls, up to MAX_BATCH_ROWS rows at a time, until none is left. */
  async drain() {
    try {
      while (this.waiting.length) {
        let rows = this.waiting[0].n;
        let k = 1;
        while (k < this.waiting.length && rows + this.waiting[k].n <= MAX_BATCH_ROWS) rows += this.waiting[k++].n;
        const batch = this.waiting.splice(0, k);
        let answer;
        try {
          const a = this.runNow(batch.map((c) => c.cols), rows, 0);
          answer = a instanceof Promise ? await a : a;
        } catch (e) {
          if (k === 1) batch[0].reject(e);
          // Scored alone, a call that ONNX Runtime refuses fails by itself, not with its neighbours.
          else for (const c of batch) await this.run(c.cols, c.n, 0).then(c.resolve, c.reject);
          continue;
        }
        if (k === 1) batch[0].resolve(answer);
        let from = 0;
        if (k > 1) {
          for (const c of batch) {
            c.resolve(part(answer, from, c.n));
            from += c.n;
          }
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /** Values per row of an output: k for probabilities [N, k], 1 for [N]. */
  width(output) {
    const w = output.shape[1];
    return typeof w === 'number' ? w : 1;
  }

  /**
   * Runs the graph on `total` rows and answers rows [skip, total).
   * @param {Columns} cols
   * @returns {Promise<Answer>}
   */
  async run(cols, total, skip) {
    return this.runNow([cols], total, skip);
  }

  /**
   * run() on the rows of several calls back to back, at once when ONNX
   * Runtime is called directly: the answer itself, or a promise of it otherwise.
   * @param {Columns[]} parts
   * @returns {Answer | Promise<Answer>}
   */
  runNow(parts, total, skip) {
    if (total - skip <= 0) {
      /** @type {Record<string, OutputBlock>} */
      const outputs = {};
      for (const o of this.outputs) outputs[o.name] = { type: o.type, width: this.width(o), data: o.type === 'string' ? [] : new Float32Array(0) };
      return { rows: 0, outputs };
    }
    const out = this.engine.run(parts, total);
    return out instanceof Promise ? out.then((o) => this.answer(o, total, skip)) : this.answer(out, total, skip);
  }

  /** ONNX Runtime's outputs as an Answer for rows [skip, total). */
  answer(out, total, skip) {
    /** @type {Record<string, OutputBlock>} */
    const outputs = {};
    for (const o of this.outputs) {
      const width = this.width(o);
      let data = out[o.name];
      if (o.type === 'int64') data = Float64Array.from(/** @type {BigInt64Array} */ (data), Number);
      outputs[o.name] = { type: o.type, width, data: /** @type {Float32Array | Float64Array | string[]} */ (skip === 0 ? data : data.slice(skip * width, total * width)) };
    }
    return { rows: total - skip, outputs };
  }

  release() {
    if (this.released) return;
    this.released = true;
    this.engine.release();
  }
}

/**
 * The model requests use. `swap` switches the reference at once; requests
 * that already hold the old model finish on it, and its session is released
 * when the last of them is done.
 */
class ModelHolder {
  /** @param {LoadedModel} model */
  constructor(model) {
    this.current = model;
  }

  /**
   * @template T
   * @param {(m: LoadedModel) => Promise<T>} fn
   * @returns {Promise<T>}
   */
  async use(fn) {
    const m = this.current;
    m.refs++;
    try {
      return await fn(m);
    } finally {
      m.refs--;
      if (m.retired && m.refs === 0) m.release();
    }
  }

  /** @param {LoadedModel} next @returns {LoadedModel} the model replaced */
  swap(next) {
    const old = this.current;
    this.current = next;
    old.retired = true;
    if (old.refs === 0) old.release();
    return old;
  }

  close() {
    this.current.retired = true;
    if (this.current.refs === 0) this.current.release();
  }
}

/**
 * The newest `historyRows` rows of every source, so each new row is
 * answered with the window that ends at it, as batch scoring of the same
 * rows in time order would. Calls for one source run one after another;
 * the least recently used source is forgotten past `maxSources`.
 */
class Streams {
  constructor(maxSources, onChange = () => undefined) {
    this.maxSources = maxSources;
    this.onChange = onChange;
    /** @type {Map<string, { layout: string, n: number, cols: Columns }>} */
    this.kept = new Map();
    /** @type {Map<string, Promise<unknown>>} */
    this.locks = new Map();
  }

  /**
   * Answers `n` new rows of `source`, in order after the rows it has seen.
   * @param {LoadedModel} model
   * @param {string} source
   * @param {Columns} cols
   * @returns {Promise<Answer>}
   */
  score(model, source, cols, n) {
    if (model.historyRows === 0) return model.score(cols, n);
    return this.serial(source, async () => {
      if (n === 0) return model.run(cols, 0, 0);
      const kept = this.history(source, model);
      const k = kept ? kept.n : 0;
      const all = kept ? model.inputs.map((input, j) => concat(kept.cols[j], cols[j], input.type)) : cols;
      const answer = await model.run(all, k + n, k);
      const from = Math.max(0, k + n - model.historyRows);
      this.kept.delete(source);
      this.kept.set(source, { layout: model.layout, n: k + n - from, cols: all.map((c) => c.slice(from)) });
      while (this.kept.size > this.maxSources) this.kept.delete(/** @type {string} */ (this.kept.keys().next().value));
      this.onChange();
      return answer;
    });
  }

  /** The rows kept for `source` that `model` can use, newest `historyRows` at most. */
  history(source, model) {
    const kept = this.kept.get(source);
    if (!kept || kept.layout !== model.layout) return null;
    const from = Math.max(0, kept.n - model.historyRows);
    return from ? { n: kept.n - from, cols: kept.cols.map((c) => c.slice(from)) } : kept;
  }

  /** Runs `fn` after every earlier call for `source` has finished. */
  serial(source, fn) {
    const before = this.locks.get(source) ?? Promise.resolve();
    const run = before.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(source, tail);
    void tail.then(() => {
      if (this.locks.get(source) === tail) this.locks.delete(source);
    });
    return run;
  }

  toJSON() {
    return [...this.kept].map(([source, k]) => ({
      source,
      layout: k.layout,
      n: k.n,
      cols: k.cols.map((c) => (c instanceof Float32Array ? Array.from(c, toJsonNumber) : c)),
    }));
  }

  /** Restores what toJSON wrote; anything malformed is dropped (the stream starts afresh). */
  load(saved) {
    if (!Array.isArray(saved)) return;
    for (const s of saved) {
      try {
        const layout = JSON.parse(s.layout);
        if (typeof s.source !== 'string' || !Array.isArray(s.cols) || s.cols.length !== layout.length) continue;
        const cols = layout.map(([, type], j) => {
          const c = s.cols[j];
          if (!Array.isArray(c) || c.length !== s.n) throw new Error('length');
          return type === 'string' ? c.map(String) : Float32Array.from(c, fromJsonNumber);
        });
        this.kept.set(s.source, { layout: s.layout, n: s.n, cols });
      } catch {
        // A damaged entry costs that source its window, nothing more.
      }
    }
  }
}

/** Rows [from, from + n) of an answer. */
function part(answer, from, n) {
  /** @type {Record<string, OutputBlock>} */
  const outputs = {};
  for (const [name, block] of Object.entries(answer.outputs)) {
    const d = block.data;
    outputs[name] = { type: block.type, width: block.width, data: Array.isArray(d) ? d.slice(from * block.width, (from + n) * block.width) : d.subarray(from * block.width, (from + n) * block.width) };
  }
  return { rows: n, outputs };
}

function concat(a, b, type) {
  if (type === 'string') return /** @type {string[]} */ (a).concat(/** @type {string[]} */ (b));
  const out = new Float32Array(a.length + b.length);
  out.set(/** @type {Float32Array} */ (a));
  out.set(/** @type {Float32Array} */ (b), a.length);
  return out;
}

module.exports = { LoadedModel, ModelHolder, Streams, DEFAULT_SOURCE };
