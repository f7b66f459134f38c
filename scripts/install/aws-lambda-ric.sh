#!/usr/bin/env bash
# AWS's Node.js runtime interface client, the one Lambda's container images run, for test/rie/.
# Installed with its native build into
#   $OBSERVED_TOOLS_CACHE/aws-lambda-ric-<version>/node_modules/aws-lambda-ric
# (outside the clone: the native build takes about 2 minutes). Version 3.3.0 is the newest that runs on
# Node.js 20 (4.x wants 22). The build needs autoconf, automake, libtool, make and a C++ compiler;
# missing Debian packages are installed as root. Idempotent; prints the package's path.
set -euo pipefail
source "$(dirname "$0")/tools-cache.sh"

version=3.3.0
dir=$OBSERVED_TOOLS_CACHE/aws-lambda-ric-$version
package=$dir/node_modules/aws-lambda-ric
if [ -f "$dir/.complete" ] && [ -d "$package" ]; then
  echo "$package"
  exit 0
fi

missing=()
for tool in autoconf:autoconf automake:automake libtoolize:libtool make:make g++:g++ cmake:cmake python3:python3; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool##*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "aws-lambda-ric: installing build tools: ${missing[*]}" >&2
  as_root apt-get install -y --no-install-recommends "${missing[@]}" >&2 || {
    as_root apt-get update >&2 && as_root apt-get install -y --no-install-recommends "${missing[@]}" >&2
  }
fi

rm -rf "$dir"
mkdir -p "$dir"
# Its own package.json, so the checkout's package.json and lock stay untouched.
echo '{"private":true}' >"$dir/package.json"
npm install --prefix "$dir" --no-audit --no-fund --no-package-lock --loglevel=error "aws-lambda-ric@$version" >&2
touch "$dir/.complete"
echo "$package"
