#!/bin/sh
# observed-lambda exec wrapper, installed in the layer as /opt/observed-instrument.
# Set AWS_LAMBDA_EXEC_WRAPPER=/opt/observed-instrument on a Node.js function: Lambda then
# starts the runtime through this script, which preloads the instrumentation (the
# OpenTelemetry SDK and the handler wrapper) through NODE_OPTIONS and starts the runtime.
# The bundle is found next to this script, wherever the layer was unpacked.
# Pure shell (no subprocess but one grep for a .js handler): it runs on every cold start.

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

# An ES module handler (.mjs, or .js under a package.json with "type": "module") gets the
# preload through --import (preload.mjs, which requires preload.cjs), a CommonJS handler
# through --require. The preload checks again the way the runtime does and installs the
# matching hook either way.
handler=${_HANDLER:-}
name=${handler##*/}
module="${LAMBDA_TASK_ROOT:-$PWD}/${handler%"$name"}${name%%.*}"
format=commonjs
if [ -f "$module" ]; then
  format=commonjs
elif [ -f "$module.js" ]; then
  dir=${module%/*}
  while [ -n "$dir" ]; do
    case "$dir" in */node_modules) break ;; esac
    if [ -f "$dir/package.json" ]; then
      if grep -Eq '"type"[[:space:]]*:[[:space:]]*"module"' "$dir/package.json"; then format=module; fi
      break
    fi
    dir=${dir%/*}
  done
elif [ -f "$module.mjs" ]; then
  format=module
fi

if [ "$format" = module ]; then
  option="--import \"${preload%.cjs}.mjs\""
else
  option="--require \"$preload\""
fi
export OBSERVED_INSTRUMENT_NODE_OPTION="$option"
export NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }$option"
exec "$@"
