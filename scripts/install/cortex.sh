#!/usr/bin/env bash
# Cortex (the engine behind Amazon Managed Service for Prometheus), single binary, for the suites in test/cortex/.
# `go install ...@v1.21.1` refuses the module (its go.mod has replace directives), so the module is downloaded
# from the Go module proxy, copied somewhere writable and built there. The tags matter: without `slicelabels`
# the binary panics on the first push (`slice bounds out of range` in `labels.decodeString`).
# Result: $OBSERVED_TOOLS_CACHE/cortex-<version>/cortex. Idempotent; about 3 minutes of CPU when missing.
set -euo pipefail
source "$(dirname "$0")/tools-cache.sh"

CORTEX_VERSION=1.21.1
target="$OBSERVED_TOOLS_CACHE/cortex-$CORTEX_VERSION"
if [ -x "$target/cortex" ]; then
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "cortex: needs Go (https://go.dev/dl/) to build Cortex $CORTEX_VERSION" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
export GOPATH="${GOPATH:-$(go env GOPATH)}" GOFLAGS=-mod=mod
module_dir=$(cd "$work" && go mod download -json "github.com/cortexproject/cortex@v$CORTEX_VERSION" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
if [ -z "$module_dir" ] || [ ! -d "$module_dir" ]; then
  echo "cortex: go mod download did not give the module directory" >&2
  exit 1
fi
cp -r "$module_dir" "$work/src"
chmod -R u+w "$work/src"
(cd "$work/src" && nice -n 10 go build -tags "netgo slicelabels" -o "$work/cortex" ./cmd/cortex)
mkdir -p "$target"
mv "$work/cortex" "$target/cortex.partial"
mv "$target/cortex.partial" "$target/cortex"
echo "cortex: built $target/cortex"
