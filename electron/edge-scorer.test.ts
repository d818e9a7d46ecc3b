import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { exportOnnx, onnxSignature } from './services/onnx/export';
import { plantFrame, settings, train } from './services/onnx/parity-harness';
import { NO_TIME } from './test-support/edge-child';

/** The edge runtime's own scorer (plain CommonJS), run in this process. */
const { openEngine } = createRequire(import.meta.url)('../resources/runtime/lib/scorer.js') as {
  openEngine: (
    bytes: Uint8Array,
    inputs: { name: string; type: string }[],
    outputs: { name: string }[],
    kind?: string,
  ) => Promise<{ kind: string; run: (parts: unknown[][], total: number) => Promise<Record<string, ArrayLike<unknown>>>; release: () => void; exited?: Promise<number> }>;
};

describe('the edge runtime scorer', () => {
  it('a released worker frees its session and ends by itself (exit code 0, not stopped), so each hot swap gives its memory back at once', async () => {
    const p = train(plantFrame(200), settings('binary', NO_TIME), [{ algorithm: 'hgb', params: { maxIter: 10, learningRate: 0.1, maxLeafNodes: 15, minSamplesLeaf: 10, l2: 0, balanced: false } }]);
    const sig = onnxSignature(p);
    const bytes = exportOnnx(p, { modelName: 'm', modelVersion: 1, appVersion: 't' });
    for (let round = 0; round < 3; round++) {
      const engine = await openEngine(bytes, sig.inputs, sig.outputs, 'worker');
      expect(engine.kind).toBe('worker');
      const cols = sig.inputs.map((i) => (i.type === 'string' ? ['a'] : Float32Array.of(1)));
      const out = await engine.run([cols], 1);
      expect(Object.keys(out).sort()).toEqual(sig.outputs.map((o) => o.name).sort());
      const t0 = Date.now();
      engine.release();
      expect(await engine.exited).toBe(0);
      expect(Date.now() - t0, 'well before the 2 s after which it would be stopped').toBeLessThan(1500);
    }
  });

  it('answers a run asked before the release, refuses one asked after it at once, and takes a second release quietly', async () => {
    const p = train(plantFrame(200), settings('binary', NO_TIME), [{ algorithm: 'hgb', params: { maxIter: 10, learningRate: 0.1, maxLeafNodes: 15, minSamplesLeaf: 10, l2: 0, balanced: false } }]);
    const sig = onnxSignature(p);
    const engine = await openEngine(exportOnnx(p, { modelName: 'm', modelVersion: 1, appVersion: 't' }), sig.inputs, sig.outputs, 'worker');
    const cols = sig.inputs.map((i) => (i.type === 'string' ? ['a'] : Float32Array.of(1)));
    const settle = (run: Promise<unknown>) =>
      Promise.race([run.then(() => 'answered', (e: Error) => `refused: ${e.message}`), new Promise((r) => setTimeout(() => r('no answer in 3 s'), 3000))]);
    const before = settle(engine.run([cols], 1));
    engine.release();
    const after = settle(engine.run([cols], 1));
    expect(await before).toBe('answered');
    expect(await after).toBe('refused: The model was closed (replaced or its endpoint stopped) before this run.');
    engine.release();
    expect(await engine.exited).toBe(0);
  });
});
