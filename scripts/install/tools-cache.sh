#!/usr/bin/env bash
# Sourced by the tool installers: where slow tool builds are cached, outside the clone, keyed by version,
# so a fresh machine builds each once and later clones reuse it.
#   OBSERVED_TOOLS_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/observed-lambda)/<tool>-<version>/
# test/support/tools.ts reads the same location.
OBSERVED_TOOLS_CACHE="${OBSERVED_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/observed-lambda}"
export OBSERVED_TOOLS_CACHE
mkdir -p "$OBSERVED_TOOLS_CACHE"

# as_root CMD...: runs CMD as root (directly, or through sudo when there is one); otherwise says what is missing.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    echo "install: needs root to run: $*" >&2
    return 1
  fi
}
