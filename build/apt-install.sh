# Sourced by ./test.sh and data-manifests/install-missing.sh: apt_install PACKAGE... installs Debian packages with
# apt-get (the caller checks it runs as root). Another apt-get may be running (a data-manifests/build-*.sh script
# beside the tests, say): the install waits for the dpkg lock (DPkg::Lock::Timeout), and since apt-get update does not
# honour that option, the update is retried while its error is the lock, for up to 15 minutes.
apt_install() {
  local out tries=0
  until out=$(apt-get update -qq 2>&1); do
    if ! grep -q "Could not get lock" <<<"$out" || [ $((tries += 1)) -gt 90 ]; then echo "$out" >&2; return 1; fi
    sleep 10
  done
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq "$@" >/dev/null
}
