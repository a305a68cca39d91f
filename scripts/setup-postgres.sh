#!/usr/bin/env bash
# Makes a real PostgreSQL 15 + pgvector 0.8 server available on a Debian 12 machine.
#
# Run as root. Idempotent: a second run only makes sure the cluster is up and exits.
# Prints the DATABASE_URL to use on its last line of standard output.
#
# It also gives the server a certificate from a test CA of its own (for the TLS tests):
# the CA's certificate is at /etc/postgresql/<version>/main/powergym-tls/root.crt.
#
# Why pgvector from source: Debian 12 ships no pgvector package for PostgreSQL 15 that
# is 0.8 (iterative index scans need 0.8), so we build trixie's source package against
# bookworm's postgresql-server-dev-15 with PGXS.
#
# Environment (all optional):
#   PG_VERSION      PostgreSQL major version (default 15)
#   PG_PORT         port of the cluster (default 5432)
#   POWERGYM_DB_USER / POWERGYM_DB_PASSWORD / POWERGYM_DB_NAME  (default powergym)
set -euo pipefail

PG_VERSION=${PG_VERSION:-15}
PG_PORT=${PG_PORT:-5432}
DB_USER=${POWERGYM_DB_USER:-powergym}
DB_PASSWORD=${POWERGYM_DB_PASSWORD:-powergym}
DB_NAME=${POWERGYM_DB_NAME:-powergym}
PGVECTOR_MIN=0.8
BUILD_DIR=${PGVECTOR_BUILD_DIR:-/var/cache/powergym/pgvector-build}

