#!/usr/bin/env bash
# LLRT (AWS's low-latency JavaScript runtime for Lambda, QuickJS engine), the engine of the portable layer
# (dist/layer-portable/) that runs the extension where the function's runtime has no Node.js.
# Built from crates.io with a size-tuned release profile (LTO, one codegen unit, stripped, panic=abort,
# opt-level 3) and only the features the extension needs (no AWS SDK bundled, TLS through ring, pure-Rust
# crypto). `--locked` is required: without it a newer `rsa` release candidate breaks `llrt_crypto`.
# Result: $OBSERVED_TOOLS_CACHE/llrt-<version>/bin/llrt. Idempotent; about 20 to 30 minutes of CPU when missing.
set -euo pipefail
source "$(dirname "$0")/tools-cache.sh"

LLRT_VERSION=0.8.1-beta
target="$OBSERVED_TOOLS_CACHE/llrt-$LLRT_VERSION"
if [ -x "$target/bin/llrt" ]; then
  exit 0
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "llrt: needs Rust's cargo (https://rustup.rs) to build LLRT $LLRT_VERSION" >&2
  exit 1
fi

export CARGO_PROFILE_RELEASE_LTO=true
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1
export CARGO_PROFILE_RELEASE_STRIP=true
export CARGO_PROFILE_RELEASE_PANIC=abort
export CARGO_PROFILE_RELEASE_OPT_LEVEL=3
nice -n 10 cargo install llrt --version "$LLRT_VERSION" --locked \
  --no-default-features --features macro,tls-ring,crypto-rust,no-sdk \
  --root "$target"
echo "llrt: built $target/bin/llrt"
