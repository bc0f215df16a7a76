#!/usr/bin/env bash
# The production material in deploy/ used for real (SPEC §8):
#   gen-tls.sh        keys 0600, SANs, refuses to overwrite;
#   db-setup.sh       against the PostgreSQL of AYNI_TEST_PG: twice (idempotent), in peer and
#                     password mode; the role is no superuser; the password is never printed;
#   aynid.conf.example parsed by aynid, which then serves with the role db-setup made
#                     (migrations as a non-superuser) and the certificates gen-tls made;
#   systemd/aynid.service has its hardening and passes `systemd-analyze verify` where that
#                     tool exists (its absence is reported, not a failure).
#
#   tests/deploy/deploy_test.sh SOURCE_DIR AYNID
# Without AYNI_TEST_PG the test FAILS (never skips).
set -euo pipefail

src=$1
aynid=$2
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

[ -n "${AYNI_TEST_PG:-}" ] || fail "AYNI_TEST_PG is not set. Run ./deploy/test.sh, or:" \
  "deploy/pg.sh start DIR && export AYNI_TEST_PG=\"\$(deploy/pg.sh dsn DIR)\""

# host= and port= of the test cluster (deploy/pg.sh dsn: keyword=value, no quoting).
pg_host=$(tr ' ' '\n' <<<"$AYNI_TEST_PG" | sed -n 's/^host=//p')
pg_port=$(tr ' ' '\n' <<<"$AYNI_TEST_PG" | sed -n 's/^port=//p')
[ -n "$pg_host" ] && [ -n "$pg_port" ] || fail "AYNI_TEST_PG has no host= or port=: $AYNI_TEST_PG"

