#!/usr/bin/env bash
# Installs checkov, the one manifest gate tool that cannot share /work/venv: it pins dozens of
# packages (boto3, jsonschema, networkx, ...) at versions that would silently move the project's
# own pins. It gets a private virtualenv instead; test_manifest_checkov.py finds it through
# $CHECKOV, else $GATE_VENV/bin/checkov, else /tmp/asky-gates-venv/bin/checkov.
#
# Idempotent: a venv that already holds the pinned version is left alone, so CI can call this
# on every run and pay only the first time on a given machine.
set -euo pipefail

CHECKOV_VERSION="3.3.30"
GATE_VENV="${GATE_VENV:-/tmp/asky-gates-venv}"
PYTHON="${PYTHON:-python3}"

if [[ -x "$GATE_VENV/bin/checkov" ]] \
    && [[ "$("$GATE_VENV/bin/pip" show checkov 2>/dev/null | sed -n 's/^Version: //p')" == "$CHECKOV_VERSION" ]]; then
    echo "checkov $CHECKOV_VERSION already in $GATE_VENV"
    exit 0
fi

"$PYTHON" -m venv "$GATE_VENV"
"$GATE_VENV/bin/python" -m pip install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION"
"$GATE_VENV/bin/checkov" --version
