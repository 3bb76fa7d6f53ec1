#!/usr/bin/env bash
# Makes speech-noisy-16k.wav, the clip notebook 01 looks at: an English sentence spoken by espeak-ng, resampled
# to 16 kHz mono, with pink noise mixed in about 15 dB below the speech, 16-bit. Deterministic (fixed noise seed)
# given the same espeak-ng and sox versions; the committed file is the reference. Run from this folder.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
espeak-ng -v en-us -s 150 -w "$tmp/speech.wav" "Audio transformers listen to spectrograms of speech."
sox "$tmp/speech.wav" -r 16000 -c 1 -b 32 -e floating-point "$tmp/speech16.wav" norm -3 pad 0.3 0.3
len=$(soxi -D "$tmp/speech16.wav")
sox -R -r 16000 -c 1 -b 32 -e floating-point -n "$tmp/noise.wav" synth "$len" pinknoise vol 0.03
sox -m "$tmp/speech16.wav" "$tmp/noise.wav" -b 16 speech-noisy-16k.wav
soxi speech-noisy-16k.wav
