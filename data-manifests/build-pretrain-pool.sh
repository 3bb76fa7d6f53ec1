#!/usr/bin/env bash
# Builds an unlabelled pool of real audio for pre-training from what Debian packages ship, kept apart from the probing
# tasks of build-offline-benchmark.sh (none of its clips, voices or notes are used), in the manifest format of
# data-manifests/README.md. The label column names the source only; `bat pretrain` ignores it. Not run in CI; the
# audio it writes is never committed.
#
#   data-manifests/build-pretrain-pool.sh OUT_DIR [CLIPS_PER_SOURCE]      (default 600; 5 s clips at 16 kHz)
#
# music    hedgewars-data's music tracks cut into 5 s pieces (the phrases task uses its voice packs, not these).
# speech   espeak-ng reading sentences of the licence texts in /usr/share/common-licenses, voice, pitch and speed
#          drawn per clip (the keywords task speaks single words).
# effects  scenes of 3-5 sound effects at random times: hedgewars-data's effects (not its voices) and hydrogen's
#          drum-kit samples.
# Needs: espeak-ng sox ffmpeg hedgewars-data hydrogen (installed with apt-get when root).
set -euo pipefail

out=${1:?usage: $0 OUT_DIR [CLIPS_PER_SOURCE]}
per=${2:-600}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
bat() { dotnet "$repo/lib/Bat.Cli/bin/Release/net10.0/bat.dll" "$@"; }

need=()
command -v espeak-ng >/dev/null || need+=(espeak-ng)
command -v sox >/dev/null || need+=(sox)
command -v ffmpeg >/dev/null || need+=(ffmpeg)
[ -d /usr/share/games/hedgewars/Data/Music ] || need+=(hedgewars-data)
[ -d /usr/share/hydrogen/data/drumkits ] || need+=(hydrogen)
. "$here/install-missing.sh"
install_missing ${need[@]+"${need[@]}"}

root="$out/pool"
rm -rf "$root"; mkdir -p "$root/audio"
root=$(cd "$root" && pwd)
csv="$root/pool.csv"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "path,labels,split,fold" > "$csv"
RANDOM=7   # the same pool on every machine with the same packages (sox -R: its dither and noise seeded too)

# music: every track to 16 kHz mono, then 5 s pieces, taken round-robin over the tracks up to $per.
n=0
for track in /usr/share/games/hedgewars/Data/Music/*.ogg; do
  name=$(basename "$track" .ogg)
  ffmpeg -nostdin -v error -y -i "$track" -ac 1 -ar 16000 -f segment -segment_time 5 -c:a pcm_s16le "$tmp/${name}_%03d.wav"
done
for piece in $(ls "$tmp"/*.wav | sort -t_ -k2 | head -n "$per"); do
  sox -R -V1 -q "$piece" -b 16 "$root/audio/music_$n.wav" pad 0 5 trim 0 5
  echo "audio/music_$n.wav,music,train,0" >> "$csv"; n=$((n + 1))
done
rm -f "$tmp"/*.wav

# speech: 14-word chunks of the licence texts, one per clip.
voices=(en-us en-gb en-gb-scotland en-gb-x-rp en-029 en-us+f2 en-us+m2 en-gb+f4 de fr es it)
cat /usr/share/common-licenses/* | tr -cs '[:alnum:].,' '\n' | awk 'NF { w = w (w ? " " : "") $0; if (++k == 14) { print w; w = ""; k = 0 } }' \
  | head -n "$per" > "$tmp/lines" || true   # head closes the pipe early
n=0
while IFS= read -r line; do
  v=${voices[$((RANDOM % ${#voices[@]}))]}
  espeak-ng -v "$v" -p $((30 + RANDOM % 40)) -s $((140 + RANDOM % 60)) -w "$tmp/s.wav" "$line"
  sox -R -V1 -q "$tmp/s.wav" -r 16000 -c 1 -b 16 "$root/audio/speech_$n.wav" pad 0 5 trim 0 5
  echo "audio/speech_$n.wav,speech,train,0" >> "$csv"; n=$((n + 1))
done < "$tmp/lines"

# effects: 3-5 random sounds, each after a random silence, in one 5 s clip.
mapfile -t sounds < <(find /usr/share/games/hedgewars/Data/Sounds -maxdepth 1 -name '*.ogg'; \
                      find /usr/share/hydrogen/data/drumkits \( -name '*.wav' -o -name '*.flac' \))
for n in $(seq 0 $((per - 1))); do
  parts=()
  count=$((3 + RANDOM % 3))   # drawn here: a $(...) subshell re-seeds RANDOM, so a draw inside it is not repeatable
  for k in $(seq 1 "$count"); do
    sox -R -V1 -q "${sounds[$((RANDOM % ${#sounds[@]}))]}" -r 16000 -c 1 -b 16 "$tmp/e$k.wav" trim 0 2 pad "0.$((RANDOM % 10))" 0
    parts+=("$tmp/e$k.wav")
  done
  sox -R -V1 -q "${parts[@]}" "$root/audio/effects_$n.wav" pad 0 5 trim 0 5
  echo "audio/effects_$n.wav,effects,train,0" >> "$csv"
done

printf '{\n  "name": "real-audio-pool",\n  "kind": "multiclass",\n  "classes": ["music", "speech", "effects"],\n  "sampleRate": 16000,\n  "clipSeconds": 5,\n  "metric": "accuracy"\n}\n' > "${csv%.csv}.json"
bat data check "$csv"
# The audio's digest: two builds with the same packages write the same audio, so equal digests mean equal pools.
(cd "$root" && find audio -name '*.wav' -type f | LC_ALL=C sort | xargs sha256sum) > "$root/audio.sha256"
echo "pool: $(($(wc -l < "$csv") - 1)) clips in $csv, audio digest $(sha256sum < "$root/audio.sha256" | cut -c1-16)"
