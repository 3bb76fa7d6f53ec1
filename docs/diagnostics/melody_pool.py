#!/usr/bin/python3
"""Melodies for the pre-training pool: General-MIDI phrases rendered with another soundfont than the instruments task.

A research lever on the pool's music (docs/method.md section 6, rows `melody600-*`): the pool's music source is
hedgewars-data's game tracks; the instruments task is single notes of FluidR3_GM. These are 5 s phrases of 1-3
voices, each a random GM program (all 128) playing a random walk of notes, rendered by timidity with TimGM6mb (Debian's
timgm6mb-soundfont, not the task's FluidR3_GM), so no clip, note list or sample of the task is used.

Usage (Debian's timidity, timgm6mb-soundfont and sox):
    /usr/bin/python3 docs/diagnostics/melody_pool.py OUT_DIR [CLIPS]      (default 600)
Writes OUT_DIR/audio/melody_N.wav (16 kHz mono, 16 bit, 5 s) and OUT_DIR/melodies.csv (absolute paths, split train,
label melody): append its rows to a pool manifest and add OUT_DIR to its sidecar's audioRoots. Clip N is drawn with
seed 1000 + N, so a rebuild on the same packages gives the same audio.
"""
import os
import random
import struct
import subprocess
import sys
import tempfile

TICKS_PER_BEAT = 96      # at MIDI's default 120 bpm: 192 ticks a second
CLIP_TICKS = 5 * 192
TIMGM6MB_CFG = "/etc/timidity/timgm6mb.cfg"   # read after the default config, it maps every program to TimGM6mb


def vlq(n):
    """MIDI variable-length quantity."""
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def phrase(seed):
    """A type-0 MIDI file: 1-3 channels, each a program change then a random walk of notes and rests."""
    rng = random.Random(seed)
    events = []   # (tick, order: note-offs before note-ons at one tick, message)
    for channel in range(rng.choice([1, 1, 2, 3])):
        events.append((0, 0, bytes([0xC0 | channel, rng.randrange(128)])))
        tick, pitch = rng.randrange(0, 96), rng.randrange(40, 85)
        while tick < CLIP_TICKS - 24:
            length, velocity = rng.choice([24, 48, 48, 96, 96, 192]), rng.randrange(60, 120)
            pitch = max(28, min(100, pitch + rng.choice([-7, -5, -3, -2, -1, 0, 1, 2, 3, 4, 5, 7, 12, -12])))
            events.append((tick, 1, bytes([0x90 | channel, pitch, velocity])))
            events.append((tick + length, 0, bytes([0x80 | channel, pitch, 0])))
            tick += length + rng.choice([0, 0, 0, 12, 24, 48])
    events.sort(key=lambda e: (e[0], e[1]))
    track, last = b"", 0
    for tick, _, message in events:
        track += vlq(tick - last) + message
        last = tick
    track += vlq(max(CLIP_TICKS - last, 0)) + b"\xff\x2f\x00"
    return b"MThd" + struct.pack(">IHHH", 6, 0, 1, TICKS_PER_BEAT) + b"MTrk" + struct.pack(">I", len(track)) + track


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    out = os.path.abspath(sys.argv[1])
    clips = int(sys.argv[2]) if len(sys.argv) == 3 else 600
    if not os.path.exists(TIMGM6MB_CFG):
        sys.exit(f"{TIMGM6MB_CFG} not found: install timgm6mb-soundfont (and timidity, sox)")
    os.makedirs(os.path.join(out, "audio"), exist_ok=True)
    rows = ["path,labels,split,fold"]
    with tempfile.TemporaryDirectory() as tmp:
        mid, raw = os.path.join(tmp, "p.mid"), os.path.join(tmp, "p.wav")
        for n in range(clips):
            with open(mid, "wb") as f:
                f.write(phrase(1000 + n))
            subprocess.run(["timidity", "-c", TIMGM6MB_CFG, "-quiet", "-Ow", "-s", "16000", "--output-mono", "-o", raw, mid],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wav = os.path.join(out, "audio", f"melody_{n}.wav")
            # sox -R: its dither seeded, so the same packages give the same bytes; pad then trim: exactly 5 s.
            subprocess.run(["sox", "-R", "-V1", "-q", raw, "-b", "16", "-r", "16000", wav, "pad", "0", "5", "trim", "0", "5"], check=True)
            rows.append(f"{wav},melody,train,0")
    with open(os.path.join(out, "melodies.csv.tmp"), "w") as f:
        f.write("\n".join(rows) + "\n")
    os.replace(os.path.join(out, "melodies.csv.tmp"), os.path.join(out, "melodies.csv"))   # written whole or not at all


if __name__ == "__main__":
    main()
