#!/usr/bin/env bash
# Debian's chromium, for the HTML report's and the live page's browser tests.
exec "$(dirname "$0")/ensure-debian-package.sh" /usr/bin/chromium chromium "the browser tests"
