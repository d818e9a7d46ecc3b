'use strict';
/**
 * ONNX Runtime for one model: the engine LoadedModel runs its batches on.
 *
 * By default the session lives in a worker thread of its own. onnxruntime-node
 * runs a session on the thread that calls it, so on the main thread every run
 * (about 150 µs for a 300-tree model, however few rows) stops the endpoint from
 * reading and answering requests. In a worker, the main thread keeps parsing
 * requests while a batch is scored, and those requests form the next batch.
 *
 * Inside the thread that owns it, the session is called through the native
 * session that onnxruntime-node's public API wraps, when it has the shape of
 * the pinned version: the public run() defers every call to a later turn of
 * the event loop (setImmediate) and then runs on that thread all the same.
 */
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');
const ort = require('onnxruntime-node');

/** How long a released worker has to free its session and end before it is stopped. */
const RELEASE_GRACE_MS = 2000;

/** One thread per run: batching, not threads inside a run, is what keeps the cores busy. */
const SESSION_OPTIONS = { intraOpNumThreads: 1, interOpNumThreads: 1 };

/**
 * @typedef {{ name: string, type: 'float32' | 'string' }} EngineInput
 * @typedef {{ name: string }} EngineOutput
 * @typedef {Record<string, Float32Array | BigInt64Array | string[]>} EngineOutputs
 * @typedef {(Float32Array | string[])[]} Columns
 * @typedef {{ kind: 'worker' | 'direct' | 'public', run: (parts: Columns[], total: number) => EngineOutputs | Promise<EngineOutputs>, release: () => void, exited?: Promise<number> }} Engine
 * run: the rows of `parts` (each a call's columns, in input order) back to back, `total` in all.
 */

/** The native session under the public API, or null when it is not the shape of the pinned version. */
function nativeSession(bytes) {
  try {
    const { binding, initOrt } = require('onnxruntime-node/dist/binding');
    if (typeof initOrt !== 'function' || typeof binding?.InferenceSession !== 'function') return null;
    initOrt();
    const native = new binding.InferenceSession();
    native.loadModel(bytes.buffer, bytes.byteOffset, bytes.byteLength, SESSION_OPTIONS);
    if (typeof native.run !== 'function' || typeof native.dispose !== 'function') return null;
    return native;
  } catch {
    return null;
  }
}

/**
 * A session in this thread: synchronous runs through the native session
 * when `direct` and it is available, else the public API.
 * @param {Uint8Array} bytes
 * @param {EngineInput[]} inputs
 * @param {EngineOutput[]} outputs
 * @param {boolean} direct
 * @returns {Promise<Engine>}
 */
async function openHere(bytes, inputs, outputs, direct) {
  /** @param {Columns[]} parts */
  const feeds = (parts, total) => {
    /** @type {Record<string, ort.Tensor>} */
    const f = {};
    inputs.forEach((input, j) => {
      f[input.name] = new ort.Tensor(input.type, parts.length === 1 ? parts[0][j] : joined(parts.map((p) => p[j]), total, input.type), [total]);
    });
    return f;
  };
  const pick = (out) => Object.fromEntries(outputs.map((o) => [o.name, out[o.name].data]));
  const native = direct ? nativeSession(bytes) : null;
  if (native) {
    const fetches = Object.fromEntries(outputs.map((o) => [o.name, null]));
    return { kind: 'direct', run: (parts, total) => pick(native.run(feeds(parts, total), fetches, {})), release: () => native.dispose() };
  }
  const session = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);
  return { kind: 'public', run: async (parts, total) => pick(await session.run(feeds(parts, total))), release: () => void session.release().catch(() => undefined) };
}

/**
 * A session in a worker thread of its own; runs are answered in the order
 * they are asked. Resolves once the worker has loaded the model.
 * @param {Uint8Array} bytes
 * @param {EngineInput[]} inputs
 * @param {EngineOutput[]} outputs
 * @returns {Promise<Engine>}
 */
