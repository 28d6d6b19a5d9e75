#!/usr/bin/env bash
# Install Debian's `chromium` (for the HTML report's browser test) when /usr/bin/chromium is missing.
# Never fails: where it cannot install (no apt-get, not root and no sudo, the install fails),
# it says why and exits 0, and the browser test skips with that reason.
set -uo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
echo "Chromium not found at /usr/bin/chromium: installing Debian's 'chromium' package." >&2
if ! command -v apt-get >/dev/null 2>&1; then
  echo "Cannot install Chromium automatically: no apt-get (install the 'chromium' package by hand)." >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  else
    echo "Cannot install Chromium automatically: not root and no password-less sudo." >&2
    exit 0
  fi
fi
if ! $SUDO apt-get update -qq >/dev/null \
  || ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    chromium >/dev/null; then
  echo "Cannot install Chromium automatically: apt-get failed (install 'chromium' by hand)." >&2
  exit 0
fi
if [ ! -x /usr/bin/chromium ]; then
  echo "Installed 'chromium', but /usr/bin/chromium is still missing." >&2
fi
exit 0
