#!/usr/bin/env bash
# LLRT (AWS's low-latency JavaScript runtime for Lambda, QuickJS engine), the engine of the portable layer
# (dist/layer-portable/) that runs the extension where the function's runtime has no Node.js.
# Built from crates.io with a size-tuned release profile (LTO, one codegen unit, stripped, panic=abort,
# opt-level "s") except QuickJS itself (rquickjs-sys, the C engine, and rquickjs-core, its bindings), kept at
# opt-level 3 because the interpreter is the extension's hot path: 4.75 MB zipped against 6.1 MB for opt-level 3
# everywhere and 4.6 MB for "s" everywhere, at CPU per invocation near opt-level 3's (BENCHMARKS.md, "Engines")) and only the features the extension needs (no AWS SDK bundled, TLS through ring, pure-Rust
# crypto). `--locked` is required: without it a newer `rsa` release candidate breaks `llrt_crypto`.
# Lambda's Amazon Linux 2023 has glibc 2.34, so the binary must need no newer symbol version: hypot, the only one
# a build on a newer glibc picks up, is bound to its first version (llrt-glibc-compat.c), and the result is checked.
# Result: $OBSERVED_TOOLS_CACHE/llrt-<version>-opt-s-qjs3-glibc2.34/bin/llrt. Idempotent; about 20 to 30 minutes of CPU when missing.
set -euo pipefail
source "$(dirname "$0")/tools-cache.sh"

LLRT_VERSION=0.8.1-beta
target="$OBSERVED_TOOLS_CACHE/llrt-$LLRT_VERSION-opt-s-qjs3-glibc2.34"
if [ -x "$target/bin/llrt" ]; then
  exit 0
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "llrt: needs Rust's cargo (https://rustup.rs) to build LLRT $LLRT_VERSION" >&2
  exit 1
fi

case "$(uname -m)" in
  x86_64 | amd64) hypot_base=GLIBC_2.2.5 ;;
  aarch64 | arm64) hypot_base=GLIBC_2.17 ;;
  *)
    echo "llrt: no glibc base version known for $(uname -m)" >&2
    exit 1
    ;;
esac
mkdir -p "$target"
compat="$target/glibc-compat.o"
cc -O2 -fPIC -DHYPOT_BASE_VERSION="$hypot_base" -c "$(dirname "$0")/llrt-glibc-compat.c" -o "$compat"
export RUSTFLAGS="-C link-arg=-Wl,--wrap=hypot -C link-arg=$compat"

export CARGO_PROFILE_RELEASE_LTO=true
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1
export CARGO_PROFILE_RELEASE_STRIP=true
export CARGO_PROFILE_RELEASE_PANIC=abort
export CARGO_PROFILE_RELEASE_OPT_LEVEL=s
nice -n 10 cargo \
  --config 'profile.release.package.rquickjs-sys.opt-level=3' \
  --config 'profile.release.package.rquickjs-core.opt-level=3' \
  install llrt --version "$LLRT_VERSION" --locked \
  --no-default-features --features macro,tls-ring,crypto-rust,no-sdk \
  --root "$target"
newest=$(objdump -T "$target/bin/llrt" | grep -oE 'GLIBC_[0-9.]+' | sort -V | tail -n 1)
if [ "$(printf '%s\nGLIBC_2.34\n' "$newest" | sort -V | tail -n 1)" != GLIBC_2.34 ]; then
  echo "llrt: $target/bin/llrt needs $newest, newer than Amazon Linux 2023's glibc 2.34" >&2
  mv "$target/bin/llrt" "$target/bin/llrt.rejected"
  exit 1
fi
echo "llrt: built $target/bin/llrt (newest glibc symbol version $newest)"
