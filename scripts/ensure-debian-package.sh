#!/usr/bin/env bash
# ensure-debian-package.sh PROGRAM PACKAGE PURPOSE: install Debian's PACKAGE when the
# executable PROGRAM (a full path) is missing; PURPOSE says what needs it.
# Never fails: where it cannot install (no apt-get, not root and no sudo, the install fails),
# it says why and exits 0, and the tests that need PROGRAM skip with that reason.
set -uo pipefail
PROGRAM="$1" PACKAGE="$2" PURPOSE="$3"
if [ -x "$PROGRAM" ]; then
  exit 0
fi
echo "$PROGRAM not found ($PURPOSE): installing Debian's '$PACKAGE' package." >&2
cannot() {
  echo "Cannot install '$PACKAGE' automatically: $1 (install it by hand)." >&2
  exit 0
}
command -v apt-get >/dev/null 2>&1 || cannot "no apt-get"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  else
    cannot "not root and no password-less sudo"
  fi
fi
$SUDO apt-get update -qq >/dev/null || cannot "apt-get update failed"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  "$PACKAGE" >/dev/null || cannot "apt-get install failed"
if [ ! -x "$PROGRAM" ]; then
  echo "Installed '$PACKAGE', but $PROGRAM is still missing." >&2
fi
exit 0
