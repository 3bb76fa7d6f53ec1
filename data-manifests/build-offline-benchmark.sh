#!/usr/bin/env bash
# Builds a richer offline benchmark from real (or realistically synthesised) audio that Debian packages ship,
# in the manifest format of data-manifests/README.md. Not run in CI; the audio it writes is never committed.
#
#   data-manifests/build-offline-benchmark.sh OUT_DIR [keywords|instruments|phrases ...]
#
# (a) keywords    espeak-ng speech in Speech Commands layout (10 command words + other words, several voices,
#                 pitches and speeds as speakers, noise recordings), then `bat data manifest speechcommands`.
# (b) instruments General-MIDI notes rendered by timidity + fluid-soundfont-gm; label = GM family (16 classes);
#                 split by program (programs 6 and 7 of each family are valid / test: unseen instruments).
# (c) phrases     hedgewars-data voice packs (real recorded voices); label = phrase; split by speaker.
# Needs: espeak-ng sox ffmpeg timidity fluid-soundfont-gm hedgewars-data (installed with apt-get when root).
set -euo pipefail

out=${1:?usage: $0 OUT_DIR [keywords|instruments|phrases ...]}
shift
parts=("$@")
[ ${#parts[@]} -eq 0 ] && parts=(keywords instruments phrases)
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
bat() { dotnet "$repo/lib/Bat.Cli/bin/Release/net10.0/bat.dll" "$@"; }
mkdir -p "$out"
out=$(cd "$out" && pwd)

need=()
command -v espeak-ng >/dev/null || need+=(espeak-ng)
command -v sox >/dev/null || need+=(sox)
command -v ffmpeg >/dev/null || need+=(ffmpeg)
command -v timidity >/dev/null || need+=(timidity)
[ -e /usr/share/sounds/sf2/FluidR3_GM.sf2 ] || need+=(fluid-soundfont-gm)
[ -d /usr/share/games/hedgewars/Data/Sounds/voices ] || need+=(hedgewars-data)
. "$here/install-missing.sh"
install_missing ${need[@]+"${need[@]}"}

# Writes the JSON sidecar of a manifest: sidecar NAME KIND SECONDS METRIC CLASS...
sidecar() {
  local csv=$1 name=$2 kind=$3 seconds=$4 metric=$5; shift 5
  local classes="" c
  for c in "$@"; do classes+="${classes:+, }\"$c\""; done
  printf '{\n  "name": "%s",\n  "kind": "%s",\n  "classes": [%s],\n  "sampleRate": 16000,\n  "clipSeconds": %s,\n  "metric": "%s"\n}\n' \
    "$name" "$kind" "$classes" "$seconds" "$metric" > "${csv%.csv}.json"
}

# Brings any audio to 16 kHz mono 16-bit, padded or cut to SECONDS: to16k IN OUT SECONDS
# sox -R: repeatable (its dither and noise seeded), so every build writes the same audio.
to16k() { sox -R -V1 -q "$1" -r 16000 -c 1 -b 16 "$2" pad 0 "$3" trim 0 "$3"; }

keywords() {
  local root="$out/keywords"
  rm -rf "$root"; mkdir -p "$root/_background_noise_"
  local words=(yes no up down left right on off stop go bed bird cat dog happy house marvin sheila tree wow
               zero one two three four five six seven eight nine)
  # A speaker = voice (+ variant) x pitch x speed. Speakers of the last voice are test, of the one before valid
  # (unseen voices), so the keyword task measures generalisation across speakers as Speech Commands does.
  # espeak-ng 1.51 ignores a +variant on en-gb (en-gb+m7 speaks exactly as en-gb), which made the test speaker a
  # byte-identical copy of a training speaker; every voice here sounds different (checked with md5sum).
  local voices=(en-us en-gb en-gb-scotland en-gb-x-rp en-029 en-gb-x-gbclan en-gb-x-gbcwmd en-us+f3 en-us+m3 en-gb-scotland+m3 en-us+f5 en-us+m7)
  local pitches=(30 50 70) speeds=(140 175)
  local nv=${#voices[@]} vi v p s w id list tmp
  tmp=$(mktemp -d)
  : > "$root/validation_list.txt"; : > "$root/testing_list.txt"
  for vi in "${!voices[@]}"; do
    v=${voices[$vi]}
    list=""
    if [ "$vi" -eq $((nv - 2)) ]; then list="$root/validation_list.txt"; fi
    if [ "$vi" -eq $((nv - 1)) ]; then list="$root/testing_list.txt"; fi
    for p in "${pitches[@]}"; do for s in "${speeds[@]}"; do
      id=$(printf '%s:%s:%s' "$v" "$p" "$s" | md5sum | cut -c1-8)
      for w in "${words[@]}"; do
        mkdir -p "$root/$w"
        espeak-ng -v "$v" -p "$p" -s "$s" -w "$tmp/x.wav" "$w"
        to16k "$tmp/x.wav" "$root/$w/${id}_nohash_0.wav" 1
        if [ -n "$list" ]; then echo "$w/${id}_nohash_0.wav" >> "$list"; fi
      done
    done; done
  done
  # Background recordings for _silence_: coloured noises and a filtered hum, 30 s each.
  sox -R -q -n -r 16000 -b 16 "$root/_background_noise_/white_noise.wav" synth 30 whitenoise vol 0.1
  sox -R -q -n -r 16000 -b 16 "$root/_background_noise_/pink_noise.wav" synth 30 pinknoise vol 0.2
  sox -R -q -n -r 16000 -b 16 "$root/_background_noise_/brown_noise.wav" synth 30 brownnoise vol 0.3
  sox -R -q -n -r 16000 -b 16 "$root/_background_noise_/hum.wav" synth 30 sine 50 sine 100 brownnoise remix - vol 0.2
  rm -rf "$tmp"
  bat data manifest speechcommands --root "$root"
}

# A one-note Standard MIDI File (format 0, 96 ticks per quarter, 120 bpm): midi_note FILE PROGRAM NOTE VELOCITY
# The note lasts 3 quarters (1.5 s); the track is: program change, note on, (288 ticks) note off, end of track.
midi_note() {
  local file=$1 program=$2 note=$3 velocity=$4
  local track
  track=$(printf '\\x00\\xc0\\x%02x\\x00\\x90\\x%02x\\x%02x\\x82\\x20\\x80\\x%02x\\x00\\x00\\xff\\x2f\\x00' "$program" "$note" "$velocity" "$note")
  { printf 'MThd\x00\x00\x00\x06\x00\x00\x00\x01\x00\x60'
    printf 'MTrk\x00\x00\x00\x10'   # track length: 16 bytes
    printf "$track"; } > "$file"
}

instruments() {
  local root="$out/instruments"
  rm -rf "$root"; mkdir -p "$root/audio"
  local families=(piano chromatic_percussion organ guitar bass strings ensemble brass reed pipe synth_lead synth_pad
                  synth_effects ethnic percussive sound_effects)
  local csv="$root/instruments.csv" tmp program note velocity split f
  tmp=$(mktemp -d)
  echo "path,labels,split,fold" > "$csv"
  for program in $(seq 0 127); do
    f=${families[$((program / 8))]}
    case $((program % 8)) in 6) split=valid ;; 7) split=test ;; *) split=train ;; esac
    for note in 48 55 60 64 67 72 79 84; do
      velocity=$((70 + (note * 7 + program * 13) % 50))
      midi_note "$tmp/n.mid" "$program" "$note" "$velocity"
      timidity -quiet -Ow -s 16000 --output-mono -o "$tmp/n.wav" "$tmp/n.mid" >/dev/null 2>&1
      to16k "$tmp/n.wav" "$root/audio/p${program}_n${note}.wav" 2
      echo "audio/p${program}_n${note}.wav,$f,$split,0" >> "$csv"
    done
  done
  rm -rf "$tmp"
  sidecar "$csv" gm-instrument-family multiclass 2 accuracy "${families[@]}"
  bat data check "$csv"
}

