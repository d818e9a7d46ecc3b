'use strict';
/**
 * Context rows of an anomaly model: what happened just before and just
 * after a flagged row, so the app can chart an episode without the rows
 * leaving the plant otherwise. Per source, the newest CONTEXT_ROWS rows not
 * yet sent are kept; when a flagged row comes, those go out first as events
 * with `flagged: false`, then the flagged row (`flagged: true`), and the next
 * CONTEXT_ROWS unflagged rows follow as `flagged: false` events (another
 * flagged row restarts that count). They are ordinary events in the same
 * sequence order; only flagged ones are anomalies. What is kept per source
 * is saved in state.json, so a restart in the middle of an episode goes on
 * where it stood.
 */
const { toJsonNumber } = require('./values');

/** Rows kept before, and sent after, a flagged row. */
const CONTEXT_ROWS = 12;

/**
 * A row kept until it is sent or pushed out. A row just answered holds the
 * request's own columns by reference (keeping it costs no copy; `i` is its
 * index there); one read back from state.json has its inputs by name.
 * @typedef {{ name: string, version: string, time: string | number | null, score: number | null, receivedAt: number,
 *   model?: import('./model').LoadedModel, cols?: import('./model').Columns, i?: number, inputs?: Record<string, unknown> }} KeptRow
 * @typedef {{ before: KeptRow[], after: number }} SourceContext
 */

/** A kept row's inputs by name, as events carry them. @param {KeptRow} r */
function inputsOf(r) {
  if (r.inputs) return r.inputs;
  /** @type {Record<string, unknown>} */
  const inputs = {};
  const cols = /** @type {import('./model').Columns} */ (r.cols);
  const i = /** @type {number} */ (r.i);
  /** @type {import('./model').LoadedModel} */ (r.model).inputs.forEach((input, j) => {
    const v = cols[j][i];
    inputs[input.name] = typeof v === 'number' ? toJsonNumber(v) : v;
  });
  return inputs;
}

class ContextRows {
  /**
   * @param {(event: Record<string, unknown>) => void} add where events go (the event log)
   * @param {number} maxSources sources remembered at most (the least recently used is forgotten)
   * @param {() => void} onChange
   */
  constructor(add, maxSources = 1000, onChange = () => undefined) {
    this.add = add;
    this.maxSources = maxSources;
    this.onChange = onChange;
    /** @type {Map<string, SourceContext>} */
    this.bySource = new Map();
  }

  /** @param {string} source */
  of(source) {
    let c = this.bySource.get(source);
    if (c) {
      this.bySource.delete(source);
    } else {
      c = { before: [], after: 0 };
      while (this.bySource.size >= this.maxSources) this.bySource.delete(/** @type {string} */ (this.bySource.keys().next().value));
    }
    this.bySource.set(source, c);
    return c;
  }

  /**
   * One answered row of `source`, in the order the source's rows were answered.
   * @param {string} source
   * @param {KeptRow} row
   * @param {boolean} flagged
   */
  row(source, row, flagged) {
    const c = this.of(source);
    if (flagged) {
      for (const r of c.before) this.send(source, r, false);
      c.before = [];
      this.send(source, row, true);
      c.after = CONTEXT_ROWS;
    } else if (c.after > 0) {
      c.after--;
      this.send(source, row, false);
    } else {
      c.before.push(row);
      if (c.before.length > CONTEXT_ROWS) c.before.shift();
    }
    this.onChange();
  }

  /** @param {string} source @param {KeptRow} r @param {boolean} flagged */
  send(source, r, flagged) {
    this.add({ time: r.time, receivedAt: new Date(r.receivedAt).toISOString(), source, model: r.name, version: r.version, score: r.score, inputs: inputsOf(r), flagged });
  }

  /** What is kept per source, for state.json. */
  toJSON() {
    return [...this.bySource].map(([source, c]) => ({
      source,
      after: c.after,
      before: c.before.map((r) => ({ name: r.name, version: r.version, time: r.time, score: r.score, receivedAt: r.receivedAt, inputs: inputsOf(r) })),
    }));
  }

  /** Restores what toJSON wrote; anything malformed is dropped (that source starts afresh). */
  load(saved) {
    if (!Array.isArray(saved)) return;
    for (const s of saved) {
      if (!s || typeof s.source !== 'string' || !Number.isInteger(s.after) || s.after < 0 || s.after > CONTEXT_ROWS || !Array.isArray(s.before)) continue;
      const before = s.before
        .filter((r) => r && typeof r.name === 'string' && typeof r.version === 'string' && Number.isFinite(r.receivedAt) && r.inputs && typeof r.inputs === 'object')
        .slice(-CONTEXT_ROWS)
        .map((r) => ({ name: r.name, version: r.version, time: typeof r.time === 'string' || typeof r.time === 'number' ? r.time : null, score: typeof r.score === 'number' ? r.score : null, receivedAt: r.receivedAt, inputs: r.inputs }));
      this.bySource.set(s.source, { before, after: s.after });
    }
  }
}

module.exports = { ContextRows, CONTEXT_ROWS };
