#!/usr/bin/env bash
# Runs the `bat` command-line program, building it (Release) first when the sources are newer than the build.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dll="$here/lib/Bat.Cli/bin/Release/net10.0/bat.dll"
stamp="$here/lib/Bat.Cli/bin/Release/net10.0/.built"
if [ ! -f "$dll" ] || [ ! -f "$stamp" ] || [ -n "$(find "$here/lib" "$here/Directory.Build.props" "$here/Directory.Build.targets" "$here/Directory.Packages.props" "$here/data-manifests" \
      -newer "$stamp" \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' -o -name '*.targets' -o -name '*.json' \) -not -path '*/bin/*' -not -path '*/obj/*' -print -quit)" ]; then
  echo "building bat (Release)..." >&2
  dotnet build "$here/lib/Bat.Cli/Bat.Cli.csproj" -c Release -nologo -v quiet -clp:NoSummary ${BAT_BUILD_ARGS:-} >&2
  # The notebook kernel (.NET Interactive) and dotnet-repl, pinned in .config/dotnet-tools.json.
  (cd "$here" && dotnet tool restore >/dev/null) >&2
  touch "$stamp"
fi
exec dotnet "$dll" "$@"
