#!/usr/bin/python3
"""Copy check: how much of the teacher targets' content a learning-free copy of the visible cells predicts.

The content error logged in every run's metrics.csv (docs/method.md section 7) says how far the student's masked
predictions beat a guess that knows only the position. This script asks what a student could reach by copying:
from a `bat embed` cache of the teacher (CACHE/SPLIT.batemb, every block's tokens), it builds the end-of-block
targets as the trainer does (instance norm over the tokens per block, mean over blocks, LayerNorm over features,
no affine), keeps a random 20 % of each clip's cells (the papers' 80 % masking, without the block structure), and
scores each masked cell's prediction by its mean squared error over that of the position-only guess (the mean
target of the other clips at the position; 1 = position only, 0 = every target):
  clip mean         the mean over the clip's visible cells (each less its own position's guess), added to the guess
  same band         the same, over the visible cells in the masked cell's frequency band
  nearest in band   the visible cell of the band nearest in time
  copy (fitted)     the best least-squares mix of the three (three coefficients for all cells and channels)
and the same for the utterance target (the clip's mean target) from the visible cells' mean.

Usage (Debian's python3-numpy):
    /usr/bin/python3 docs/diagnostics/copy_check.py CACHE/train.batemb [CLIPS]
Measured results are in docs/learning-experiments.csv (probe names copy-*).
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from batemb import load_cache  # noqa: E402

def end_of_block_targets(blocks):
    """(clips, layers, 1 + N, D) -> (clips, N, D), TeacherTargets.Build (lib/Bat/Pretraining/Objective.cs)."""
    x = np.asarray(blocks[:, :, 1:, :], dtype=np.float64)
    x = (x - x.mean(2, keepdims=True)) / np.sqrt(x.var(2, keepdims=True) + 1e-5)
    t = x.mean(1)
    return (t - t.mean(2, keepdims=True)) / np.sqrt(t.var(2, keepdims=True) + 1e-5)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    header, blocks = load_cache(sys.argv[1])
    clips = min(int(sys.argv[2]) if len(sys.argv) > 2 else 600, header["clips"])
    encoder = header["encoderConfig"]
    bands = encoder["melBins"] // encoder["patchSize"]
    t = end_of_block_targets(blocks[:clips])                                  # (B, N, D), token = time * bands + band
    b_count, n_count, _ = t.shape
    guess = (t.sum(0, keepdims=True) - t) / (b_count - 1)                     # leave-one-out mean at each position
    r = t - guess                                                             # what the position does not tell
    content = t.var(0).mean()
    position = t.mean(0).var(0).mean()

    rng = np.random.default_rng(0)
    features, wanted, utterance, visible_means = [], [], [], []
    for b in range(b_count):
        visible = np.sort(rng.choice(n_count, n_count // 5, replace=False))
        clip = r[b, visible].mean(0)
        utterance.append(r[b].mean(0))
        visible_means.append(clip)
        for n in np.setdiff1d(np.arange(n_count), visible):
            band = visible[visible % bands == n % bands]
            if len(band):
                same_band = r[b, band].mean(0)
                nearest = r[b, band[np.argmin(np.abs(band // bands - n // bands))]]
            else:
                same_band = nearest = clip
            features.append(np.stack([clip, same_band, nearest]))
            wanted.append(r[b, n])
    x, y = np.array(features), np.array(wanted)                               # (cells, 3, D), (cells, D)
    reference = (y * y).mean()
    coefficients = np.linalg.lstsq(x.transpose(0, 2, 1).reshape(-1, 3), y.reshape(-1), rcond=None)[0]
    u, v = np.array(utterance), np.array(visible_means)
    scale = (u * v).sum() / (v * v).sum()

    print(f"{sys.argv[1]}: {b_count} clips, grid {n_count // bands} x {bands}, "
          f"content share {content / (content + position):.3f}")
    for i, name in enumerate(["clip mean", "same band", "nearest in band"]):
        print(f"  {name:16s} {((y - x[:, i]) ** 2).mean() / reference:.3f}")
    fitted = np.einsum("k,mkd->md", coefficients, x)
    print(f"  {'copy (fitted)':16s} {((y - fitted) ** 2).mean() / reference:.3f}  coefficients {np.round(coefficients, 3)}")
    print(f"  {'utterance':16s} {((u - scale * v) ** 2).mean() / (u * u).mean():.3f}  (the clip's mean target from its visible cells)")


if __name__ == "__main__":
    main()
