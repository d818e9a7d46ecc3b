'use strict';
/**
 * Turning request JSON into the graph's input columns, with a 400 that names
 * the field (and row) for anything that does not fit. Numbers and yes/no
 * values become float32 (missing = NaN), categories strings (missing = '').
 */
const { badRequest } = require('./http');

const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const NON_FINITE = new Map([['NaN', NaN], ['Infinity', Infinity], ['+Infinity', Infinity], ['-Infinity', -Infinity]]);

/** A request object's own field (never one inherited from Object.prototype, such as "constructor"). */
const field = (obj, name) => (Object.hasOwn(obj, name) ? obj[name] : undefined);

/** JSON has no NaN or Infinity: they travel as the strings "NaN", "Infinity", "-Infinity", both ways. */
function toJsonNumber(x) {
  return Number.isFinite(x) ? x : String(x);
}

function fromJsonNumber(v) {
  return typeof v === 'number' ? v : v === null ? NaN : Number(v);
}

/**
 * A /predict field for a float32 input; undefined when it is not a number.
 * null, a missing field and "" are missing values; numeric strings count,
 * and so do "NaN", "Infinity" and "-Infinity".
 * @param {unknown} v
 * @param {string} kind 'number' or 'boolean'
 */
function numberOf(v, kind) {
  if (v === null || v === undefined) return NaN;
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return kind === 'boolean' ? Number(v) : undefined;
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  if (s === '') return NaN;
  if (NON_FINITE.has(s)) return NON_FINITE.get(s);
  if (DECIMAL.test(s)) return Number(s);
  if (kind === 'boolean') {
    const lower = s.toLowerCase();
    if (lower === 'true') return 1;
    if (lower === 'false') return 0;
  }
  return undefined;
}

/** A /predict field for a category input, as batch scoring writes it; undefined for objects and lists. */
function textOf(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isNaN(v) ? '' : String(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return undefined;
}

/** Shows a value in an error message, short. */
function shown(v) {
  let s;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    // Nested deeper than JSON.stringify's stack allows, though JSON.parse took it: name the kind instead of answering 500.
    s = Array.isArray(v) ? '[…]' : '{…}';
  }
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
}

const listOf = (names) => (names.length > 20 ? `${names.slice(0, 20).join(', ')}, … (${names.length} in all)` : names.join(', '));

/** A row's own timestamp: a number (epoch ms or s, as the plant sends it) or a short string; undefined otherwise. */
function timeOf(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.length <= 64) return v;
  return undefined;
}

const MAX_SOURCE_LENGTH = 200;

/** A float32 column with room for `length` rows, the first ones `c`'s. */
function grown(c, length) {
  const d = new Float32Array(length);
  d.set(c);
  return d;
}

/**
 * /predict rows, grouped by source in request order.
 * @param {unknown} body one object or a list of objects
 * @param {import('./model').LoadedModel} model
 * @param {string} defaultSource
 * @returns {{ n: number, groups: Map<string, { indices: number[], cols: import('./model').Columns, times: (string | number | null)[] }> }}
 */
