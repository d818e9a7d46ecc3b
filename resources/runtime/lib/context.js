'use strict';
/**
 * Context rows of an anomaly model: what happened just before and just
 * after a flagged row, so the app can chart an episode without the rows
 * leaving the plant otherwise. Per source, the newest CONTEXT_ROWS rows not
 * yet sent are kept; when a flagged row comes, those go out first as events
 * with `flagged: false`, then the flagged row (`flagged: true`), and the next
 * CONTEXT_ROWS unflagged rows follow as `flagged: false` events (another
 * flagged row restarts that count). They are ordinary events in the same
 * sequence order; only flagged ones are anomalies. A row kept is a copy of
 * its own values, so memory is bounded by CONTEXT_ROWS small rows for each of
 * at most `maxSources` sources (the least recently seen is forgotten), however
 * large the requests were. What is kept per source
 * is saved in state.json, so a restart in the middle of an episode goes on
 * where it stood.
 */
const { toJsonNumber } = require('./values');

/** Rows kept before, and sent after, a flagged row. */
const CONTEXT_ROWS = 12;

/**
 * A row as answered: the request's own columns by reference, `i` its index
 * there (an event sent at once is read from them, no copy).
 * @typedef {{ name: string, version: string, time: string | number | null, score: number | null, receivedAt: number,
 *   model: import('./model').LoadedModel, cols: import('./model').Columns, i: number }} AnsweredRow
 * A row kept until it is sent or pushed out: its own values only, copied out
 * of the request. Holding the request's columns instead would keep each
 * source's last request whole (a 20,000-row batch per source, hundreds of MB
 * over 1000 sources) for 12 rows' worth of numbers.
 * @typedef {{ name: string, version: string, time: string | number | null, score: number | null, receivedAt: number, inputs: Record<string, unknown> }} KeptRow
 * `afterOf`: the model (name and version) whose flagged row the `after` rows follow.
 * @typedef {{ before: KeptRow[], after: number, afterOf: { name: string, version: string } | null }} SourceContext
 */

/**
 * Characters of a text input an event keeps. A category is a short name; the
 * request limit lets one be megabytes, and 10,000 events of those would fill
 * the gateway's disk and memory. Longer text keeps its start and says how
 * long it was.
 */
const MAX_EVENT_TEXT = 200;

/** @param {string} v */
const clip = (v) => (v.length > MAX_EVENT_TEXT ? `${v.slice(0, MAX_EVENT_TEXT)}… (${v.length} characters)` : v);

/**
 * Inputs read back from state.json, which anyone with the folder can edit:
 * plain values only, and text no longer than a clipped input (already
 * clipped text, with its "(N characters)", is kept as it is).
 * @param {Record<string, unknown>} saved
 */
function restoredInputs(saved) {
  /** @type {Record<string, unknown>} */
  const inputs = {};
  for (const [name, v] of Object.entries(saved).slice(0, 10_000)) {
    if (typeof v === 'string') inputs[clip(name)] = v.length > MAX_EVENT_TEXT + 40 ? clip(v) : v;
    else inputs[clip(name)] = typeof v === 'number' || typeof v === 'boolean' ? v : null;
  }
  return inputs;
}

/** A row's inputs by name, as events carry them. @param {AnsweredRow | KeptRow} r */
function inputsOf(r) {
  if ('inputs' in r) return r.inputs;
  /** @type {Record<string, unknown>} */
  const inputs = {};
  const { cols, i } = r;
  r.model.inputs.forEach((input, j) => {
    const v = cols[j][i];
    inputs[input.name] = typeof v === 'number' ? toJsonNumber(v) : typeof v === 'string' ? clip(v) : v;
  });
  return inputs;
}

/** What is kept of a row: plain values, nothing of the request or the model. @param {AnsweredRow | KeptRow} r @returns {KeptRow} */
const keep = (r) => ({ name: r.name, version: r.version, time: r.time, score: r.score, receivedAt: r.receivedAt, inputs: inputsOf(r) });

/** @param {{ name: string, version: string }} a @param {{ name: string, version: string }} b */
const same = (a, b) => a.name === b.name && a.version === b.version;

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
      c = { before: [], after: 0, afterOf: null };
      while (this.bySource.size >= this.maxSources) this.bySource.delete(/** @type {string} */ (this.bySource.keys().next().value));
    }
    this.bySource.set(source, c);
    return c;
  }

  /**
   * One answered row of `source`, in the order the source's rows were answered.
   * @param {string} source
   * @param {AnsweredRow} row
   * @param {boolean} flagged
   */
  row(source, row, flagged) {
    const c = this.of(source);
    // Another model now (a push or rollback): the rows around the last one's anomalies are no context for this one's.
    const last = c.before[c.before.length - 1];
    if (last && !same(last, row)) c.before = [];
    if (c.after > 0 && c.afterOf && !same(c.afterOf, row)) c.after = 0;
    if (flagged) {
      for (const r of c.before) this.send(source, r, false);
      c.before = [];
      this.send(source, row, true);
      c.after = CONTEXT_ROWS;
      c.afterOf = { name: row.name, version: row.version };
    } else if (c.after > 0) {
      c.after--;
      this.send(source, row, false);
    } else {
      c.before.push(keep(row));
      if (c.before.length > CONTEXT_ROWS) c.before.shift();
    }
    this.onChange();
  }

  /** @param {string} source @param {AnsweredRow | KeptRow} r @param {boolean} flagged */
  send(source, r, flagged) {
    this.add({ time: r.time, receivedAt: new Date(r.receivedAt).toISOString(), source, model: r.name, version: r.version, score: r.score, inputs: inputsOf(r), flagged });
  }

  /** What is kept per source, for state.json. */
  toJSON() {
    return [...this.bySource].map(([source, c]) => ({
      source,
      after: c.after,
      afterOf: c.afterOf,
      before: c.before,
    }));
  }

  /** Restores what toJSON wrote; anything malformed is dropped (that source starts afresh). */
  load(saved) {
    if (!Array.isArray(saved)) return;
    for (const s of saved) {
      if (!s || typeof s.source !== 'string' || !Number.isInteger(s.after) || s.after < 0 || s.after > CONTEXT_ROWS || !Array.isArray(s.before)) continue;
      const before = s.before
        .filter((r) => r && typeof r.name === 'string' && typeof r.version === 'string' && Number.isFinite(r.receivedAt) && Math.abs(r.receivedAt) <= 8.64e15 && r.inputs && typeof r.inputs === 'object')
        .slice(-CONTEXT_ROWS)
        .map((r) => ({ name: r.name, version: r.version, time: typeof r.time === 'string' ? clip(r.time) : typeof r.time === 'number' ? r.time : null, score: typeof r.score === 'number' ? r.score : null, receivedAt: r.receivedAt, inputs: restoredInputs(r.inputs) }));
      this.bySource.delete(s.source);
      const afterOf = s.afterOf && typeof s.afterOf.name === 'string' && typeof s.afterOf.version === 'string' ? { name: s.afterOf.name, version: s.afterOf.version } : null;
      this.bySource.set(s.source, { before, after: s.after, afterOf });
    }
    // Saved with a larger --max-sources: the least recently used go, as they would have.
    for (const source of [...this.bySource.keys()].slice(0, Math.max(0, this.bySource.size - this.maxSources))) this.bySource.delete(source);
  }
}

module.exports = { ContextRows, CONTEXT_ROWS, MAX_EVENT_TEXT };
