#!/usr/bin/env bash
# Makes Debian's Chromium available for the browser test (npm run test:browser), once.
# playwright-core drives it at /usr/bin/chromium; playwright's own browser downloads are not used.
#
#   scripts/setup-browser.sh     # installs the `chromium` package (apt-get, as root) when missing
#
# Idempotent: with /usr/bin/chromium present it only prints the version. apt-get update runs only
# when the package lists do not know `chromium` yet.
set -euo pipefail
say() { printf 'setup-browser: %s\n' "$*"; }
CHROMIUM=/usr/bin/chromium

if [[ ! -x $CHROMIUM ]]; then
  if [[ $(id -u) != 0 ]]; then
    say "$CHROMIUM is missing: run as root, or: sudo apt-get install chromium"
    exit 1
  fi
  if ! apt-cache show chromium >/dev/null 2>&1; then
    say 'apt-get update'
    apt-get update -qq >/dev/null
  fi
  say 'installing chromium (apt-get)'
  started=$SECONDS
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  say "installed in $((SECONDS - started)) s"
fi
say "$("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM does not run")"
