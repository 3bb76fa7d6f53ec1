#!/usr/bin/env bash
# The test command (README, .ci/run): installs the Debian tools the tests drive, builds, runs every test,
# and ends with the line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")"

# Debian packages the tests use: chromium draws the notebook HTML; sox and ffmpeg decode non-WAV audio; Jupyter's
# own client executes the notebooks on the .NET kernel (Debian's python3, /usr/bin/python3).
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v sox >/dev/null || missing+=(sox)
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
/usr/bin/python3 -c 'import nbclient, jupyter_client, ipykernel' 2>/dev/null \
  || missing+=(python3-nbclient python3-jupyter-client python3-ipykernel)
command -v jupyter-nbconvert >/dev/null || missing+=(jupyter-nbconvert)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing ${missing[*]} (apt-get)"
    . build/apt-install.sh
    apt_install "${missing[@]}" \
      || echo "warning: could not install ${missing[*]}; tests that need them will fail"
  else
    echo "warning: ${missing[*]} missing and not root; install them with apt-get"
  fi
fi

# The .NET Interactive kernel and dotnet-repl the notebook tests drive, pinned in .config/dotnet-tools.json.
dotnet tool restore >/dev/null || echo "warning: dotnet tool restore failed; the notebook kernel tests will fail"

results=TestResults
rm -rf "$results"
# Build first, then run the tests with a private temp folder removed at exit: the notebook tests write about
# 500 MB of results per run, and a test killed half way cannot clean up after itself. (The build keeps the
# usual temp folder so the compiler server it leaves running does not point at a deleted one.)
dotnet build BatNotebooks.sln -c Release -v quiet -nologo || { echo "0 passed, 1 failed"; exit 1; }
scratch=$(mktemp -d -t bat-tests.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
TMPDIR="$scratch" dotnet test BatNotebooks.sln -c Release --no-build --logger "trx;LogFileName=tests.trx" --results-directory "$results" "$@"
status=$?

trx=$(ls "$results"/*.trx 2>/dev/null | head -n 1)
if [ -n "$trx" ]; then
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  passed=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  failed=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  grep -o 'fuzz drill: [^<&]*' "$trx" | head -n 1   # how many malformed inputs the drill tried
  echo "${passed:-0} passed, ${failed:-0} failed"
else
  echo "0 passed, 1 failed"
  [ $status -eq 0 ] && status=1
fi
exit $status
