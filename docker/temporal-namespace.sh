#!/bin/sh
# Creates the namespace Hookflow runs in, if it does not exist yet.
set -eu
ns="${NAMESPACE:-default}"
temporal operator namespace describe -n "$ns" --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1 ||
  temporal operator namespace create -n "$ns" --retention 72h --address "$TEMPORAL_ADDRESS"
echo "namespace $ns ready"
