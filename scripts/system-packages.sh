#!/usr/bin/env bash
# Install the Debian packages napari needs to render under Xvfb, and the DICOM checkers the
# tests use. As root on Debian/Ubuntu this installs what is missing; otherwise it prints the
# command to run.
set -euo pipefail
missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
else
  echo "ivcviewer: not a Debian/Ubuntu system; install the equivalents of: $*" >&2
  exit 0
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "ivcviewer: installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Packages that ship a service (orthanc) must not start it: the tests start their own
  # server on a free port. Deny service starts while installing, unless a policy exists.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "ivcviewer: missing system packages; run as root:" >&2
  echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
fi
