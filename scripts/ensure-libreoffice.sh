#!/usr/bin/env bash
# Install Debian's `libreoffice-calc` (the tests recalculate exported workbooks with it)
# when /usr/bin/soffice is missing.
# Never fails: where it cannot install (no apt-get, not root and no sudo, the install fails),
# it says why and exits 0, and the recalculation tests skip with that reason.
set -uo pipefail
if [ -x /usr/bin/soffice ]; then
  exit 0
fi
echo "LibreOffice not found at /usr/bin/soffice: installing Debian's 'libreoffice-calc' package." >&2
if ! command -v apt-get >/dev/null 2>&1; then
  echo "Cannot install LibreOffice automatically: no apt-get" \
    "(install the 'libreoffice-calc' package by hand)." >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  else
    echo "Cannot install LibreOffice automatically: not root and no password-less sudo." >&2
    exit 0
  fi
fi
if ! $SUDO apt-get update -qq >/dev/null \
  || ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    libreoffice-calc >/dev/null; then
  echo "Cannot install LibreOffice automatically: apt-get failed (install 'libreoffice-calc' by hand)." >&2
  exit 0
fi
if [ ! -x /usr/bin/soffice ]; then
  echo "Installed 'libreoffice-calc', but /usr/bin/soffice is still missing." >&2
fi
exit 0
