/**
 * Drift of live inputs against the training profile, from counts per profile
 * bin (all an edge sends: the rows stay in the plant).
 *
 * Every statistic is the one scipy computes on the samples the counts stand
 * for, each value represented by its bin (numbers: by the mean of the values
 * in that bin, where the statistic needs a position):
 *
 * - PSI, Σ (r − c)·ln(r/c) over the bins' shares. An empty bin's share is
 *   raised to a floor, as Evidently's get_binned_data does: 0.0001, or a
 *   millionth of the smallest non-empty share when that share is itself at
 *   most 0.0001 (so an empty bin stays below every non-empty one). Bins empty
 *   on both sides are left out, as Evidently keeps only values seen on a side.
 * - The test, chosen by the reference's size as Evidently does by default:
 *   at most 1000 training rows → two-sample Kolmogorov–Smirnov for numbers
 *   (scipy.stats.ks_2samp, method 'auto') or chi-squared for categories and
 *   for numbers whose training values fill at most 5 bins, drift at p < 0.05;
 *   more rows → Wasserstein distance over the reference's standard deviation
 *   (at least 0.001) for numbers, Jensen–Shannon distance (natural log, shares
 *   floored as for PSI) for categories and for numbers filling at most 5
 *   bins, drift at ≥ 0.1. (Evidently's z-test for two-valued columns is
 *   replaced by chi-squared: the contract names four tests.)
 * - Chi-squared is the two-sample test (scipy.stats.chi2_contingency of the
 *   training and live counts, correction=False), not Evidently's chisquare of
 *   the live counts against the training shares: that one takes the shares of
 *   a few hundred training rows as exact, and called 44–100% of
 *   same-distribution samples of 1,000–10,000 live rows 'changed' against 800
 *   training rows. Bins expecting fewer than 5 rows on either side are pooled
 *   into one first (Cochran's rule; pooledBins), as sparse bins make the test
 *   call up to 12% of such samples 'changed' instead of 5%.
 * - Too few live rows for a distance (the fallback): a sample drawn from the
 *   training distribution itself lies at a distance that shrinks only as
 *   1/√rows, so at a few hundred rows it passes 0.1 by chance alone (measured
 *   against 20,000 training rows: 30 rows → Wasserstein ≥ 0.1 in 100% of
 *   samples, 300 → 27%, 600 → 9%). Below the rows at which such a sample stays
 *   under 0.1 in at least 99.9% of draws (WASSERSTEIN_MIN_ROWS,
 *   JENSEN_SHANNON_MIN_ROWS, measured by simulation in drift.test.ts over
 *   several shapes, 10 bins and up to 22), the input is tested as a small
 *   reference would be: KS or chi-squared at p < 0.05, which holds its false
 *   alarms at 5% whatever the rows. The rows compared are the effective
 *   sample size live·training/(live + training), since the training sample
 *   is itself a sample; the input's `test` says which test judged it.
 * - Positions for Wasserstein: training, the profile's per-bin means; live,
 *   the edge's per-bin sum over the bin's count (±Infinity count but add
 *   nothing), kept inside the bin. A bin without them sits at the training
 *   mean, else at its middle (the end bins at their edge); a profile without
 *   `std` (made before monitoring) takes the spread of its bins' positions.
 * - Missing values: PSI and Jensen–Shannon count them as one more bin when
 *   either side has any (an input going blank is drift a plant engineer
 *   wants to see; Evidently drops them first). KS, chi-squared and
 *   Wasserstein use the values only.
 *
 * Verdicts: `changed` when the test finds drift; `watch` when it does not but
 * the statistic is past half its threshold (p < 0.1; distance ≥ 0.05 over at
 * least 4 × its floor of effective rows) or PSI ≥ 0.1 over at least
 * PSI_MIN_ROWS effective rows; `stable` otherwise;
 * `unknown` with fewer than MIN_ROWS live rows.
 * When the rows are there but fewer than MIN_ROWS carry a value, the values
 * cannot be tested and the verdict is PSI's alone (≥ 0.25 changed, the usual
 * "significant shift" mark; ≥ 0.1 watch).
 *
 * The model's verdict tests many inputs at once, so one input at p < 0.05
 * turns up by chance in most windows of a model with a dozen inputs. An input
 * tested by p-value counts as changed for the model only at p < 0.01 / (the
 * inputs judged) (Bonferroni: the model is called changed by chance at most
 * 1% of the time); a distance past its floor already stays under 0.1 by
 * chance in 99.9% of windows. The issue's rule sits on top: changed when at
 * least half the inputs, or any of the three most important, changed in that
 * sense. A heat-map cell is red on the same terms (slotVerdict).
 */
