'use strict';
/**
 * bench/serve's floor: the least any Node endpoint must do to answer a
 * single-row /predict with this bundle's model, and nothing more. node:http,
 * a plain comparison of the Authorization header, JSON.parse, the row's
 * numbers into columns, the edge runtime's own ONNX Runtime engine (a worker
 * thread, calls that arrive while a run is in flight scored together as one
 * run), and the answer's JSON. No checks of the fields, no metrics, no
 * monitoring, no state: its requests per second are the ceiling that ONNX
 * Runtime and HTTP leave the real endpoint on this machine.
 *
 *   node bench/lib/floor-server.cjs BUNDLE_DIR TOKEN   → prints {"listening": {port}}
 */
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const [dir, token] = process.argv.slice(2);
const { openEngine } = require(path.join(dir, 'runtime', 'lib', 'scorer.js'));
const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
const { inputs, outputs, classes = [] } = manifest.signature;
if (inputs.some((i) => i.type !== 'float32') || !outputs.some((o) => o.name === 'label') || !outputs.some((o) => o.name === 'probabilities')) {
  throw new Error('the floor server answers classifiers on numeric inputs only');
}
const authorization = `Bearer ${token}`;

openEngine(fs.readFileSync(path.join(dir, 'model.onnx')), inputs, outputs, 'worker').then((engine) => {
  /** @type {{ row: Record<string, number>, res: http.ServerResponse }[]} */
  let waiting = [];
  let running = false;

  async function drain() {
    running = true;
    while (waiting.length) {
      const batch = waiting;
      waiting = [];
      const n = batch.length;
      const cols = inputs.map((input) => {
        const c = new Float32Array(n);
        for (let i = 0; i < n; i++) c[i] = batch[i].row[input.name];
        return c;
      });
      const out = await engine.run([cols], n);
      const w = classes.length || 2;
      for (let i = 0; i < n; i++) {
        const probabilities = {};
        for (let k = 0; k < w; k++) probabilities[classes[k] ?? String(k)] = out.probabilities[i * w + k];
        const text = JSON.stringify({ predictions: [{ prediction: out.label[i], probabilities }] });
        batch[i].res.writeHead(200, ['Content-Type', 'application/json; charset=utf-8', 'Content-Length', String(Buffer.byteLength(text))]);
        batch[i].res.end(text);
      }
    }
    running = false;
  }

  const server = http.createServer((req, res) => {
    if (req.headers.authorization !== authorization) {
      res.writeHead(401).end();
      return;
    }
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      waiting.push({ row: JSON.parse(Buffer.concat(chunks).toString('utf8')), res });
      if (!running) {
        running = true;
        setImmediate(() => void drain());
      }
    });
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ listening: server.address() }) + '\n'));
});
