"""The peer of electron/services/monitor/drift.ts, written with numpy and scipy
alone (Debian's python3-numpy and python3-scipy), for two callers:

  python3 drift_peer.py check < cases.json    drift statistics of each case, as JSON
  python3 drift_peer.py bench DIR             the drift benchmark's computation on DIR's files

check: each case is raw values (or counts) and the profile's edges; this script
bins them itself (np.searchsorted, side='left': a bin is the number of edges
strictly below the value), expands the counts into representative samples
(each value stands for its bin), and runs scipy's own tests on them.

Shares for PSI and Jensen-Shannon: bins empty on both sides are left out, an
empty share is raised to Evidently's floor (0.0001, or a millionth of the
smallest non-empty share when that is at most 0.0001), and missing values
are one more bin when either side has any.
"""
import json
import math
import os
import sys
import time

import numpy as np
from scipy import special, stats
from scipy.spatial import distance


def floored(counts):
    shares = np.asarray(counts, dtype=np.float64) / np.sum(counts)
    nz = shares[shares > 0]
    lowest = nz.min()
    shares[shares == 0] = lowest / 1e6 if lowest <= 0.0001 else 0.0001
    return shares


def seen(ref, cur):
    ref = np.asarray(ref, dtype=np.float64)
    cur = np.asarray(cur, dtype=np.float64)
    keep = (ref > 0) | (cur > 0)
    return ref[keep], cur[keep]


def psi(ref, cur):
    r, c = seen(ref, cur)
    r, c = floored(r), floored(c)
    return float(np.sum((r - c) * np.log(r / c)))


def js(ref, cur):
    r, c = seen(ref, cur)
    return float(distance.jensenshannon(floored(r), floored(c)))


def numeric_bins(edges, values):
    """Counts per bin, per-bin mean of the finite values (None when none), per-bin sum of the finite values, missing count."""
    x = np.asarray(values, dtype=np.float64)
    present = x[~np.isnan(x)]
    b = np.searchsorted(np.asarray(edges, dtype=np.float64), present, side='left')
    k = len(edges) + 1
    counts = np.bincount(b, minlength=k)
    finite = np.isfinite(present)
    sums = np.bincount(b[finite], weights=present[finite], minlength=k)
    nfinite = np.bincount(b[finite], minlength=k)
    means = [float(sums[i] / nfinite[i]) if nfinite[i] else None for i in range(k)]
    return counts, means, sums, int(np.isnan(x).sum())


def middle(edges, i):
    if not edges:
        return 0.0
    if i == 0:
        return edges[0]
    if i >= len(edges):
        return edges[-1]
    return (edges[i - 1] + edges[i]) / 2


def pooled(rc, cc):
    """drift.ts pooledBins: bins expecting fewer than 5 rows on either side pooled into one, last; a pool still short joins the smallest bin."""
    n1, n2 = sum(rc), sum(cc)
    share = min(n1, n2) / ((n1 + n2) or 1)
    x, y, px, py = [], [], 0, 0
    for a, b in zip(rc, cc):
        if a + b <= 0:
            continue
        if (a + b) * share >= 5:
            x.append(a)
            y.append(b)
        else:
            px += a
            py += b
    if px + py > 0:
        if (px + py) * share >= 5 or not x:
            x.append(px)
            y.append(py)
        else:
            j = int(np.argmin([p + q for p, q in zip(x, y)]))
            x[j] += px
            y[j] += py
    return x, y


def chi2_two_sample(rc, cc):
    """Two-sample chi-squared (drift.ts): scipy's chi2_contingency of the 2 × bins table of training and live counts, sparse bins pooled."""
    x, y = pooled([int(v) for v in rc], [int(v) for v in cc])
    table = np.array([x, y], dtype=np.float64)
    if table.shape[1] < 2:
        return {'statistic': 0.0, 'pValue': 1.0}
    r = stats.chi2_contingency(table, correction=False)
    return {'statistic': float(r.statistic), 'pValue': float(r.pvalue)}


def numeric_case(c):
    edges = c['edges']
    ref = np.array([np.nan if v is None else float(v) for v in c['reference']])
    cur = np.array([np.nan if v is None else float(v) for v in c['current']])
    rc, rmeans, _, rmiss = numeric_bins(edges, ref)
    cc, _, csums, cmiss = numeric_bins(edges, cur)
    idx = np.arange(len(rc))
    out = {'refCounts': rc.tolist(), 'curCounts': cc.tolist(), 'refMissing': rmiss, 'curMissing': cmiss, 'refMeans': rmeans}
    finite_ref = ref[np.isfinite(ref)]
    out['std'] = float(np.std(finite_ref)) if finite_ref.size else 0.0
    # KS on the expanded representative samples: each value is its bin's index.
    r = stats.ks_2samp(np.repeat(idx, rc), np.repeat(idx, cc))
    out['ks'] = {'statistic': float(r.statistic), 'pValue': float(r.pvalue)}
    out['chi2'] = chi2_two_sample(rc, cc)
    # Wasserstein between the bins' positions weighted by counts, over the reference's std. Training:
    # the mean of the bin's finite values. Live: what an edge sends, the sum of the finite values over
    # the count of all (±inf count but add nothing), kept inside the bin.
    upts = [rmeans[i] if rmeans[i] is not None else middle(edges, i) for i in idx]
    vpts = [float(np.clip(csums[i] / cc[i], edges[i - 1] if i > 0 else -np.inf, edges[i] if i < len(edges) else np.inf)) if cc[i] else upts[i] for i in idx]
    u = [(upts[i], rc[i]) for i in idx if rc[i] > 0]
    v = [(vpts[i], cc[i]) for i in idx if cc[i] > 0]
    w = stats.wasserstein_distance([p for p, _ in u], [p for p, _ in v], [n for _, n in u], [n for _, n in v])
    out['wasserstein'] = float(w / max(out['std'], 0.001))
    withm = rmiss > 0 or cmiss > 0
    rb = list(rc) + ([rmiss] if withm else [])
    cb = list(cc) + ([cmiss] if withm else [])
    out['psi'] = psi(rb, cb)
    out['js'] = js(rb, cb)
    return out