function predictRows(body, model, defaultSource) {
  const rows = Array.isArray(body) ? body : [body];
  const inputs = model.inputs;
  const timeFields = [model.timeColumn, 'time'].filter((f) => f && !model.inputIndex.has(f));
  const takesSource = !model.inputIndex.has('source');
  /** @type {Map<string, { indices: number[], cols: import('./model').Columns, times: (string | number | null)[], room: number }>} */
  const building = new Map();
  // Names an Object.prototype member also has must be read as own fields only; the others are read directly.
  const inherited = inputs.map((input) => input.name in Object.prototype);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    const at = `Row ${r + 1}`;
    if (!row || typeof row !== 'object' || Array.isArray(row)) throw badRequest(`${at} is not an object of named fields such as {"${inputs[0].name}": …}.`, { row: r + 1 });
    for (const key of Object.keys(row)) {
      if (!model.inputIndex.has(key) && !timeFields.includes(key) && !(takesSource && key === 'source')) {
        throw badRequest(`${at}: "${key}" is not an input of model "${model.name}". Its inputs are: ${listOf(inputs.map((i) => i.name))}.`, { field: key, row: r + 1 });
      }
    }
    let source = defaultSource;
    const named = takesSource ? field(row, 'source') : undefined;
    if (named !== undefined && named !== null) {
      if (typeof named !== 'string' || !named || named.length > MAX_SOURCE_LENGTH) {
        throw badRequest(`${at}: "source" must be a name of 1 to ${MAX_SOURCE_LENGTH} characters, got ${shown(named)}.`, { field: 'source', row: r + 1 });
      }
      source = named;
    }
    let time = null;
    for (const f of timeFields) {
      const given = field(row, f);
      if (given === undefined) continue;
      const t = timeOf(given);
      if (t === undefined) throw badRequest(`${at}: "${f}" must be a timestamp (a number, or text of at most 64 characters), got ${shown(given)}.`, { field: f, row: r + 1 });
      if (t !== null) time = t;
      break;
    }
    let g = building.get(source);
    if (!g) {
      // Numbers go straight into float32 columns: room for every row in the first source's, a few rows (doubled as needed) in any other's.
      const room = building.size === 0 ? rows.length : Math.min(rows.length - r, 8);
      g = { indices: [], cols: inputs.map((input) => (input.type === 'string' ? [] : new Float32Array(room))), times: [], room };
      building.set(source, g);
    }
    const k = g.indices.length;
    if (k === g.room) {
      const room = Math.min(2 * k, rows.length - r + k);
      g.cols = g.cols.map((c) => (c instanceof Float32Array ? grown(c, room) : c));
      g.room = room;
    }
    g.indices.push(r);
    g.times.push(time);
    for (let j = 0; j < inputs.length; j++) {
      const input = inputs[j];
      const v = inherited[j] ? field(row, input.name) : row[input.name];
      if (input.type === 'string') {
        const t = textOf(v);
        if (t === undefined) throw badRequest(`${at}: "${input.name}" must be a category (text), got ${shown(v)}.`, { field: input.name, row: r + 1 });
        /** @type {string[]} */ (g.cols[j]).push(t);
      } else {
        const x = numberOf(v, input.kind ?? 'number');
        if (x === undefined) {
          const what = input.kind === 'boolean' ? 'a yes/no value (true, false, 1 or 0)' : 'a number';
          throw badRequest(`${at}: "${input.name}" must be ${what}, or null when missing; got ${shown(v)}.`, { field: input.name, row: r + 1 });
        }
        /** @type {Float32Array} */ (g.cols[j])[k] = x;
      }
    }
  }
  /** @type {Map<string, { indices: number[], cols: import('./model').Columns, times: (string | number | null)[] }>} */
  const groups = new Map();
  for (const [source, g] of building) {
    const k = g.indices.length;
    groups.set(source, { indices: g.indices, times: g.times, cols: g.cols.map((c) => (c instanceof Float32Array && c.length !== k ? c.slice(0, k) : c)) });
  }
  return { n: rows.length, groups };
}

const NUMERIC_TYPES = new Set(['FP32', 'FP64', 'FP16', 'INT8', 'INT16', 'INT32', 'INT64', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'BOOL']);

/**
 * An Open Inference Protocol infer request.
 * @param {unknown} body
 * @param {import('./model').LoadedModel} model
 * @param {string} defaultSource
 * @returns {{ id: string | undefined, source: string, n: number, cols: import('./model').Columns, times: (string | number | null)[], outputs: string[] }}
 */