log() { echo "[setup-postgres] $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  log "must run as root (it installs packages and starts the cluster)"
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
PG_BIN=/usr/lib/postgresql/$PG_VERSION/bin
PG_CONFIG=$PG_BIN/pg_config

apt_updated=0
apt_update_once() {
  if [ "$apt_updated" -eq 0 ]; then
    apt-get update -qq >&2
    apt_updated=1
  fi
}

# 1. Server and build headers from Debian's own packages.
need_pkgs=()
for p in "postgresql-$PG_VERSION" "postgresql-server-dev-$PG_VERSION" postgresql-contrib \
         build-essential dpkg-dev openssl; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need_pkgs+=("$p")
done
if [ "${#need_pkgs[@]}" -gt 0 ]; then
  log "installing ${need_pkgs[*]}"
  apt_update_once
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >&2
fi

# 2. pgvector >= 0.8 built from Debian trixie's source package.
sharedir=$("$PG_CONFIG" --sharedir)
installed_vector=""
if [ -f "$sharedir/extension/vector.control" ]; then
  installed_vector=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" "$sharedir/extension/vector.control")
fi
if [ -z "$installed_vector" ] || ! printf '%s\n%s\n' "$PGVECTOR_MIN" "$installed_vector" | sort -V -C; then
  log "building pgvector (found: '${installed_vector:-none}', need >= $PGVECTOR_MIN)"
  src_list=/etc/apt/sources.list.d/powergym-trixie-src.sources
  if [ ! -f "$src_list" ]; then
    cat >"$src_list" <<'EOF'
# Source packages only: lets `apt-get source pgvector` fetch trixie's pgvector 0.8.
# No binary packages come from trixie.
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    apt_updated=0
  fi
  apt_update_once
  rm -rf "$BUILD_DIR"
  mkdir -p "$BUILD_DIR"
  (cd "$BUILD_DIR" && apt-get source -qq pgvector >&2)
  srcdir=$(find "$BUILD_DIR" -mindepth 1 -maxdepth 1 -type d -name 'pgvector-*' | head -n 1)
  [ -n "$srcdir" ] || { log "apt-get source pgvector produced no source tree"; exit 1; }
  # OPTFLAGS="" keeps the build portable: -march=native would tie the .so to this CPU.
  make -s -C "$srcdir" PG_CONFIG="$PG_CONFIG" OPTFLAGS="" -j"$(nproc)" >&2
  make -s -C "$srcdir" PG_CONFIG="$PG_CONFIG" install >&2
  installed_vector=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" "$sharedir/extension/vector.control")
  log "pgvector $installed_vector installed"
fi

# 3. A cluster, listening on loopback, started.
if ! pg_lsclusters -h 2>/dev/null | awk '{print $1" "$2}' | grep -qx "$PG_VERSION main"; then
  log "creating cluster $PG_VERSION/main"
  pg_createcluster "$PG_VERSION" main --port "$PG_PORT" >&2
fi
conf=/etc/postgresql/$PG_VERSION/main/postgresql.conf
# Tests run many per-test databases and concurrency tests use big pools.
if ! grep -q '^# powergym settings' "$conf"; then
  settings_changed=1
  cat >>"$conf" <<EOF
# powergym settings
max_connections = 300
shared_buffers = 512MB
listen_addresses = 'localhost'
EOF
fi
# TLS with a certificate of our own CA, so clients can be tested with sslmode=require,
# verify-ca and verify-full (the CA's certificate is world-readable at $TLS_DIR/root.crt).
TLS_DIR=/etc/postgresql/$PG_VERSION/main/powergym-tls
if [ ! -f "$TLS_DIR/server.crt" ]; then
  log "creating a test CA and a server certificate for localhost in $TLS_DIR"
  mkdir -p "$TLS_DIR"
  openssl req -new -x509 -nodes -days 3650 -subj "/CN=PowerGym test CA" \
    -keyout "$TLS_DIR/root.key" -out "$TLS_DIR/root.crt" 2>/dev/null
  openssl req -new -nodes -subj "/CN=localhost" \
    -keyout "$TLS_DIR/server.key" -out "$TLS_DIR/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$TLS_DIR/server.ext"
  openssl x509 -req -days 3650 -in "$TLS_DIR/server.csr" -CA "$TLS_DIR/root.crt" \
    -CAkey "$TLS_DIR/root.key" -CAcreateserial -extfile "$TLS_DIR/server.ext" \
    -out "$TLS_DIR/server.crt" 2>/dev/null
  chown postgres:postgres "$TLS_DIR/server.key" "$TLS_DIR/server.crt"
  chmod 600 "$TLS_DIR/server.key" "$TLS_DIR/root.key"
  chmod 644 "$TLS_DIR/root.crt" "$TLS_DIR/server.crt"
  chmod 755 "$TLS_DIR"
fi
if ! grep -q '^# powergym tls' "$conf"; then
  cat >>"$conf" <<EOF
# powergym tls
ssl = on
ssl_cert_file = '$TLS_DIR/server.crt'
ssl_key_file = '$TLS_DIR/server.key'
EOF
  tls_changed=1
fi

status=$(pg_lsclusters -h | awk -v v="$PG_VERSION" '$1==v && $2=="main" {print $4}')
if [ "$status" != "online" ]; then
  log "starting cluster $PG_VERSION/main"
  pg_ctlcluster "$PG_VERSION" main start >&2
fi
# Debian starts a new cluster as soon as the package is installed, before our settings
# are written: max_connections and shared_buffers take a restart, TLS a reload.
if [ "$status" = "online" ] && [ "${settings_changed:-0}" = 1 ]; then
  log "restarting cluster $PG_VERSION/main for its new settings"
  pg_ctlcluster "$PG_VERSION" main restart >&2
elif [ "$status" = "online" ] && [ "${tls_changed:-0}" = 1 ]; then
  pg_ctlcluster "$PG_VERSION" main reload >&2
fi
port=$(pg_lsclusters -h | awk -v v="$PG_VERSION" '$1==v && $2=="main" {print $3}')
for _ in $(seq 1 30); do
  "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" && break
  sleep 1
done

# 4. Role and database. The role creates per-test databases and extensions, so it is a
#    superuser on this development/test server; production roles need neither.
psql_admin() { runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$port" "$@"; }
if ! psql_admin -tAc "select 1 from pg_roles where rolname = '$DB_USER'" | grep -q 1; then
  log "creating role $DB_USER"
  psql_admin -c "create role \"$DB_USER\" login superuser password '$DB_PASSWORD'"
fi
if ! psql_admin -tAc "select 1 from pg_database where datname = '$DB_NAME'" | grep -q 1; then
  log "creating database $DB_NAME"
  psql_admin -c "create database \"$DB_NAME\" owner \"$DB_USER\""
fi

# 5. Least privilege, for production-like use and its tests: a schema owner that runs the
#    migrations, and an application role that may only read and write rows (granted with
#    `powergym db grant-app powergym_app`). Neither is a superuser.
for role in powergym_owner powergym_app; do
  if ! psql_admin -tAc "select 1 from pg_roles where rolname = '$role'" | grep -q 1; then
    log "creating role $role"
    psql_admin -c "create role \"$role\" login nosuperuser nocreatedb nocreaterole password '$role'"
  fi
done

echo "postgres://$DB_USER:$DB_PASSWORD@127.0.0.1:$port/$DB_NAME"
