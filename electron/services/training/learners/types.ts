/**
 * The contract every learner follows (DESIGN.md section 6).
 *
 * Features are column-major Float64Arrays, NaN for missing. Learners see values
 * with float32 semantics (the ONNX graph of the next issue takes float32
 * inputs), so tree thresholds are float32-exact and a row goes left when
 * `Math.fround(x) <= threshold`. Fitted models are plain JSON (numbers and
 * arrays only, no typed arrays) so that the same fit always serialises to the
 * same bytes and maps one-to-one onto ONNX operators.
 */

/** Column-major numeric features; NaN means missing. */
export interface Features {
  rows: number;
  /** columns[j][i] is feature j of row i. Every column has `rows` entries. */
  columns: Float64Array[];
  names: string[];
}

/**
 * A tree in flat arrays, the shape of ONNX's TreeEnsemble attributes.
 * Node 0 is the root. Leaves have feature -1.
 */
export interface TreeNodes {
  feature: number[];
  /** Float32-exact. A row goes left when Math.fround(x) <= threshold. */
  threshold: number[];
  /** 1 when a missing value (NaN) goes left, 0 when it goes right. */
  missingLeft: number[];
  left: number[];
  right: number[];
  /** `outputs` values per node (leaves only; inner nodes hold zeros). */
  value: number[];
  /** How many values each leaf holds (1, or the class count for forests). */
  outputs: number;
}

/** Asked often from inside long fits: lets a job report progress and stop. */
export interface FitHooks {
  /** Fraction 0..1 of this fit done. */
  progress?(fraction: number): void;
  /** Throws when the user cancelled. */
  checkCancelled?(): void;
}