function inferRequest(body, model, defaultSource) {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('The body must be an object {"inputs": [{"name", "shape", "datatype", "data"}, …]}.');
  const b = /** @type {Record<string, unknown>} */ (body);
  if (b.id !== undefined && typeof b.id !== 'string') throw badRequest('"id" must be a string.', { field: 'id' });
  let source = defaultSource;
  if (b.parameters !== undefined) {
    const p = /** @type {Record<string, unknown>} */ (b.parameters);
    if (!p || typeof p !== 'object' || Array.isArray(p)) throw badRequest('"parameters" must be an object.', { field: 'parameters' });
    if (p.source !== undefined && p.source !== null) {
      if (typeof p.source !== 'string' || !p.source || p.source.length > MAX_SOURCE_LENGTH) throw badRequest(`"parameters.source" must be a name of 1 to ${MAX_SOURCE_LENGTH} characters.`, { field: 'parameters.source' });
      source = p.source;
    }
  }
  if (!Array.isArray(b.inputs) || !b.inputs.length) throw badRequest('"inputs" must be a non-empty list of tensors {"name", "shape", "datatype", "data"}.', { field: 'inputs' });
  const timeFields = [model.timeColumn, 'time'].filter((f) => f && !model.inputIndex.has(f));
  /** @type {(Float32Array | string[] | undefined)[]} */
  const cols = model.inputs.map(() => undefined);
  /** @type {(string | number | null)[] | null} */
  let times = null;
  let rows = -1;
  let rowsFrom = '';
  const seen = new Set();
  b.inputs.forEach((t, k) => {
    if (!t || typeof t !== 'object' || Array.isArray(t)) throw badRequest(`inputs[${k}] must be an object {"name", "shape", "datatype", "data"}.`, { field: `inputs[${k}]` });
    const name = t.name;
    if (typeof name !== 'string' || !name) throw badRequest(`inputs[${k}] has no "name".`, { field: `inputs[${k}].name` });
    if (seen.has(name)) throw badRequest(`Input "${name}" is given twice.`, { field: name });
    seen.add(name);
    const j = model.inputIndex.get(name);
    const isTime = j === undefined && timeFields.includes(name);
    if (j === undefined && !isTime) throw badRequest(`"${name}" is not an input of model "${model.name}". Its inputs are: ${listOf(model.inputs.map((i) => i.name))}.`, { field: name });
    const shape = t.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0) || !(shape.length === 1 || (shape.length === 2 && shape[1] === 1))) {
      throw badRequest(`Input "${name}": "shape" must be [N] (or [N, 1]) with N the number of rows, got ${shown(shape)}.`, { field: name });
    }
    const n = shape[0];
    if (typeof t.datatype !== 'string') throw badRequest(`Input "${name}" has no "datatype".`, { field: name });
    const datatype = t.datatype.toUpperCase();
    if (t.data === undefined) throw badRequest(`Input "${name}" has no "data".`, { field: name });
    const data = flatten(t.data, name);
    if (data.length !== n) throw badRequest(`Input "${name}": shape ${shown(shape)} needs ${n} values, "data" has ${data.length}.`, { field: name });
    if (rows === -1) {
      rows = n;
      rowsFrom = name;
    } else if (n !== rows) {
      throw badRequest(`Input "${name}" has ${n} rows but "${rowsFrom}" has ${rows}: every input needs one value per row.`, { field: name });
    }
    if (isTime) {
      times = data.map((v, e) => {
        const x = timeOf(v);
        if (x === undefined) throw badRequest(`Input "${name}", element ${e}: a timestamp must be a number or text of at most 64 characters, got ${shown(v)}.`, { field: name });
        return x;
      });
      return;
    }
    const input = model.inputs[j];
    if (input.type === 'string') {
      if (datatype !== 'BYTES') throw badRequest(`Input "${name}" is a category: its datatype must be BYTES (text), got ${t.datatype}.`, { field: name });
      cols[j] = data.map((v, e) => {
        if (v === null) return '';
        if (typeof v !== 'string') throw badRequest(`Input "${name}", element ${e}: BYTES values must be text, got ${shown(v)}.`, { field: name });
        return v;
      });
      return;
    }
    if (!NUMERIC_TYPES.has(datatype)) throw badRequest(`Input "${name}" holds numbers: its datatype must be FP32, FP64, INT32, INT64 or BOOL, got ${t.datatype}.`, { field: name });
    const out = new Float32Array(n);
    for (let e = 0; e < n; e++) {
      const x = tensorNumber(data[e], datatype);
      if (x === undefined) throw badRequest(`Input "${name}", element ${e}: ${shown(data[e])} is not a ${datatype} value.`, { field: name });
      out[e] = x;
    }
    cols[j] = out;
  });
  const missing = model.inputs.filter((_, j) => cols[j] === undefined).map((i) => i.name);
  if (missing.length) throw badRequest(`Input "${missing[0]}" is missing${missing.length > 1 ? ` (and ${missing.length - 1} more)` : ''}; model "${model.name}" needs: ${listOf(model.inputs.map((i) => i.name))}.`, { field: missing[0] });
  let outputs = model.outputs.map((o) => o.name);
  if (b.outputs !== undefined) {
    if (!Array.isArray(b.outputs)) throw badRequest('"outputs" must be a list of {"name"}.', { field: 'outputs' });
    outputs = b.outputs.map((o, k) => {
      const name = o && typeof o === 'object' ? o.name : undefined;
      if (typeof name !== 'string') throw badRequest(`outputs[${k}] has no "name".`, { field: `outputs[${k}].name` });
      if (!model.outputs.some((x) => x.name === name)) throw badRequest(`"${name}" is not an output of model "${model.name}". Its outputs are: ${model.outputs.map((x) => x.name).join(', ')}.`, { field: name });
      return name;
    });
  }
  return {
    id: /** @type {string | undefined} */ (b.id),
    source,
    n: rows,
    cols: /** @type {import('./model').Columns} */ (cols),
    times: times ?? new Array(rows).fill(null),
    outputs,
  };
}

/** One element of a numeric tensor; missing values may come as null or "NaN" in float types. */
function tensorNumber(v, datatype) {
  if (datatype === 'BOOL') {
    if (typeof v === 'boolean') return Number(v);
    return v === 0 || v === 1 ? v : undefined;
  }
  if (datatype.startsWith('FP')) {
    if (typeof v === 'number') return v;
    if (v === null) return NaN;
    if (typeof v === 'string' && NON_FINITE.has(v)) return NON_FINITE.get(v);
    return undefined;
  }
  if (typeof v === 'number' && Number.isInteger(v) && (!datatype.startsWith('U') || v >= 0)) return v;
  return undefined;
}

/** Nested lists to one flat list, row-major, without recursion (a deep nesting cannot overflow the stack). */
function flatten(data, name) {
  if (!Array.isArray(data)) return [data];
  const out = [];
  const stack = [[data, 0]];
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [arr, i] = top;
    if (i >= arr.length) {
      stack.pop();
      continue;
    }
    top[1] = i + 1;
    const v = arr[i];
    if (Array.isArray(v)) stack.push([v, 0]);
    else if (v !== null && typeof v === 'object') throw badRequest(`Input "${name}": "data" must hold values or lists of values, not objects.`, { field: name });
    else out.push(v);
  }
  return out;
}

module.exports = { predictRows, inferRequest, toJsonNumber, fromJsonNumber, numberOf, textOf };
