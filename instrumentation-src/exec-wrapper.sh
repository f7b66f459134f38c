#!/bin/sh
# observed-lambda exec wrapper, installed in the layer as /opt/observed-instrument.
# Set AWS_LAMBDA_EXEC_WRAPPER=/opt/observed-instrument on a Node.js function: Lambda then
# starts the runtime through this script, which preloads the instrumentation (the
# OpenTelemetry SDK and the handler wrapper) through NODE_OPTIONS and starts the runtime.
# The bundle is found next to this script, wherever the layer was unpacked.
# Pure shell, no subprocess: it runs on every cold start.

case "$0" in
  /*) here=${0%/*} ;;
  */*) here=$PWD/${0%/*} ;;
  *) here=$PWD ;;
esac
preload="$here/observed-instrument.d/preload.cjs"

if [ "${OTEL_SDK_DISABLED:-}" = "true" ]; then
  exec "$@"
fi
if [ ! -f "$preload" ]; then
  echo "observed-lambda instrumentation: $preload is missing; the function runs without it" >&2
  exec "$@"
fi

# The preload (--require, for CommonJS and ES module handlers alike) finds the handler the way
# the runtime does and arranges for it to be wrapped when the runtime loads it.
option="--require \"$preload\""
export OBSERVED_INSTRUMENT_NODE_OPTION="$option"
export NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }$option"
exec "$@"