phrases() {
  local voices=/usr/share/games/hedgewars/Data/Sounds/voices root="$out/phrases"
  rm -rf "$root"; mkdir -p "$root/audio"
  # Phrases spoken by at least 10 speakers become classes; speakers sorted by name, every 5th valid/test.
  local classes
  mapfile -t classes < <(find "$voices" -mindepth 2 -maxdepth 2 -name '*.ogg' -printf '%f\n' | sed 's/\.ogg$//' \
    | sort | uniq -c | awk '$1 >= 10 {print $2}')
  local csv="$root/phrases.csv" i=0 speaker name split phrase sum
  # Some voice packs ship byte-identical recordings of another pack's phrase; only the first copy is kept, since
  # the same clip in train and test is leakage (and `bat data check` refuses it).
  local -A seen=()
  echo "path,labels,split,fold" > "$csv"
  for dir in $(find "$voices" -mindepth 1 -maxdepth 1 -type d | sort); do
    speaker=$(basename "$dir")
    case $((i % 5)) in 3) split=valid ;; 4) split=test ;; *) split=train ;; esac
    mkdir -p "$root/audio/$speaker"
    for phrase in "${classes[@]}"; do
      [ -f "$dir/$phrase.ogg" ] || continue
      sum=$(md5sum < "$dir/$phrase.ogg" | cut -d' ' -f1)
      [ -z "${seen[$sum]:-}" ] || continue
      seen[$sum]=1
      name="audio/$speaker/$phrase.wav"
      ffmpeg -nostdin -v error -y -i "$dir/$phrase.ogg" -ac 1 -ar 16000 -af apad=whole_dur=3 -t 3 -c:a pcm_s16le "$root/$name"
      echo "$name,$phrase,$split,0" >> "$csv"
    done
    i=$((i + 1))
  done
  sidecar "$csv" hedgewars-phrases multiclass 3 accuracy "${classes[@]}"
  echo "${#classes[@]} phrases, $i speakers -> $csv"
  bat data check "$csv"
}

for part in "${parts[@]}"; do
  start=$(date +%s)
  case $part in
    keywords) keywords ;;
    instruments) instruments ;;
    phrases) phrases ;;
    *) echo "unknown part '$part' (keywords, instruments, phrases)" >&2; exit 1 ;;
  esac
  # The audio's digest: two builds with the same packages write the same audio, so equal digests mean equal tasks.
  (cd "$out/$part" && find . -name '*.wav' -type f | LC_ALL=C sort | xargs sha256sum) > "$out/$part/audio.sha256"
  echo "$part: $(( $(date +%s) - start )) s, audio digest $(sha256sum < "$out/$part/audio.sha256" | cut -c1-16)"
done
