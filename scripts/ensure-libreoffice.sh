#!/usr/bin/env bash
# Debian's libreoffice-calc: the tests recalculate exported workbooks with it.
exec "$(dirname "$0")/ensure-debian-package.sh" /usr/bin/soffice libreoffice-calc "recalculating exported workbooks in the tests"