tmp=$(mktemp -d /tmp/ayni-deploy-test-XXXXXX)
suffix=$$
roles=("ayni_peer_$suffix" "ayni_pw_$suffix")
aynid_pid=""
cleanup() {
  [ -z "$aynid_pid" ] || kill "$aynid_pid" 2>/dev/null || true
  [ -z "$aynid_pid" ] || wait "$aynid_pid" 2>/dev/null || true
  for r in "${roles[@]}"; do
    psql -X -q "$AYNI_TEST_PG" -c "DROP DATABASE IF EXISTS $r WITH (FORCE)" >/dev/null 2>&1 || true
    psql -X -q "$AYNI_TEST_PG" -c "DROP ROLE IF EXISTS $r" >/dev/null 2>&1 || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

q() { psql -X -tA "$AYNI_TEST_PG" -c "$1"; }

# ---- gen-tls.sh ----------------------------------------------------------------------------
"$src/deploy/gen-tls.sh" "$tmp/tls" ayni.example 192.0.2.7 >"$tmp/gen.out"
for f in ca.key server.key; do
  [ "$(stat -c %a "$tmp/tls/$f")" = 600 ] || fail "$f is not mode 0600"
done
san=$(openssl x509 -in "$tmp/tls/server.pem" -noout -ext subjectAltName)
for want in DNS:ayni.example "IP Address:192.0.2.7" DNS:localhost "IP Address:127.0.0.1"; do
  grep -qF "$want" <<<"$san" || fail "server.pem lacks $want: $san"
done
openssl verify -CAfile "$tmp/tls/ca.pem" "$tmp/tls/server.pem" >/dev/null || fail "chain"
if "$src/deploy/gen-tls.sh" "$tmp/tls" ayni.example >/dev/null 2>&1; then
  fail "gen-tls.sh overwrote an existing server key"
fi

# ---- db-setup.sh, peer mode, twice -----------------------------------------------------------
peer=${roles[0]}
"$src/deploy/db-setup.sh" --host "$pg_host" --port "$pg_port" --role "$peer" \
  --database "$peer" >"$tmp/peer1.out"
"$src/deploy/db-setup.sh" --host "$pg_host" --port "$pg_port" --role "$peer" \
  --database "$peer" >"$tmp/peer2.out" || fail "second db-setup run failed"
grep -qx "pg_dsn = host=$pg_host port=$pg_port dbname=$peer user=$peer" "$tmp/peer2.out" ||
  fail "peer DSN: $(cat "$tmp/peer2.out")"
[ "$(q "SELECT rolsuper::text || rolcanlogin::text || rolcreatedb::text || rolcreaterole::text
        FROM pg_roles WHERE rolname = '$peer'")" = falsetruefalsefalse ] || fail "role rights"
[ "$(q "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '$peer'")" = "$peer" ] ||
  fail "database owner"
# A superuser made by hand is demoted by the next run.
q "ALTER ROLE $peer SUPERUSER" >/dev/null
"$src/deploy/db-setup.sh" --host "$pg_host" --port "$pg_port" --role "$peer" \
  --database "$peer" >/dev/null
[ "$(q "SELECT rolsuper FROM pg_roles WHERE rolname = '$peer'")" = f ] || fail "not demoted"

# ---- db-setup.sh, password mode, twice -------------------------------------------------------
pw=${roles[1]}
passfile=$tmp/etc/pgpass
for run in 1 2; do
  "$src/deploy/db-setup.sh" --host "$pg_host" --port "$pg_port" --role "$pw" --database "$pw" \
    --auth password --passfile "$passfile" --passfile-owner "$(id -un)" >"$tmp/pw$run.out" 2>&1
done
[ "$(stat -c %a "$passfile")" = 600 ] || fail "passfile is not 0600"
[ "$(wc -l <"$passfile")" = 1 ] || fail "second run added a password: $(wc -l <"$passfile") lines"
password=$(sed 's/.*://' "$passfile")
[ "${#password}" -ge 24 ] || fail "password too short"
for f in "$tmp/pw1.out" "$tmp/pw2.out"; do
  if grep -qF -- "$password" "$f"; then fail "db-setup printed the password"; fi
done
grep -qx "pg_dsn = host=$pg_host port=$pg_port dbname=$pw user=$pw passfile=$passfile" \
  "$tmp/pw2.out" || fail "password DSN: $(cat "$tmp/pw2.out")"
[ "$(q "SELECT rolpassword LIKE 'SCRAM-SHA-256%' FROM pg_authid WHERE rolname = '$pw'")" = t ] ||
  fail "no SCRAM password set"

# ---- aynid with the example config, the db-setup role and the gen-tls pair -------------------
conf=$src/deploy/aynid.conf.example
for key in pg_dsn listen admin_key_file tls_cert_file tls_key_file clearing_key_file; do
  grep -q "^$key = " "$conf" || fail "aynid.conf.example does not set $key"
done
dsn=$(sed -n 's/^pg_dsn = //p' "$tmp/peer2.out")
# Every value of the example is overridden by a flag: the file is parsed (a syntax error
# would stop aynid), the settings come from this test.
"$aynid" --config "$conf" --pg-dsn "$dsn" --listen 127.0.0.1:0 \
  --admin-key-file "$tmp/admin.key" --clearing-key-file "$tmp/clearing.key" \
  --tls-cert-file "$tmp/tls/server.pem" --tls-key-file "$tmp/tls/server.key" \
  >"$tmp/aynid.out" 2>"$tmp/aynid.err" &
aynid_pid=$!
for _ in $(seq 600); do
  grep -q "^aynid: listening on 127.0.0.1:" "$tmp/aynid.out" && break
  kill -0 "$aynid_pid" 2>/dev/null || break
  sleep 0.1
done
grep -q "^aynid: listening on 127.0.0.1:" "$tmp/aynid.out" ||
  fail "aynid did not start with the example config: $(cat "$tmp/aynid.err")"
[ "$(stat -c %a "$tmp/admin.key")" = 600 ] || fail "admin key not 0600"
owner=$(psql -X -tA "$AYNI_TEST_PG dbname=$peer" \
  -c "SELECT tableowner FROM pg_tables WHERE tablename = 'batches'")
[ "$owner" = "$peer" ] || fail "migrations did not run as the db-setup role: owner '$owner'"
kill -TERM "$aynid_pid"
wait "$aynid_pid" || fail "aynid did not stop cleanly"
aynid_pid=""
if grep -qF -- "$(sed -n 2p "$tmp/tls/server.key")" "$tmp/aynid.err" "$tmp/aynid.out"; then
  fail "aynid printed its TLS key"
fi

# ---- the systemd unit --------------------------------------------------------------------------
unit=$src/deploy/systemd/aynid.service
for line in User=ayni "ExecStart=/usr/local/bin/aynid --config /etc/ayni/aynid.conf" \
  NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
  ReadWritePaths=/var/lib/ayni Restart=on-failure; do
  grep -qx -- "$line" "$unit" || fail "aynid.service lacks $line"
done
grep -q "^After=.*postgresql.service" "$unit" || fail "aynid.service is not After=postgresql"
if command -v systemd-analyze >/dev/null 2>&1; then
  mkdir -p "$tmp/unit"
  # The binary is not installed here: verify the unit with the built one in its place.
  sed "s#/usr/local/bin/aynid#$aynid#" "$unit" >"$tmp/unit/aynid.service"
  systemd-analyze verify "$tmp/unit/aynid.service" || fail "systemd-analyze verify"
  echo "deploy_test: systemd-analyze verify passed"
else
  echo "deploy_test: systemd-analyze not installed; the unit was checked by its lines only"
fi
echo "deploy_test: ok"