def category_case(c):
    cats = c['categories']
    index = {v: i for i, v in enumerate(cats)}
    rc = np.array(c['refCounts'])
    cc = np.zeros(len(cats) + 1, dtype=np.int64)
    cmiss = 0
    for v in c['current']:
        if v == '':
            cmiss += 1
        else:
            cc[index.get(v, len(cats))] += 1
    rmiss = c['refMissing']
    withm = rmiss > 0 or cmiss > 0
    rb = list(rc) + ([rmiss] if withm else [])
    cb = list(cc) + ([cmiss] if withm else [])
    return {'curCounts': cc.tolist(), 'curMissing': cmiss, 'chi2': chi2_two_sample(rc, cc), 'psi': psi(rb, cb), 'js': js(rb, cb)}


def ks_counts_case(c):
    idx = np.arange(len(c['a']))
    a, b = np.repeat(idx, c['a']), np.repeat(idx, c['b'])
    r = stats.ks_2samp(a, b)
    asymp = stats.ks_2samp(a, b, method='asymp')
    return {'statistic': float(r.statistic), 'pValue': float(r.pvalue), 'pAsymp': float(asymp.pvalue)}


def check(cases):
    out = []
    for c in cases:
        kind = c['kind']
        if kind == 'numeric':
            out.append(numeric_case(c))
        elif kind == 'category':
            out.append(category_case(c))
        elif kind == 'ks':
            out.append(ks_counts_case(c))
        elif kind == 'kstwo':
            out.append([float(stats.kstwo.sf(x, n)) for n, x in c['points']])
        elif kind == 'smirnov':
            out.append([float(special.smirnov(n, x)) for n, x in c['points']])
        elif kind == 'gammaincc':
            out.append([float(special.gammaincc(a, x)) for a, x in c['points']])
        elif kind == 'labels':
            labels = sorted(set(c['training']) | set(c['live']))
            out.append(js([c['training'].get(k, 0) for k in labels], [c['live'].get(k, 0) for k in labels]))
        else:
            raise ValueError(kind)
    return out


def bench(folder):
    """Bins each live column over its reference edges and runs the test drift.ts runs (KS or normed Wasserstein), plus PSI."""
    with open(os.path.join(folder, 'spec.json')) as f:
        spec = json.load(f)
    rows, runs = spec['rows'], spec['runs']
    columns = [np.fromfile(os.path.join(folder, f'col{j}.f64'), dtype=np.float64) for j in range(len(spec['inputs']))]
    assert all(c.size == rows for c in columns)

    def once():
        results = []
        for ref, x in zip(spec['inputs'], columns):
            edges = np.asarray(ref['edges'], dtype=np.float64)
            k = edges.size + 1
            nan = np.isnan(x)
            present = x[~nan]
            b = np.searchsorted(edges, present, side='left')
            counts = np.bincount(b, minlength=k)
            finite = np.isfinite(present)
            sums = np.bincount(b[finite], weights=present[finite], minlength=k)
            rc = np.asarray(ref['counts'])
            rmiss, cmiss = ref['missing'], int(nan.sum())
            withm = rmiss > 0 or cmiss > 0
            p = psi(list(rc) + ([rmiss] if withm else []), list(counts) + ([cmiss] if withm else []))
            if spec['referenceRows'] <= 1000:
                idx = np.arange(k)
                stat = float(stats.ks_2samp(np.repeat(idx, rc), np.repeat(idx, counts)).pvalue)
            else:
                upts = np.asarray([m if m is not None else 0.0 for m in ref['means']])
                with np.errstate(divide='ignore', invalid='ignore'):
                    vpts = np.where(counts > 0, sums / np.maximum(counts, 1), upts)
                stat = float(stats.wasserstein_distance(upts, vpts, rc, counts) / max(ref['std'], 0.001))
            results.append((p, stat))
        return results

    times, last = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        last = once()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    print(json.dumps({'runsMs': times, 'medianMs': times[len(times) // 2] if len(times) % 2 else (times[len(times) // 2 - 1] + times[len(times) // 2]) / 2, 'results': last}))


def plain(v):
    """JSON has no Infinity or NaN: they go as the strings 'inf', '-inf', 'nan'."""
    if isinstance(v, float) and not math.isfinite(v):
        return 'nan' if math.isnan(v) else ('inf' if v > 0 else '-inf')
    if isinstance(v, list):
        return [plain(x) for x in v]
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    return v


if __name__ == '__main__':
    if len(sys.argv) >= 2 and sys.argv[1] == 'check':
        print(json.dumps(plain(check(json.load(sys.stdin)))))
    elif len(sys.argv) >= 3 and sys.argv[1] == 'bench':
        bench(sys.argv[2])
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)
