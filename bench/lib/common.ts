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

/**
 * One row of the generated sensor data of bench/infer and bench/serve: twenty
 * standard normal draws (Box–Muller) into `z`, then the 0/1 failure label,
 * drawn from the logistic of a nonlinear rule on the first six.
 */
export function sensorRow(rand: () => number, z: Float64Array): 0 | 1 {
  const normal = () => {
    let u = rand();
    while (u === 0) u = rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
  };
  for (let j = 0; j < z.length; j++) z[j] = normal();
  const f = 1.1 * z[0]! * z[1]! + (z[2]! > 0.6 ? 1.3 : 0) - 0.9 * z[3]! + Math.sin(2 * z[4]!) + 0.5 * z[5]! * z[5]!;
  return rand() < 1 / (1 + Math.exp(-(1.5 * f - 2))) ? 1 : 0;
}

/** The value a generated sensor column j holds for the normal draw z. */
export const sensorValue = (j: number, z: number): number => 50 + 10 * (j % 3) + z * (1 + (j % 4));
