/** Small helpers every benchmark script shares. */

/** Progress on stderr, so stdout stays the JSON result. */
export const log = (msg: string): void => {
  process.stderr.write(`[bench] ${msg}\n`);
};

/** A whole-number setting from the environment, or `def` when unset or out of range. */
export function envInt(name: string, def: number, min: number, max: number): number {
  const v = Number(process.env[name] ?? def);
  return Number.isInteger(v) && v >= min && v <= max ? v : def;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export const round = (x: number, digits = 3): number => Number(x.toFixed(digits));

/** Seeded PRNG (mulberry32): generated files are the same on every machine. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
