#!/bin/sh
# Peer (a): the original run.sh's steps in the seed's order (namespace, PV/PVC, ConfigMaps,
# postgres, wait for its pod, show its log, then the apps and their Services), followed by a
# wait for every Deployment to be Available and every Service to have a ready endpoint, so it
# stops at the same finish line as run.py (which waits for both).
# NetworkPolicies and PodDisruptionBudgets did not exist in the original; they are applied with
# the ConfigMaps so both contenders end with the same objects.
. "$(dirname "$0")/common.sh"

stage namespace
k apply -f "$MANIFESTS/namespace.yaml"
stage secrets
create_secrets
stage storage
k apply -n "$NAMESPACE" -f "$MANIFESTS/persistent-volumes/" -f "$MANIFESTS/persistent-volume-claims/"
stage configuration
k apply -n "$NAMESPACE" -f "$MANIFESTS/config-maps/" -f "$MANIFESTS/network-policies/" \
  -f "$MANIFESTS/disruption-budgets/"
stage database
k apply -n "$NAMESPACE" -f "$MANIFESTS/services/postgres.yaml" -f "$MANIFESTS/deployments/postgres.yaml"
# kubectl wait fails at once while no pod matches yet; the original's author would have
# looped like this (0.1 s steps, so the peer is not slowed down by the loop).
until [ -n "$(k get pods -n "$NAMESPACE" -l app.kubernetes.io/name=postgres -o name)" ]; do
  sleep 0.1
done
k wait -n "$NAMESPACE" --for=condition=Ready pod -l app.kubernetes.io/name=postgres \
  --timeout="$WAIT_TIMEOUT"
k logs -n "$NAMESPACE" -l app.kubernetes.io/name=postgres --tail=20
stage services
for name in auth gateway pyxis request-management; do
  k apply -n "$NAMESPACE" -f "$MANIFESTS/services/$name.yaml" -f "$MANIFESTS/deployments/$name.yaml"
done
k wait -n "$NAMESPACE" --for=condition=Available deployment --all --timeout="$WAIT_TIMEOUT"
# Every Service has a ready endpoint in its EndpointSlices.  One kubectl get per try, not a
# `kubectl wait` per slice (that costs about 0.1 s per object even when already met).
until k get services,endpointslices -n "$NAMESPACE" -o jsonpath='{range .items[*]}{.kind} {.metadata.name} {.metadata.labels.kubernetes\.io/service-name} {.endpoints[*].conditions.ready}{"\n"}{end}' |
  awk '$1 == "Service" { want[$2] = 1 }
       $1 == "EndpointSlice" && / true/ { ready[$3] = 1 }
       END { for (s in want) if (!(s in ready)) exit 1 }'; do
  sleep 0.1
done
stage done
