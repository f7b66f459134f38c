#!/usr/bin/env bash
# Builds the reference OpenTelemetry Collector (see otelcol-builder.yaml) into
# .tmp/otelcol-peer/otelcol-peer, when Go is installed. Benchmarks that compare
# against it skip with a reason when it is absent.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../../.tmp/otelcol-peer"
if ! command -v go >/dev/null 2>&1; then
  echo "go is not installed; skipping the collector build" >&2
  exit 0
fi
if [ -x "$out/otelcol-peer" ]; then
  echo "$out/otelcol-peer"
  exit 0
fi
mkdir -p "$out"
GOBIN="$out/bin" go install go.opentelemetry.io/collector/cmd/builder@v0.150.0
cd "$out"
sed "s#output_path: ./otelcol-peer#output_path: $out#" "$here/otelcol-builder.yaml" > builder.yaml
"$out/bin/builder" --config builder.yaml >/dev/null
echo "$out/otelcol-peer"
