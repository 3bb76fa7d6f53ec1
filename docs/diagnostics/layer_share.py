#!/usr/bin/python3
"""Layer check: the collapse check's content share of teacher targets built from each block alone and from the top K.

The teacher's end-of-block targets average every block (instance norm over the tokens per block, mean over blocks,
LayerNorm over features, no affine; lib/Bat/Pretraining/Objective.cs, TeacherTargets.Build). data2vec-style recipes
can average only the top K blocks instead. This script asks whether that would give targets with more content: from a
`bat embed` cache (every block's tokens), it builds the targets from each block alone, from the top two, and from all,
and prints each one's content share, content / (content + position), as TeacherTargets.ContentShare computes it
(content: variance across clips at the same patch position; position: variance across positions of the mean over
clips). A probing cache holds the task's clips at the probing length, not the pre-training clips, so the shares are
not the numbers of a run's metrics.csv, but encoders and blocks compare on the same clips.

Usage (Debian's python3-numpy):
    /usr/bin/python3 docs/diagnostics/layer_share.py CACHE/train.batemb [CACHE2/train.batemb ...] [--clips N]
Measured results are in docs/learning-experiments.csv (probe names layer-share-*).
"""
import sys

import numpy as np

from batemb import load_cache


def targets(x, blocks):
    """(clips, blocks, 1 + patches, dim) -> end-of-block targets (clips, patches, dim) from the chosen blocks."""
    t = x[:, blocks, 1:, :].astype(np.float64)
    t = (t - t.mean(2, keepdims=True)) / np.sqrt(t.var(2, keepdims=True) + 1e-5)  # instance norm over tokens
    a = t.mean(1)
    return (a - a.mean(-1, keepdims=True)) / np.sqrt(a.var(-1, keepdims=True) + 1e-5)  # LayerNorm over features


def content_share(t):
    content = t.var(0).mean()
    position = t.mean(0).var(0).mean()
    return content / max(1e-12, content + position)


def main(argv):
    clips = 64
    if "--clips" in argv:
        at = argv.index("--clips")
        clips = int(argv[at + 1])
        del argv[at:at + 2]
    if not argv:
        sys.exit(__doc__)
    for path in argv:
        _, cache = load_cache(path)
        x = np.asarray(cache[:clips])
        blocks = x.shape[1]
        each = " ".join(f"block {b + 1}: {content_share(targets(x, [b])):.3f}" for b in range(blocks))
        print(f"{path}: {x.shape[0]} clips, {x.shape[2] - 1} patches; {each}; "
              f"top 2: {content_share(targets(x, list(range(blocks - 2, blocks)))):.3f}; "
              f"all {blocks}: {content_share(targets(x, list(range(blocks)))):.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
