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
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "ivcviewer: missing system packages; run as root:" >&2
  echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
fi
