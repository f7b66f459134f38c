#!/usr/bin/env bash
# AWS's Lambda Runtime Interface Emulator (the emulator behind `sam local` and Lambda container images),
# a second execution environment beside the sandbox for test/rie/. Built from its Go module into
#   $OBSERVED_TOOLS_CACHE/rie-<version>/aws-lambda-rie
# Idempotent; prints the binary's path. Needs Go (https://go.dev/dl/) and the Go module proxy.
set -euo pipefail
source "$(dirname "$0")/tools-cache.sh"

version=v0.0.0-20261030222936-bef5c4ba774d
dir=$OBSERVED_TOOLS_CACHE/rie-$version
binary=$dir/aws-lambda-rie
if [ -x "$binary" ]; then
  echo "$binary"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "rie: go is not on PATH; install Go to build the Runtime Interface Emulator" >&2
  exit 1
fi
mkdir -p "$dir"
# Build into a scratch directory and move the binary in last, so an interrupted build leaves no half binary.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
CGO_ENABLED=0 GOBIN=$scratch go install "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$version" >&2
mv "$scratch/aws-lambda-rie" "$binary"
echo "$binary"
