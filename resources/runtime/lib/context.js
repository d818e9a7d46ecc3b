'use strict';
/**
 * Context rows of an anomaly model: what happened just before and just
 * after a flagged row, so the app can chart an episode without the rows
 * leaving the plant otherwise. Per source, the newest CONTEXT_ROWS rows not
 * yet sent are kept; when a flagged row comes, those go out first as events
 * with `flagged: false`, then the flagged row (`flagged: true`), and the next
 * CONTEXT_ROWS unflagged rows follow as `flagged: false` events (another
 * flagged row restarts that count). They are ordinary events in the same
 * sequence order; only flagged ones are anomalies.
 */

/** Rows kept before, and sent after, a flagged row. */
const CONTEXT_ROWS = 12;

/**
 * A row kept until it is sent or pushed out: its columns are the request's
 * own (held by reference, so keeping it costs no copy), `i` its index there.
 * @typedef {{ model: import('./model').LoadedModel, cols: import('./model').Columns, i: number, time: string | number | null, score: number, receivedAt: number }} KeptRow
 * @typedef {{ before: KeptRow[], after: number }} SourceContext
 */

class ContextRows {
  /**
   * @param {(event: Record<string, unknown>) => void} add where events go (the event log)
   * @param {(row: KeptRow) => Record<string, unknown>} inputsOf a row's inputs by name, as events carry them
   * @param {number} maxSources sources remembered at most (the least recently used is forgotten)
   */
  constructor(add, inputsOf, maxSources = 1000) {
    this.add = add;
    this.inputsOf = inputsOf;
    this.maxSources = maxSources;
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
  }

  /** @param {string} source @param {KeptRow} r @param {boolean} flagged */
  send(source, r, flagged) {
    this.add({ time: r.time, receivedAt: new Date(r.receivedAt).toISOString(), source, model: r.model.name, version: r.model.version, score: r.score, inputs: this.inputsOf(r), flagged });
  }
}

module.exports = { ContextRows, CONTEXT_ROWS };
