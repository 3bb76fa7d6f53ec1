#!/usr/bin/python3
"""Readout check: what a plain, per-feature standardised logistic regression reads from a `bat embed` cache.

Separates "the features carry nothing" from "the suite's probe head cannot read them": the same frozen features
the probes train on (CACHE/{train,valid,test}.batemb, float16, written by `bat embed`) go through
sklearn's StandardScaler (train statistics) and LogisticRegression (one-vs-rest for multi-label tasks), trained on
the train split and scored on test: macro mAP % for multi-label tasks, accuracy % otherwise.

Readouts: the last block's CLS (what LP reads), the mean of its patch tokens, and their mean + std over tokens.

Usage (Debian's python3-numpy and python3-sklearn):
    /usr/bin/python3 docs/diagnostics/readout_check.py CACHE_DIR MANIFEST.csv [C ...]
Measured results are in docs/learning-experiments.csv (probe names readout-*).
"""
import csv
import os
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, average_precision_score
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from batemb import load_cache  # noqa: E402


def clip_labels(manifest, paths):
    base = os.path.dirname(os.path.abspath(manifest))
    with open(manifest, newline="") as f:
        by_path = {row["path"]: row["labels"].split(";") for row in csv.DictReader(f)}
    def find(p):
        key = p if p in by_path else os.path.relpath(p, base)
        if key not in by_path:
            sys.exit(f"{manifest}: no row for the cached clip {p}")
        return by_path[key]
    return [find(p) for p in paths]


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    cache, manifest = sys.argv[1], sys.argv[2]
    strengths = [float(c) for c in sys.argv[3:]] or [0.1]
    splits = {}
    for split in ("train", "test"):
        path = os.path.join(cache, f"{split}.batemb")
        if not os.path.exists(path):
            sys.exit(f"{path}: missing (run `bat embed` for this split)")
        header, features = load_cache(path)
        splits[split] = (features, clip_labels(manifest, header["paths"]))
    classes = sorted({c for _, labels in splits.values() for clip in labels for c in clip})
    multilabel = any(len(clip) > 1 for clip in splits["train"][1])

    def targets(split):
        labels = splits[split][1]
        if multilabel:
            return np.array([[c in clip for c in classes] for clip in labels], dtype=int)
        return np.array([classes.index(clip[0]) for clip in labels])

    def last_block(split):
        return np.asarray(splits[split][0][:, -1], dtype=np.float32)  # (clips, 1 + patches, dim)

    readouts = {
        "cls": lambda s: last_block(s)[:, 0],
        "mean": lambda s: last_block(s)[:, 1:].mean(1),
        "meanstd": lambda s: np.concatenate([last_block(s)[:, 1:].mean(1), last_block(s)[:, 1:].std(1)], 1),
    }
    for c in strengths:
        for name, readout in readouts.items():
            scaler = StandardScaler().fit(readout("train"))
            train, test = scaler.transform(readout("train")), scaler.transform(readout("test"))
            if multilabel:
                y_train, y_test = targets("train"), targets("test")
                scores = np.stack([LogisticRegression(C=c, max_iter=2000).fit(train, y_train[:, j]).predict_proba(test)[:, 1]
                                   for j in range(len(classes))], 1)
                has_positive = y_test.sum(0) > 0  # macro mAP over classes with positives, as the suite scores it
                value, metric = 100 * average_precision_score(y_test[:, has_positive], scores[:, has_positive], average="macro"), "map"
            else:
                model = LogisticRegression(C=c, max_iter=3000).fit(train, targets("train"))
                value, metric = 100 * accuracy_score(targets("test"), model.predict(test)), "accuracy"
            print(f"readout-{name},C={c},{metric},{value:.1f}", flush=True)


if __name__ == "__main__":
    main()