function openWorker(bytes, inputs, outputs) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(__filename, { workerData: { scorer: { bytes, inputs: inputs.map((i) => ({ name: i.name, type: i.type })), outputs: outputs.map((o) => ({ name: o.name })) } } });
    /** The worker's exit code once it has ended (0: it freed its session and ended by itself). */
    const exited = new Promise((done) => worker.once('exit', done));
    /** @type {Map<number, { resolve: (o: EngineOutputs) => void, reject: (e: Error) => void }>} */
    const pending = new Map();
    let next = 0;
    const numeric = inputs.filter((i) => i.type !== 'string').length;
    let broken = null;
    let released = false;
    const fail = (e) => {
      broken = e;
      for (const p of pending.values()) p.reject(e);
      pending.clear();
      reject(e);
    };
    worker.on('error', (e) => fail(new Error(`ONNX Runtime's worker thread failed: ${e.message}`)));
    const stopped = (code) => fail(new Error(`ONNX Runtime's worker thread stopped (exit code ${code}).`));
    worker.on('exit', stopped);
    worker.on('message', (m) => {
      if (m.ready) {
        worker.unref();
        resolve({
          kind: 'worker',
          exited,
          run(parts, total) {
            if (broken) return Promise.reject(broken);
            const id = next++;
            // A run in flight keeps the process alive; an idle worker does not.
            if (pending.size === 0) worker.ref();
            // Every number in one buffer that moves to the worker: a message of many small arrays costs more than the run saves.
            const numbers = new Float32Array(numeric * total);
            /** @type {string[][]} */
            const texts = [];
            let at = 0;
            inputs.forEach((input, j) => {
              if (input.type === 'string') texts.push(/** @type {string[]} */ (parts.length === 1 ? parts[0][j] : joined(parts.map((p) => p[j]), total, 'string')));
              else {
                for (const p of parts) {
                  numbers.set(/** @type {Float32Array} */ (p[j]), at);
                  at += p[j].length;
                }
              }
            });
            worker.postMessage({ id, total, numbers, texts }, [numbers.buffer]);
            return new Promise((res, rej) => pending.set(id, { resolve: res, reject: rej }));
          },
          release() {
            if (released) return;
            released = true;
            worker.off('exit', stopped);
            // Runs asked before the release are answered first (the worker takes messages in order); later ones are refused at once.
            const closed = new Error('The model was closed (replaced or its endpoint stopped) before this run.');
            broken = closed;
            // The worker frees the native session itself and ends: ONNX Runtime's memory goes back at once, not whenever the thread's teardown gets to it.
            worker.postMessage({ release: true });
            const stop = setTimeout(() => void worker.terminate(), RELEASE_GRACE_MS);
            stop.unref();
            worker.once('exit', () => {
              clearTimeout(stop);
              // A run the worker never answered (it was stopped) still settles.
              for (const p of pending.values()) p.reject(closed);
              pending.clear();
            });
          },
        });
        return;
      }
      if (m.failed) {
        fail(new Error(m.failed));
        return;
      }
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (pending.size === 0) worker.unref();
      if (m.error) p?.reject(new Error(m.error));
      else p?.resolve(m.outputs);
    });
  });
}

/**
 * Opens the engine of one model: in a worker thread by default ('worker'),
 * or in this thread ('direct': the native session, 'public': the public API).
 * @param {Uint8Array} bytes
 * @param {EngineInput[]} inputs
 * @param {EngineOutput[]} outputs
 * @param {'worker' | 'direct' | 'public'} [kind]
 * @returns {Promise<Engine>}
 */
function openEngine(bytes, inputs, outputs, kind = 'worker') {
  return kind === 'worker' ? openWorker(bytes, inputs, outputs) : openHere(bytes, inputs, outputs, kind === 'direct');
}

// The worker thread: loads the model, then answers { id, total, numbers, texts } with { id, outputs } or { id, error }.
if (!isMainThread && workerData && workerData.scorer && parentPort) {
  const port = parentPort;
  const { bytes, inputs, outputs } = workerData.scorer;
  openHere(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), inputs, outputs, true).then(
    (engine) => {
      port.on('message', async ({ id, total, numbers, texts, release }) => {
        if (release) {
          engine.release();
          port.close();
          return;
        }
        try {
          let at = 0;
          let t = 0;
          const cols = inputs.map((input) => (input.type === 'string' ? texts[t++] : numbers.subarray(at, (at += total))));
          port.postMessage({ id, outputs: await engine.run([cols], total) });
        } catch (e) {
          port.postMessage({ id, error: e && e.message ? e.message : String(e) });
        }
      });
      port.postMessage({ ready: true });
    },
    (e) => port.postMessage({ failed: `ONNX Runtime cannot load the model in its worker thread: ${e && e.message ? e.message : String(e)}` }),
  );
}

/** One column of several calls' rows, back to back. */
function joined(parts, rows, type) {
  if (type === 'string') return /** @type {string[]} */ ([]).concat(...parts);
  const out = new Float32Array(rows);
  let at = 0;
  for (const p of parts) {
    out.set(/** @type {Float32Array} */ (p), at);
    at += p.length;
  }
  return out;
}

module.exports = { openEngine, SESSION_OPTIONS };
