#!/usr/bin/env bash
# Python functions in the sandbox: AWS's runtime interface client (awslambdaric, the client Lambda's
# managed Python runtimes start) and the OpenTelemetry Python SDK with the aws-lambda instrumentation
# wrapper, in one virtual environment in the tools cache:
#   $OBSERVED_TOOLS_CACHE/python-runtime-<version>/venv/bin/python
# The function's own process runs that interpreter; no Node.js is involved.
set -euo pipefail
. "$(dirname "$0")/tools-cache.sh"
AWSLAMBDARIC_VERSION=4.2.2
OTEL_INSTRUMENTATION_VERSION=0.66b1
# The SDK release that goes with the 0.66b1 instrumentation packages.
OTEL_SDK_VERSION=1.45.1
dir="$OBSERVED_TOOLS_CACHE/python-runtime-$AWSLAMBDARIC_VERSION-$OTEL_INSTRUMENTATION_VERSION"
if [ -x "$dir/venv/bin/python" ] && [ -f "$dir/complete" ]; then
  exit 0
fi
command -v python3 >/dev/null 2>&1 || { echo "python-runtime: python3 is not on PATH" >&2; exit 1; }
rm -rf "$dir"
mkdir -p "$dir"
python3 -m venv "$dir/venv"
"$dir/venv/bin/python" -m pip install -q --disable-pip-version-check \
  "awslambdaric==$AWSLAMBDARIC_VERSION" \
  "opentelemetry-api==$OTEL_SDK_VERSION" \
  "opentelemetry-sdk==$OTEL_SDK_VERSION" \
  "opentelemetry-exporter-otlp-proto-http==$OTEL_SDK_VERSION" \
  "opentelemetry-instrumentation-aws-lambda==$OTEL_INSTRUMENTATION_VERSION"
"$dir/venv/bin/python" -c 'import awslambdaric.bootstrap, opentelemetry.sdk, opentelemetry.exporter.otlp.proto.http, opentelemetry.instrumentation.aws_lambda'
touch "$dir/complete"
echo "$dir/venv/bin/python"
