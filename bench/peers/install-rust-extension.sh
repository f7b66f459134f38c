#!/usr/bin/env bash
# Builds the Rust OTLP Lambda extension (crate opentelemetry-lambda-extension on crates.io), the peer the
# `peers` benchmark compares against, into $OBSERVED_TOOLS_CACHE/rust-otlp-extension-<version>/bin/.
# Built with the release profile its README recommends for Lambda layers (the workspace profile is not part of
# the published crate): LTO, one codegen unit, stripped, panic=abort. Bench-only (not part of npm test);
# about 15 minutes on 2 cores, once per machine. Prints the binary's path.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=../../scripts/install/tools-cache.sh
source "$here/../../scripts/install/tools-cache.sh"
version=0.2.0
root="$OBSERVED_TOOLS_CACHE/rust-otlp-extension-$version"
if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is not installed; cannot build the Rust OTLP extension" >&2
  exit 1
fi
if [ ! -x "$root/bin/opentelemetry-lambda-extension" ]; then
  # Built into a temporary root and moved in whole, so an interrupted build never looks finished.
  staging="$root.partial"
  rm -rf "$staging"
  CARGO_PROFILE_RELEASE_LTO=true CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 CARGO_PROFILE_RELEASE_STRIP=true \
    CARGO_PROFILE_RELEASE_PANIC=abort nice -n "${BUILD_NICE:-15}" cargo install opentelemetry-lambda-extension --version "$version" --root "$staging" --locked
  rm -rf "$root"
  mv "$staging" "$root"
fi
echo "$root/bin/opentelemetry-lambda-extension"