import type { Drift, DriftTest, DriftVerdict, InputDrift } from '../../../shared/monitor';
import type { InputProfile, NumericProfile } from '../deploy/profile';
import { chiSquareTwoSample, jensenShannon, ks2Samp, wasserstein } from './stat-tests';

/** Live counts of one input over its profile's bins (what an edge bucket's features[input] holds, summed over buckets). */
export interface BinCounts {
  counts: number[];
  missing: number;
  /** Numeric inputs: the sum of the finite values in each bin (edges from before monitoring do not send it). */
  sums?: number[];
}

/**
 * Fewer live rows than this → verdict `unknown`. 30 is the usual floor for a
 * two-sample test to mean anything (the exact KS test cannot reach p < 0.05
 * against 1000 training rows with fewer than about 8 live rows, and a
 * histogram of 10 bins is noise below a few dozen).
 */
export const MIN_ROWS = 30;
/** Evidently's switch from p-value tests to distances: references larger than this. */
export const SMALL_REFERENCE_ROWS = 1000;
/**
 * Effective rows (see effectiveRows) from which a distance judges an input;
 * below, KS or chi-squared does (see the file's comment). Measured by
 * simulation (drift.test.ts): the rows at which the normalised Wasserstein
 * distance of a sample drawn from the training distribution itself stays
 * under 0.1 in 99.9% of draws for normal, skewed (lognormal σ = 1.5),
 * uniform, two-peaked and exponential values over 10 decile bins (1,000–2,000
 * rows; 1,000 gives ≥ 0.1 in up to 1.3% of draws); for Jensen–Shannon, up to
 * 22 bins (20 categories, other, missing: about 600 rows; 10 bins: 400).
 */
export const WASSERSTEIN_MIN_ROWS = 2000;
export const JENSEN_SHANNON_MIN_ROWS = 700;
/** The model's verdict is 'changed' by chance (its inputs drawn from training) at most this often: see countsForModel. */
export const MODEL_FALSE_ALARM = 0.01;
export const P_VALUE_DRIFT = 0.05;
export const DISTANCE_DRIFT = 0.1;
export const PSI_WATCH = 0.1;
/** PSI marking a shift by itself (used only when too few rows carry a value to test). */
export const PSI_CHANGED = 0.25;
/**
 * Effective rows from which PSI ≥ 0.1 puts an input on watch. Below, a
 * sample of the training distribution itself passes 0.1 by chance (an empty
 * decile alone adds 0.1·ln 1000 ≈ 0.7): measured, 10 decile bins pass it in
 * 40% of 100-row samples and 2% of 200-row ones, 21 categories in 99% of
 * 100-row, 17% of 300-row and none of 600-row samples.
 */
export const PSI_MIN_ROWS = 600;
/** Numbers whose training values fill at most this many bins are tested as categories (Evidently: ≤ 5 distinct values). */
const FEW_VALUES = 5;
/** Evidently's floor for the reference's standard deviation in the normed Wasserstein distance. */
const MIN_STD = 0.001;

