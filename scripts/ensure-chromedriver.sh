#!/usr/bin/env bash
# Debian's chromium-driver: Selenium drives Chromium through it in the live page's browser tests.
exec "$(dirname "$0")/ensure-debian-package.sh" /usr/bin/chromedriver chromium-driver "the live page's browser tests"
