#!/usr/bin/env bash
# Install Debian's `chromium-driver` (for the live page's browser tests, driven by Selenium)
# when /usr/bin/chromedriver is missing. Never fails: where it cannot install (no apt-get,
# not root and no sudo, the install fails), it says why and exits 0, and the tests skip.
set -uo pipefail
if [ -x /usr/bin/chromedriver ]; then
  exit 0
fi
echo "chromedriver not found at /usr/bin/chromedriver: installing Debian's 'chromium-driver' package." >&2
if ! command -v apt-get >/dev/null 2>&1; then
  echo "Cannot install chromedriver automatically: no apt-get (install 'chromium-driver' by hand)." >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  else
    echo "Cannot install chromedriver automatically: not root and no password-less sudo." >&2
    exit 0
  fi
fi
if ! $SUDO apt-get update -qq >/dev/null \
  || ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    chromium-driver >/dev/null; then
  echo "Cannot install chromedriver automatically: apt-get failed (install 'chromium-driver' by hand)." >&2
  exit 0
fi
if [ ! -x /usr/bin/chromedriver ]; then
  echo "Installed 'chromium-driver', but /usr/bin/chromedriver is still missing." >&2
fi
exit 0