/** Adds `add` into `into` (changed in place and returned; a copy of `add` when `into` is undefined). Sums stay only while every part has them; a part over other bins (another profile) is left out. */
export function mergeBinCounts(into: BinCounts | undefined, add: BinCounts): BinCounts {
  if (!into) return { counts: [...add.counts], missing: add.missing, ...(add.sums ? { sums: [...add.sums] } : {}) };
  if (into.counts.length !== add.counts.length) return into;
  for (let i = 0; i < add.counts.length; i++) into.counts[i]! += add.counts[i]!;
  into.missing += add.missing;
  if (into.sums && add.sums && add.sums.length === into.sums.length) {
    for (let i = 0; i < add.sums.length; i++) into.sums[i]! += add.sums[i]!;
  } else delete into.sums;
  return into;
}

/** Shares of the total, empty ones raised to Evidently's floor. */
function flooredShares(counts: readonly number[]): number[] {
  let total = 0;
  for (const c of counts) total += c;
  const shares = counts.map((c) => c / total);
  let min = Infinity;
  for (const s of shares) if (s > 0 && s < min) min = s;
  const floor = min <= 0.0001 ? min / 1e6 : 0.0001;
  return shares.map((s) => (s === 0 ? floor : s));
}

/** The two count vectors without the bins both leave empty. */
function seenBins(a: readonly number[], b: readonly number[]): [number[], number[]] {
  const x: number[] = [], y: number[] = [];
  for (let i = 0; i < a.length; i++) {
    if (a[i]! > 0 || (b[i] ?? 0) > 0) {
      x.push(a[i]!);
      y.push(b[i] ?? 0);
    }
  }
  return [x, y];
}

/**
 * Population stability index of `current` against `reference`, both counts
 * over the same bins: Σ (r − c)·ln(r/c) over floored shares (see the file's
 * comment). NaN when either side counts nothing.
 */
export function psi(reference: readonly number[], current: readonly number[]): number {
  const [r0, c0] = seenBins(reference, current);
  if (!r0.some((n) => n > 0) || !c0.some((n) => n > 0)) return NaN;
  const r = flooredShares(r0), c = flooredShares(c0);
  let sum = 0;
  for (let i = 0; i < r.length; i++) sum += (r[i]! - c[i]!) * Math.log(r[i]! / c[i]!);
  return sum;
}

/** Jensen–Shannon distance between two count vectors over the same bins, shares floored as Evidently does; NaN when either side counts nothing. */
export function jsDistance(reference: readonly number[], current: readonly number[]): number {
  const [r0, c0] = seenBins(reference, current);
  if (!r0.some((n) => n > 0) || !c0.some((n) => n > 0)) return NaN;
  return jensenShannon(flooredShares(r0), flooredShares(c0));
}

/** The test Evidently picks by default for a reference of `rows` rows. */
export function chooseTest(ref: InputProfile, referenceRows: number): DriftTest {
  const small = referenceRows <= SMALL_REFERENCE_ROWS;
  const fewValues = ref.kind === 'category' || ref.counts.filter((c) => c > 0).length <= FEW_VALUES;
  if (fewValues) return small ? 'chi2' : 'jensenshannon';
  return small ? 'ks' : 'wasserstein';
}

/** The effective sample size of two samples compared: live·training/(live + training) (both count: the training rows are a sample too). */
export function effectiveRows(liveRows: number, referenceRows: number): number {
  return liveRows > 0 && referenceRows > 0 ? (liveRows * referenceRows) / (liveRows + referenceRows) : 0;
}

/** Effective rows a distance needs to judge by itself (Infinity for the p-value tests, which need none beyond MIN_ROWS). */
export function distanceMinRows(test: DriftTest): number {
  return test === 'wasserstein' ? WASSERSTEIN_MIN_ROWS : test === 'jensenshannon' ? JENSEN_SHANNON_MIN_ROWS : 0;
}

/**
 * The test that judges `liveRows` live values of an input: Evidently's
 * choice (chooseTest), except a distance with fewer effective rows than its
 * floor falls back to KS (numbers) or chi-squared (see the file's comment).
 */
