#!/usr/bin/env bash
# Everything the test suites need on a fresh machine, installed when missing and skipped when present:
# Debian packages (as root), Node.js 22 and 24 next to the checkout, and the tools in scripts/install/
# (each builds into the cache outside the clone named in scripts/install/tools-cache.sh).
# `npm test` runs this first, so a newcomer types nothing else. A tool that cannot be installed is reported
# here and its suites skip with the reason, except under CI=true, where this script fails.
set -uo pipefail
cd "$(dirname "$0")/.."
failed=()
run() {
  local name=$1
  shift
  if ! "$@"; then
    failed+=("$name")
    echo "install-test-deps: $name could not be installed (see above)" >&2
  fi
}
run system-packages bash scripts/install-system-deps.sh
run node-runtimes bash scripts/install-node-runtimes.sh >/dev/null
for installer in scripts/install/*.sh; do
  case "$installer" in */tools-cache.sh) continue ;; esac
  run "$(basename "$installer" .sh)" bash "$installer" >/dev/null
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "install-test-deps: missing: ${failed[*]}" >&2
  if [ "${CI:-}" = true ]; then exit 1; fi
fi
exit 0
