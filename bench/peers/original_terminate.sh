#!/bin/sh
# The original terminate.sh's steps in the seed's order: the namespace, the claims, the volume.
# kubectl delete waits for each object to be gone by default.
. "$(dirname "$0")/common.sh"

stage namespace
k delete namespace "$NAMESPACE" --ignore-not-found --timeout="$WAIT_TIMEOUT"
stage claim
k delete pvc postgres-data -n "$NAMESPACE" --ignore-not-found --timeout="$WAIT_TIMEOUT"
stage volume
k delete pv "$NAMESPACE-postgres-data" --ignore-not-found --timeout="$WAIT_TIMEOUT"
stage done
