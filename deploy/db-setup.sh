#!/usr/bin/env bash
# Production database set-up for aynid on a system PostgreSQL 15 (SPEC §8; docs/operations.md).
#
#   deploy/db-setup.sh [--role ayni] [--database ayni] [--auth peer|password]
#                      [--host /var/run/postgresql] [--port 5432]
#                      [--passfile /etc/ayni/pgpass] [--passfile-owner ayni]
#
# Creates (when missing) a login role that owns one database, and makes sure the role is
# no superuser and can create no roles or databases: aynid needs to create its tables in
# its own database (migrations run at start) and nothing more. Then prints the pg_dsn line
# for /etc/ayni/aynid.conf. Idempotent: run it again at any time.
#
# Authentication:
#   peer (default)  over the local Unix socket, the OS user `ayni` logs in as the role
#                   `ayni` with no password at all (Debian's pg_hba.conf: `local all all
#                   peer`). The role name must equal the OS user aynid runs as.
#   password        a random password (SCRAM) is generated on the first run and written,
#                   with the connection's host, port, database and role, to a libpq
#                   password file (--passfile, mode 0600, owned by --passfile-owner). The
#                   DSN names that file (passfile=…): the password is never printed, never
#                   in the config, and never in PostgreSQL's statement log (logging is
#                   switched off for the statement that sets it). A later run reuses the
#                   password in the file. Add a pg_hba.conf line for the aynid host, e.g.
#                   `hostssl ayni ayni 10.0.0.0/24 scram-sha-256`.
#
# The script talks to PostgreSQL as its superuser `postgres`: run it as root (it switches
# to `postgres` with runuser) or as `postgres`. --host/--port say where PostgreSQL is, both
# for this script and in the printed DSN (a socket directory or a host name).
set -euo pipefail

role=ayni
database=ayni
auth=peer
host=/var/run/postgresql
port=5432
passfile=/etc/ayni/pgpass
passfile_owner=ayni

usage() {
  sed -n '4,6p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

while [ $# -gt 0 ]; do
  case "$1" in
    --role) role=${2:?}; shift 2 ;;
    --database) database=${2:?}; shift 2 ;;
    --auth) auth=${2:?}; shift 2 ;;
    --host) host=${2:?}; shift 2 ;;
    --port) port=${2:?}; shift 2 ;;
    --passfile) passfile=${2:?}; shift 2 ;;
    --passfile-owner) passfile_owner=${2:?}; shift 2 ;;
    -h | --help) usage ;;
    *) echo "db-setup: unknown argument $1" >&2; usage ;;
  esac
done

# Names go into SQL as identifiers: only plain lower-case names are accepted.
for name in "$role" "$database"; do
  if ! [[ "$name" =~ ^[a-z_][a-z0-9_]{0,62}$ ]]; then
    echo "db-setup: \"$name\": role and database names are lower-case letters, digits, _" >&2
    exit 2
  fi
done
case "$auth" in peer | password) ;; *) echo "db-setup: --auth is peer or password" >&2; exit 2 ;; esac
if ! [[ "$port" =~ ^[0-9]{1,5}$ ]]; then
  echo "db-setup: --port must be a number" >&2
  exit 2
fi

# psql as the superuser, reading SQL on stdin (never on the command line: `ps` shows that).
psql_admin() {
  local cmd=(psql -X -q -v ON_ERROR_STOP=1 -h "$host" -p "$port" -d postgres "$@")
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u postgres -- "${cmd[@]}")
  else
    PGUSER=${PGUSER:-postgres} "${cmd[@]}"
  fi
}

# Whether a query prints "1".
exists() { [ "$(psql_admin -tA <<<"$1")" = 1 ]; }

if ! exists "SELECT 1 FROM pg_roles WHERE rolname = '$role'"; then
  psql_admin <<<"CREATE ROLE \"$role\" LOGIN"
  echo "db-setup: created role $role"
fi
# Every run: exactly the rights aynid needs, whatever the role had before.
psql_admin <<<"ALTER ROLE \"$role\" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"

if ! exists "SELECT 1 FROM pg_database WHERE datname = '$database'"; then
  psql_admin <<<"CREATE DATABASE \"$database\" OWNER \"$role\" ENCODING 'UTF8' TEMPLATE template0"
  echo "db-setup: created database $database owned by $role"
else
  psql_admin <<<"ALTER DATABASE \"$database\" OWNER TO \"$role\""
fi
# Nobody else connects by default (PUBLIC has CONNECT on new databases).
psql_admin <<<"REVOKE ALL ON DATABASE \"$database\" FROM PUBLIC; GRANT CONNECT, TEMPORARY ON DATABASE \"$database\" TO \"$role\""

dsn="host=$host port=$port dbname=$database user=$role"

if [ "$auth" = password ]; then
  # libpq password file line: host:port:database:user:password, with ':' and '\' escaped.
  esc() { printf '%s' "$1" | sed 's/[\\:]/\\&/g'; }
  prefix="$(esc "$host"):$port:$(esc "$database"):$(esc "$role"):"
  password=""
  if [ -f "$passfile" ]; then
    line=$(grep -F -- "$prefix" "$passfile" | head -n1 || true)
    password=${line#"$prefix"}
  fi
  if [ -z "$password" ]; then
    # 192 random bits as URL-safe base64 without padding: no quoting needed anywhere.
    password=$(openssl rand -base64 24 | tr '+/' '-_' | tr -d '=\n')
    umask 077
    [ -d "$(dirname "$passfile")" ] || install -d -m 0755 "$(dirname "$passfile")"
    touch "$passfile"
    chmod 0600 "$passfile"
    printf '%s%s\n' "$prefix" "$password" >>"$passfile"
    echo "db-setup: wrote a new password for $role to $passfile (mode 0600)"
  fi
  chmod 0600 "$passfile"
  if id "$passfile_owner" >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
    chown "$passfile_owner" "$passfile"
  else
    echo "db-setup: note: $passfile must be owned by the user aynid runs as ($passfile_owner)"
  fi
  # Statement logging off for this session only, so the password never reaches the log.
  psql_admin <<EOF
SET log_statement = 'none';
SET log_min_duration_statement = -1;
SET password_encryption = 'scram-sha-256';
ALTER ROLE "$role" PASSWORD '$password';
EOF
  unset password
  dsn="$dsn passfile=$passfile"
else
  if ! id "$role" >/dev/null 2>&1; then
    echo "db-setup: note: peer authentication needs an OS user named $role (the user aynid" \
      "runs as): useradd --system --home-dir /var/lib/ayni --shell /usr/sbin/nologin $role"
  fi
fi

echo "db-setup: role $role (login, no superuser) owns database $database"
echo "db-setup: put this line into /etc/ayni/aynid.conf:"
echo "pg_dsn = $dsn"
