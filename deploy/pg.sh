#!/usr/bin/env bash
# A private PostgreSQL 15 cluster for tests, the demo and benchmarks (SPEC §8).
#
#   deploy/pg.sh start   DIR   initdb on first use, then start; no-op when running
#   deploy/pg.sh stop    DIR   fast shutdown; fine when already stopped
#   deploy/pg.sh status  DIR   exit 0 when running, 3 when not
#   deploy/pg.sh dsn     DIR   prints the libpq connection string of the `ayni` database
#   deploy/pg.sh destroy DIR   stop, then delete DIR (only a DIR this script created)
#
# Layout: DIR/data (PGDATA), DIR/sock (the Unix socket, mode 0700), DIR/log/postgres.log.
# No TCP at all (listen_addresses = ''): clients connect over the socket in DIR/sock.
#
# Authentication: `trust` for local (socket) connections, as the superuser `postgres`.
# That is safe here only because the socket directory is private (0700, owned by the
# cluster's user), so nobody but that user and root can reach the socket. Never use
# this cluster layout for production; deploy/ has the production role set-up.
#
# Durability stays on: fsync and synchronous_commit are ON (SPEC §9: benchmarks measure
# durable commits; SPEC §10: acknowledged transfers survive a crash).
#
# PostgreSQL refuses to run as root. When run as root, initdb and pg_ctl run as the
# unprivileged `postgres` user (created by Debian's postgresql package) and DIR is owned
# by it; DIR must then be reachable by that user — a checkout in a 0700 home is not, so
# callers pass a directory under /var/tmp (e.g. /var/tmp/ayni-<hash of checkout>/pg).
set -euo pipefail

readonly pg_bin=/usr/lib/postgresql/15/bin
readonly port=5432            # only names the socket file; no TCP listener
readonly marker=.ayni-pg      # marks a DIR this script created (destroy checks it)
readonly superuser=postgres
readonly database=ayni

usage() {
  echo "usage: $0 start|stop|status|dsn|destroy DIR" >&2
  exit 2
}

[ $# -eq 2 ] || usage
cmd=$1
dir_arg=$2
case "$dir_arg" in
  /*) dir=$dir_arg ;;
  *) dir=$(pwd)/$dir_arg ;;
esac
dir=${dir%/}
data=$dir/data
sock=$dir/sock
log=$dir/log/postgres.log

if [ ! -x "$pg_bin/pg_ctl" ]; then
  echo "pg.sh: $pg_bin/pg_ctl not found; run deploy/install-deps.sh (postgresql-15)" >&2
  exit 1
fi

# Runs a command as the cluster's user: `postgres` when we are root, else ourselves.
# From DIR, so that a cwd the postgres user cannot enter (a 0700 home) does not matter.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd "$dir" && runuser -u postgres -- "$@")
  else
    (cd "$dir" && "$@")
  fi
}

running() {
  [ -f "$data/PG_VERSION" ] || return 1
  as_owner "$pg_bin/pg_ctl" status -D "$data" >/dev/null 2>&1
}

ready() {
  "$pg_bin/pg_isready" -q -h "$sock" -p "$port" -U "$superuser" -d postgres
}

prepare_dir() {
  # A Unix socket path is limited to 107 bytes; fail early with a clear message.
  local sock_file="$sock/.s.PGSQL.$port"
  if [ ${#sock_file} -gt 100 ]; then
    echo "pg.sh: socket path too long (${#sock_file} bytes): $sock_file; use a shorter DIR" >&2
    exit 1
  fi
  (umask 022 && mkdir -p "$dir")  # parents we create stay searchable by postgres
  touch "$dir/$marker"
  if [ "$(id -u)" -eq 0 ]; then
    if ! id -u postgres >/dev/null 2>&1; then
      echo "pg.sh: running as root but there is no 'postgres' user (install postgresql-15)" >&2
      exit 1
    fi
    # Every parent must be searchable by postgres; we do not loosen directories we did
    # not create, we only say which one blocks.
    if ! runuser -u postgres -- test -x "$dir"; then
      echo "pg.sh: user postgres cannot reach $dir (a parent is not searchable);" \
        "use a directory under /var/tmp" >&2
      exit 1
    fi
    chown postgres: "$dir" "$dir/$marker"
  fi
  chmod 0700 "$dir"
  as_owner mkdir -p "$dir/log" "$sock"
  as_owner chmod 0700 "$sock"
}

init_cluster() {
  [ -f "$data/PG_VERSION" ] && return 0
  echo "pg.sh: initdb $data" >&2
  as_owner "$pg_bin/initdb" -D "$data" -U "$superuser" -E UTF8 --locale=C \
    --auth-local=trust --auth-host=reject >"$dir/log/initdb.log" 2>&1 || {
    cat "$dir/log/initdb.log" >&2
    exit 1
  }
  # Appended last, so these win over the defaults above them.
  as_owner tee -a "$data/postgresql.conf" >/dev/null <<EOF

# ---- deploy/pg.sh: private test/demo cluster ----
listen_addresses = ''                  # Unix socket only
unix_socket_directories = '$sock'
unix_socket_permissions = 0700
port = $port
fsync = on                             # durable commits (SPEC §9, §10)
synchronous_commit = on
full_page_writes = on
max_connections = 200                  # tests, concurrent clients, pgbench baseline
shared_buffers = 256MB
wal_buffers = 16MB
wal_compression = lz4                  # smaller full-page images in the WAL
max_wal_size = 2GB
checkpoint_timeout = 15min
logging_collector = off
log_min_messages = warning
EOF
}

start() {
  prepare_dir
  init_cluster
  # A postmaster that was just killed can still look alive for a moment (its pid not yet
  # reaped), and one that is starting or recovering does not accept connections yet:
  # wait until it either accepts connections or is gone, then start it if gone.
  local tries=0
  while running && ! ready; do
    tries=$((tries + 1))
    if [ "$tries" -gt 120 ]; then
      echo "pg.sh: PostgreSQL in $data runs but does not accept connections; see $log" >&2
      exit 1
    fi
    sleep 0.5
  done
  if ! running; then
    as_owner "$pg_bin/pg_ctl" start -D "$data" -l "$log" -w -t 120 >/dev/null || {
      echo "pg.sh: PostgreSQL failed to start; last lines of $log:" >&2
      tail -n 30 "$log" >&2 || true
      exit 1
    }
  fi
  # The `ayni` database: created once.
  local exists
  exists=$(as_owner "$pg_bin/psql" -h "$sock" -p "$port" -U "$superuser" -d postgres -XAtq \
    -c "SELECT 1 FROM pg_database WHERE datname = '$database'")
  if [ "$exists" != 1 ]; then
    as_owner "$pg_bin/createdb" -h "$sock" -p "$port" -U "$superuser" "$database"
  fi
}

stop() {
  if running; then
    as_owner "$pg_bin/pg_ctl" stop -D "$data" -m fast -w -t 60 >/dev/null
  fi
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  status)
    if running; then
      echo "running (socket $sock)"
      exit 0
    fi
    echo "stopped"
    exit 3
    ;;
  dsn) echo "host=$sock port=$port dbname=$database user=$superuser" ;;
  destroy)
    [ -e "$dir" ] || exit 0
    if [ ! -f "$dir/$marker" ]; then
      echo "pg.sh: $dir was not created by pg.sh (no $marker); not deleting it" >&2
      exit 1
    fi
    stop
    rm -rf "$dir"
    ;;
  *) usage ;;
esac