export function judgingTest(ref: InputProfile, referenceRows: number, liveRows: number): DriftTest {
  const test = chooseTest(ref, referenceRows);
  if (test !== 'wasserstein' && test !== 'jensenshannon') return test;
  if (effectiveRows(liveRows, referenceRows) >= distanceMinRows(test)) return test;
  return test === 'wasserstein' ? 'ks' : 'chi2';
}

/** Where a bin's values sit when nothing better is known: its middle, or its edge for the two open end bins. */
function binMiddle(edges: readonly number[], b: number): number {
  if (!edges.length) return 0;
  if (b === 0) return edges[0]!;
  if (b >= edges.length) return edges[edges.length - 1]!;
  return (edges[b - 1]! + edges[b]!) / 2;
}

/** The training values' position in each bin: the profile's mean, else the bin's middle. */
export function referencePoints(ref: NumericProfile): number[] {
  return ref.counts.map((_, b) => ref.means?.[b] ?? binMiddle(ref.edges, b));
}

/**
 * The live values' position in each bin: their mean (sums/counts), kept
 * inside the bin (±Infinity count in an end bin but add nothing to its sum),
 * else the training position.
 */
export function livePoints(ref: NumericProfile, cur: BinCounts, refPoints = referencePoints(ref)): number[] {
  const e = ref.edges;
  return ref.counts.map((_, b) => {
    const n = cur.counts[b]!;
    const s = cur.sums?.[b];
    if (!(n > 0) || s === undefined || !Number.isFinite(s)) return refPoints[b]!;
    let x = s / n;
    if (b > 0 && x < e[b - 1]!) x = e[b - 1]!;
    if (b < e.length && x > e[b]!) x = e[b]!;
    return x;
  });
}

