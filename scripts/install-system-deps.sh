#!/usr/bin/env bash
# Installs the real backends the tests and the demo run against (Debian packages):
# Prometheus with its remote-write receiver, and the Pushgateway.
set -euo pipefail
need=()
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
command -v prometheus-pushgateway >/dev/null 2>&1 || need+=(prometheus-pushgateway)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# --no-install-recommends keeps the packages from pulling in unrelated exporters.
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# The Debian packages start system services; the tests start their own instances on free ports.
for svc in prometheus prometheus-pushgateway; do
  $SUDO service "$svc" stop >/dev/null 2>&1 || true
done
