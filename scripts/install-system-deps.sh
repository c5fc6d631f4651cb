#!/usr/bin/env bash
# System packages the tests use, from Debian (never a downloaded build):
#   chromium    the report's browser test (driven by Playwright through /usr/bin/chromium)
#   postgresql  the service's PostgreSQL tests (a throw-away cluster per test session)
# Without root, prints the command to run instead; the tests that need a missing package are
# skipped with a reason that says so.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null || missing+=(postgresql)
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "missing system packages: ${missing[*]}; install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