/** The reference's standard deviation: the profile's, else the spread of its bins' positions. */
function referenceStd(ref: NumericProfile, points: readonly number[]): number {
  if (ref.std !== undefined && Number.isFinite(ref.std)) return ref.std;
  let n = 0, mean = 0;
  ref.counts.forEach((c, b) => { n += c; mean += c * points[b]!; });
  if (!n) return 0;
  mean /= n;
  let v = 0;
  ref.counts.forEach((c, b) => { v += c * (points[b]! - mean) ** 2; });
  return Math.sqrt(v / n);
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

export interface TestOutcome {
  statistic: number | null;
  /** KS and chi-squared only. */
  pValue: number | null;
}

/** Fewest rows a bin should expect on each side for chi-squared (Cochran's rule). */
const CHI2_MIN_EXPECTED = 5;

/**
 * The two count vectors with the bins expecting fewer than 5 rows on either
 * side (bin total × that side's share of all rows) pooled into one bin, put
 * last; a pool still expecting fewer than 5 joins the smallest other bin.
 * Bins empty on both sides go.
 */
export function pooledBins(a: readonly number[], b: readonly number[]): [number[], number[]] {
  const n1 = sum(a), n2 = sum(b);
  const share = Math.min(n1, n2) / (n1 + n2 || 1);
  const x: number[] = [], y: number[] = [];
  let px = 0, py = 0;
  for (let i = 0; i < a.length; i++) {
    const t = a[i]! + (b[i] ?? 0);
    if (t <= 0) continue;
    if (t * share >= CHI2_MIN_EXPECTED) {
      x.push(a[i]!);
      y.push(b[i] ?? 0);
    } else {
      px += a[i]!;
      py += b[i] ?? 0;
    }
  }
  if (px + py > 0) {
    if ((px + py) * share >= CHI2_MIN_EXPECTED || !x.length) {
      x.push(px);
      y.push(py);
    } else {
      let j = 0;
      for (let i = 1; i < x.length; i++) if (x[i]! + y[i]! < x[j]! + y[j]!) j = i;
      x[j]! += px;
      y[j]! += py;
    }
  }
  return [x, y];
}

/** Profile and live bins, with one more for missing values when either side has any (PSI and Jensen–Shannon). */
function withMissingBin(ref: InputProfile, cur: BinCounts): [number[], number[]] {
  return ref.missing > 0 || cur.missing > 0 ? [[...ref.counts, ref.missing], [...cur.counts, cur.missing]] : [ref.counts, cur.counts];
}

/** One test's statistic (and p-value) for an input, whichever test the reference size would choose; nulls when a side has no values. */
export function testStatistic(test: DriftTest, ref: InputProfile, cur: BinCounts): TestOutcome {
  if (test === 'wasserstein' && ref.kind !== 'numeric') throw new Error(`The Wasserstein distance needs a numeric input; ${ref.name} holds categories.`);
  switch (test) {
    case 'ks': {
      const r = ks2Samp(ref.counts, cur.counts);
      return r ? { statistic: r.statistic, pValue: r.pValue } : { statistic: null, pValue: null };
    }
    case 'chi2': {
      const res = chiSquareTwoSample(...pooledBins(ref.counts, cur.counts));
      return res ? { statistic: res.statistic, pValue: res.pValue } : { statistic: null, pValue: null };
    }
    case 'wasserstein': {
      const num = ref as NumericProfile;
      const rp = referencePoints(num);
      const d = wasserstein(rp, livePoints(num, cur, rp), num.counts, cur.counts);
      return { statistic: d === null ? null : d / Math.max(referenceStd(num, rp), MIN_STD), pValue: null };
    }
    case 'jensenshannon': {
      const d = jsDistance(...withMissingBin(ref, cur));
      return { statistic: Number.isNaN(d) ? null : d, pValue: null };
    }
  }
}

/**
 * The verdict from a test's outcome and PSI (see the file's comment). A
 * distance at half its threshold means watch only over `rows` ≥ 4 × its floor
 * (effective rows; chance distances shrink as 1/√rows, so half the distance
 * needs four times the rows to stand out): 20 categories at 1,000 rows pass
 * 0.05 by chance in half the samples.
 */
export function testVerdict(test: DriftTest, statistic: number | null, pValue: number | null, psiValue: number | null, rows = Infinity): DriftVerdict {
  const byPValue = test === 'ks' || test === 'chi2';
  const drift = byPValue ? pValue !== null && pValue < P_VALUE_DRIFT : statistic !== null && statistic >= DISTANCE_DRIFT;
  if (drift) return 'changed';
  const near = byPValue ? pValue !== null && pValue < 2 * P_VALUE_DRIFT : statistic !== null && statistic >= DISTANCE_DRIFT / 2 && rows >= 4 * distanceMinRows(test);
  return near || (psiValue !== null && psiValue >= PSI_WATCH) ? 'watch' : 'stable';
}

/**
 * Drift of one input: PSI plus the Evidently-style test chosen by the
 * reference size (`referenceRows`: the profile's training rows), or KS /
 * chi-squared when the live rows are too few for a distance (judgingTest);
 * verdict stable/watch/changed/unknown. `cur` undefined or over other bins:
 * unknown.
 */
export function inputDrift(ref: InputProfile, referenceRows: number, cur: BinCounts | undefined, importanceRank: number | null): InputDrift {
  const base = { name: ref.name, kind: ref.kind, importanceRank };
  if (!cur || cur.counts.length !== ref.counts.length) return { ...base, verdict: 'unknown', psi: null, statistic: null, test: null, pValue: null, rows: 0 };
  const rows = sum(cur.counts);
  const total = rows + cur.missing;
  const p = total > 0 ? psi(...withMissingBin(ref, cur)) : NaN;
  const psiValue = Number.isNaN(p) ? null : p;
  if (rows === 0) {
    const verdict: DriftVerdict = total < MIN_ROWS || psiValue === null ? 'unknown' : psiValue >= PSI_CHANGED ? 'changed' : psiValue >= PSI_WATCH ? 'watch' : 'stable';
    return { ...base, verdict, psi: psiValue, statistic: null, test: null, pValue: null, rows };
  }
  const test = judgingTest(ref, referenceRows, rows);
  const { statistic, pValue } = testStatistic(test, ref, cur);
  let verdict: DriftVerdict;
  if (total < MIN_ROWS) verdict = 'unknown';
  else if (rows < MIN_ROWS) verdict = psiValue === null ? 'unknown' : psiValue >= PSI_CHANGED ? 'changed' : psiValue >= PSI_WATCH ? 'watch' : 'stable';
  else {
    const effective = effectiveRows(total, referenceRows);
    verdict = testVerdict(test, statistic, pValue, effective >= PSI_MIN_ROWS ? psiValue : null, effective);
  }
  return { ...base, verdict, psi: psiValue, statistic, test, pValue, rows };
}

/** "A", "A and B", "A, B and C", "A, B, C, D, E and 3 more". */
function names(list: readonly string[], max = 5): string {
  const shown = list.length > max ? [...list.slice(0, max), `${list.length - max} more`] : [...list];
  return shown.length <= 1 ? (shown[0] ?? '') : `${shown.slice(0, -1).join(', ')} and ${shown[shown.length - 1]}`;
}

const ORDINAL = ['', 'the most important', 'the second most important', 'the third most important'];
const TOP = 3;

/**
 * Whether an input's 'changed' counts for the model's verdict when `judged`
 * inputs were compared at once: by p-value only below MODEL_FALSE_ALARM /
 * judged (so the model is called changed by chance at most 1% of the time);
 * a distance past its floor, or PSI alone (an input gone blank), as it is.
 */
export function countsForModel(input: InputDrift, judged: number): boolean {
  if (input.verdict !== 'changed') return false;
  if (input.test === 'ks' || input.test === 'chi2') return input.pValue !== null && input.pValue < MODEL_FALSE_ALARM / Math.max(1, judged);
  return true;
}

/**
 * A heat-map cell's verdict (one input in one time slot, `inputs` inputs in
 * the model): red ('changed') only when the change would count for the
 * model (countsForModel), so a map of many cells is not dotted red by chance;
 * a change only at p < 0.05 shows as 'watch'; fewer than MIN_ROWS rows in the
 * slot stay 'unknown' (inputDrift).
 */
export function slotVerdict(input: InputDrift, inputs: number): DriftVerdict {
  return input.verdict === 'changed' && !countsForModel(input, inputs) ? 'watch' : input.verdict;
}

/**
 * The model's verdict and its reason in words from its inputs' verdicts:
 * `changed` when at least half the inputs that could be judged, or any of
 * the three most important, changed by a margin that counts when they are
 * all compared at once (countsForModel); `watch` when any input changed so,
 * or when at least watchNeeds(n) inputs are on watch or changed only by
 * chance's margin (each is, by chance, in up to one window in ten); `stable`
 * otherwise; `unknown` with fewer than MIN_ROWS rows or
 * no input that could be judged.
 */
/** Inputs on watch (or changed only by chance's margin) it takes for the model to be on watch: 1 of 1, else at least 2 and a third. */
export function watchNeeds(n: number): number {
  return n <= 1 ? 1 : Math.max(2, Math.ceil(n / 3));
}

export function modelVerdict(inputs: InputDrift[], rows: number): { verdict: DriftVerdict; reason: string } {
  if (rows < MIN_ROWS) return { verdict: 'unknown', reason: `Only ${rows} ${rows === 1 ? 'row' : 'rows'} served in this window; drift needs at least ${MIN_ROWS}.` };
  const known = inputs.filter((i) => i.verdict !== 'unknown');
  const unknown = inputs.length - known.length;
  if (!known.length) return { verdict: 'unknown', reason: inputs.length ? `None of the ${inputs.length} inputs had enough values in this window to compare with training.` : 'The model has no inputs the training profile describes.' };
  const byRank = (a: InputDrift, b: InputDrift) => (a.importanceRank ?? Infinity) - (b.importanceRank ?? Infinity);
  const n = known.length;
  const changed = known.filter((i) => countsForModel(i, n)).sort(byRank);
  const slight = known.filter((i) => i.verdict === 'changed' && !countsForModel(i, n)).sort(byRank);
  const watch = known.filter((i) => i.verdict === 'watch').sort(byRank);
  const top = changed.filter((i) => i.importanceRank !== null && i.importanceRank <= TOP);
  const note = unknown ? ` (${unknown} ${unknown === 1 ? 'input' : 'inputs'} had too few values to judge.)` : '';
  const of = `${changed.length} of ${n} ${n === 1 ? 'input' : 'inputs'} changed`;
  if (top.length || (changed.length && changed.length * 2 >= n)) {
    let reason: string;
    if (n === 1) reason = `Its only input, ${changed[0]!.name}, changed.`;
    else if (top.length === 1) reason = `${of}, among them ${top[0]!.name}, ${ORDINAL[top[0]!.importanceRank!]}.`;
    else if (top.length > 1) reason = `${of}, among them ${names(top.map((i) => i.name))}, ${top.length === 2 ? 'two of the three most important' : 'the three most important'}.`;
    else reason = `${of}: ${names(changed.map((i) => i.name))}.`;
    return { verdict: 'changed', reason: reason.charAt(0).toUpperCase() + reason.slice(1) + note };
  }
  const rest = watch.length ? `; ${names(watch.map((i) => i.name))} worth watching` : '';
  const chance = slight.length
    ? `${names(slight.map((i) => i.name))} ${slight.length === 1 ? 'differs' : 'differ'} from training only by as much as chance often gives when ${n === 1 ? 'rows are compared' : `${n} inputs are compared at once`}`
    : '';
  if (changed.length) {
    return { verdict: 'watch', reason: `${of} (${names(changed.map((i) => i.name))}), fewer than half and none of the three most important${chance ? `; ${chance}` : ''}${rest}.${note}` };
  }
  // Each input is on watch by chance in up to about one window in ten: one or two of many is what data like training gives, not news.
  const moved = slight.length + watch.length;
  if (moved > 0 && moved < watchNeeds(n)) {
    return { verdict: 'stable', reason: `No input changed; ${names([...slight, ...watch].sort(byRank).map((i) => i.name))} moved a little, as much as chance often gives when ${n} inputs are compared.${note}` };
  }
  if (slight.length) {
    const s = `No input changed clearly: ${chance}${rest}.${note}`;
    return { verdict: 'watch', reason: s };
  }
  if (watch.length) return { verdict: 'watch', reason: `No input changed, but ${names(watch.map((i) => i.name))} moved a little away from training: worth watching.${note}` };
  return { verdict: 'stable', reason: `${n === 1 ? 'The input has' : `None of the ${n} inputs has`} moved away from training.${note}` };
}

/**
 * Prediction spread: Jensen–Shannon distance between training and live label
 * shares (changed at ≥ 0.1, watch at ≥ 0.05); with fewer effective rows than
 * JENSEN_SHANNON_MIN_ROWS, chi-squared on the label counts judges instead
 * (changed at p < 0.05, watch at p < 0.1), as for inputs; unknown below
 * MIN_ROWS live predictions or without a training spread.
 */
export function predictionDrift(training: Record<string, number> | null, live: Record<string, number>): Drift['predictions'] {
  const window = { ...live };
  if (!training) return { training: null, window, distance: null, verdict: 'unknown' };
  const labels = [...new Set([...Object.keys(training), ...Object.keys(live)])].sort();
  const t = labels.map((l) => training[l] ?? 0), w = labels.map((l) => live[l] ?? 0);
  const d = jsDistance(t, w);
  const distance = Number.isNaN(d) ? null : d;
  let verdict: DriftVerdict;
  if (distance === null || sum(w) < MIN_ROWS) verdict = 'unknown';
  else if (effectiveRows(sum(w), sum(t)) < JENSEN_SHANNON_MIN_ROWS) {
    const p = chiSquareTwoSample(...pooledBins(t, w))?.pValue ?? 1;
    verdict = p < P_VALUE_DRIFT ? 'changed' : p < 2 * P_VALUE_DRIFT ? 'watch' : 'stable';
  } else verdict = distance >= DISTANCE_DRIFT ? 'changed' : distance >= DISTANCE_DRIFT / 2 ? 'watch' : 'stable';
  return { training: { ...training }, window, distance, verdict };
}

const isNumbers = (v: Float64Array | Float32Array | readonly string[]): v is Float64Array | Float32Array => !Array.isArray(v);

/**
 * Raw rows: bin each column over the profile (for the benchmark and for
 * checking a file). Numbers: NaN is missing, a bin is the number of edges
 * strictly below the value, ±Infinity count in the end bins and add nothing
 * to the sums; a Float32Array is compared with the edges rounded to float32,
 * as the edge runtime does with the values it receives; text for a numeric
 * input is read as a number ('' or not a number: missing). Categories: '' is missing, anything not named counts in
 * the last bin; numbers are taken as text.
 */
export function binColumn(ref: InputProfile, values: Float64Array | Float32Array | readonly string[]): BinCounts {
  if (ref.kind === 'numeric') {
    if (values instanceof Float32Array) return binNumbers(ref.edges.map(Math.fround), values);
    const nums = isNumbers(values) ? values : Float64Array.from(values, (v) => (v.trim() === '' ? NaN : Number(v)));
    return binNumbers(ref.edges, nums);
  }
  const index = new Map(ref.categories.map((c, i) => [c, i]));
  const last = ref.categories.length;
  const counts = new Array<number>(last + 1).fill(0);
  let missing = 0;
  const text = isNumbers(values) ? Array.from(values, (x) => (Number.isNaN(x) ? '' : String(x))) : values;
  for (const v of text) {
    if (v === '') missing++;
    else counts[index.get(v) ?? last]!++;
  }
  return { counts, missing };
}

/** Profiles have at most 9 edges (deciles): the bin is then found without a branch, by adding 9 comparisons. */
const UNROLLED_EDGES = 9;

function binNumbers(edgeList: readonly number[], values: Float64Array | Float32Array): BinCounts {
  const k = edgeList.length;
  const counts = new Float64Array(k + 1);
  const sums = new Float64Array(k + 1);
  let missing = 0;
  const n = values.length;
  if (k <= UNROLLED_EDGES) {
    // Missing edges are +Infinity: nothing is strictly above them, so they add 0 (Infinity itself lands in bin k).
    const e = Float64Array.from({ length: UNROLLED_EDGES }, (_, i) => (i < k ? edgeList[i]! : Infinity));
    const e0 = e[0]!, e1 = e[1]!, e2 = e[2]!, e3 = e[3]!, e4 = e[4]!, e5 = e[5]!, e6 = e[6]!, e7 = e[7]!, e8 = e[8]!;
    for (let i = 0; i < n; i++) {
      const x = values[i]!;
      if (x !== x) {
        missing++;
        continue;
      }
      const b = +(e0 < x) + +(e1 < x) + +(e2 < x) + +(e3 < x) + +(e4 < x) + +(e5 < x) + +(e6 < x) + +(e7 < x) + +(e8 < x);
      counts[b]!++;
      if (x - x === 0) sums[b]! += x; // finite: ±Infinity − itself is NaN
    }
  } else {
    const edges = Float64Array.from(edgeList);
    for (let i = 0; i < n; i++) {
      const x = values[i]!;
      if (x !== x) {
        missing++;
        continue;
      }
      let lo = 0, hi = k;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (edges[mid]! < x) lo = mid + 1;
        else hi = mid;
      }
      counts[lo]!++;
      if (x - x === 0) sums[lo]! += x;
    }
  }
  return { counts: Array.from(counts), missing, sums: Array.from(sums) };
}
