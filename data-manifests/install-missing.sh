# Sourced by the build-*.sh scripts: install_missing PACKAGE... installs the Debian packages given (the callers pass
# the ones whose files are missing) with apt-get when run as root, or stops with the command to run; then builds bat
# if it is not built yet. Needs $repo (the repository root).
install_missing() {
  if [ $# -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
      echo "installing $*"
      . "$repo/build/apt-install.sh"
      apt_install "$@"
    else
      echo "missing $*: sudo apt-get install $*" >&2; exit 1
    fi
  fi
  [ -f "$repo/lib/Bat.Cli/bin/Release/net10.0/bat.dll" ] || dotnet build "$repo/BatNotebooks.sln" -c Release >/dev/null
}
