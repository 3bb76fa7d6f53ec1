#!/usr/bin/python3
"""Rank check: how many directions the frozen features of a `bat embed` cache spread clips along.

Dimensional collapse is a failure of bootstrap pre-training that the content share (docs/method.md section 7)
cannot see: the encoder still tells clips apart, but along only a few directions, and a linear probe has little to
read. The effective rank (Roy and Vetterli, 2007; RankMe, Garrido et al., 2023) is exp of the entropy of the
normalised singular values of the centred matrix: D equal, uncorrelated channels give D, one line gives 1. The
library logs the same measure for the student's CLS during pre-training (Bat.Pretraining.EffectiveRank, metrics.csv
cls_rank); this script reads it per block from a cache of up to N train clips:
  cls      the block's CLS over clips
  mean     the mean of the block's patch tokens over clips
  content  the patch tokens over (clips x positions), each position's mean over clips taken away

Usage (Debian's python3-numpy):
    /usr/bin/python3 docs/diagnostics/rank_check.py CACHE_DIR [CACHE_DIR ...]    (env N: clips, default 200)
Measured results are in docs/learning-experiments.csv (probe names rank-*).
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from batemb import load_cache  # noqa: E402  (the one reader of the .batemb format here)


def effective_rank(x):
    x = x - x.mean(0, keepdims=True)
    s = np.linalg.svd(x, compute_uv=False)
    if s.sum() <= 1e-12:
        return float("nan")
    p = s / s.sum()
    p = p[p > 0]
    return float(np.exp(-(p * np.log(p)).sum()))


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    clips = int(os.environ.get("N", "200"))
    for cache in sys.argv[1:]:
        _, a = load_cache(os.path.join(cache, "train.batemb"))
        x = np.asarray(a[:clips], dtype=np.float32)  # (clips, layers, 1 + patches, dim)
        for layer in range(x.shape[1]):
            tokens = x[:, layer, 1:, :]
            content = (tokens - tokens.mean(0, keepdims=True)).reshape(-1, tokens.shape[2])
            print(f"{cache} block {layer + 1}: cls {effective_rank(x[:, layer, 0, :]):.1f}  "
                  f"mean {effective_rank(tokens.mean(1)):.1f}  content {effective_rank(content):.1f}")


if __name__ == "__main__":
    main()
