#!/usr/bin/python3
"""bench/infer's peer for scoring a CSV file: the same work done by pandas,
scikit-learn and XGBoost on the same file, in the same run, on this machine.

  score_peer.py FILE --target COL --train-rows N [--runs R]

Fits, untimed, on the file's first N rows: scikit-learn's
HistGradientBoostingClassifier with Millwright's benchmark settings (300 trees,
31 leaves, learning rate 0.1, no early stopping), XGBoost with the same
(hist, 300 trees, max_leaves 31, learning rate 0.1) and LogisticRegression
(after median imputation and scaling, as Millwright's logistic model).
Then times, as medians of R runs: pandas.read_csv of the whole file; each
model's predict_proba on every row (all cores: scikit-learn and XGBoost use
their own threads); and pandas.to_csv of the file with `prediction` and the
class probabilities appended. `score_s` is read + predict + write, the work of
Millwright's scoring job; `score_vs_read` is its ratio to reading alone.

Prints one JSON object. Needs Debian's python3-sklearn, python3-pandas and
python3-xgboost (run with /usr/bin/python3).
"""
import argparse
import json
import os
import statistics
import tempfile
import time

import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from xgboost import XGBClassifier


def timed(fn, runs):
    times = []
    out = None
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--target", required=True)
    ap.add_argument("--train-rows", type=int, required=True)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()

    read_s, df = timed(lambda: pd.read_csv(args.file), args.runs)
    x = df.drop(columns=[args.target])
    y = df[args.target]
    xt, yt = x.iloc[: args.train_rows], y.iloc[: args.train_rows]
    learners = {
        "hgb_sklearn": HistGradientBoostingClassifier(max_iter=300, learning_rate=0.1, max_leaf_nodes=31, min_samples_leaf=20,
                                                      l2_regularization=0.0, early_stopping=False, random_state=0),
        "hgb_xgboost": XGBClassifier(n_estimators=300, learning_rate=0.1, max_leaves=31, max_depth=0, grow_policy="lossguide",
                                     tree_method="hist", random_state=0),
        "logistic": make_pipeline(SimpleImputer(strategy="median"), StandardScaler(), LogisticRegression(C=1.0, max_iter=1000)),
    }
    out = {"peer": "pandas + scikit-learn + XGBoost", "rows": len(df), "threads": os.cpu_count(), "read_s": read_s, "models": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name, model in learners.items():
            model.fit(xt, yt)
            predict_s, proba = timed(lambda: model.predict_proba(x), args.runs)
            classes = [str(c) for c in model.classes_]

            def write():
                scored = df.copy()
                scored["prediction"] = [classes[i] for i in proba.argmax(axis=1)]
                for k, c in enumerate(classes):
                    scored[f"probability_{c}"] = proba[:, k]
                scored.to_csv(os.path.join(tmp, "scored.csv"), index=False)

            write_s, _ = timed(write, args.runs)
            score_s = read_s + predict_s + write_s
            out["models"][name] = {"predict_s": predict_s, "predict_rows_per_s": round(len(df) / predict_s),
                                   "write_s": write_s, "score_s": score_s, "score_vs_read": score_s / read_s}
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
