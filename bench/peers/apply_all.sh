#!/bin/sh
# Peer (b): what most people type: the namespace, one recursive apply of everything, then wait
# for every Deployment to be Available.
. "$(dirname "$0")/common.sh"

stage namespace
k apply -f "$MANIFESTS/namespace.yaml"
stage secrets
create_secrets
stage apply
# One recursive apply of every manifest directory (the top level also holds .yamllint.yaml,
# which is not a Kubernetes object).
set --
for dir in "$MANIFESTS"/*/; do set -- "$@" -f "$dir"; done
k apply -n "$NAMESPACE" -R "$@"
stage wait
k wait -n "$NAMESPACE" --for=condition=Available deployment --all --timeout="$WAIT_TIMEOUT"
stage done
