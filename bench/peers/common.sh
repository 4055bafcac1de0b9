# Shared by the peer scripts: stage markers the bench stamps as they arrive, and the Secrets the
# manifests reference (run.py generates them; a peer has to create them by hand).
#
# Environment: KUBECTL, NAMESPACE, MANIFESTS, WAIT_TIMEOUT (e.g. 300s), SECRETS_FILE (lines of
# "name key=value key=value ..." written by the bench from asky_scripts/model/secrets.py).

set -eu

k() { "$KUBECTL" "$@"; }

stage() { echo "@stage $1"; }

create_secrets() {
  while read -r name literals; do
    set --
    for pair in $literals; do set -- "$@" "--from-literal=$pair"; done
    # A re-run keeps the existing values, as run.py does.
    k get secret "$name" -n "$NAMESPACE" >/dev/null 2>&1 ||
      k create secret generic "$name" -n "$NAMESPACE" "$@" >/dev/null
  done <"$SECRETS_FILE"
}
