#!/usr/bin/env bash
# Install Graphviz's `dot` program when it is missing (Debian/Ubuntu via apt-get, macOS via brew).
set -euo pipefail
if command -v dot >/dev/null 2>&1; then
  exit 0
fi
echo "Graphviz 'dot' not found: installing it." >&2
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq graphviz >/dev/null
elif command -v brew >/dev/null 2>&1; then
  brew install graphviz
else
  echo "Cannot install Graphviz automatically: install the 'graphviz' package (it provides 'dot')." >&2
  exit 1
fi
command -v dot >/dev/null 2>&1
