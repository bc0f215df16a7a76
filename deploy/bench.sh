#!/usr/bin/env bash
# The benchmark run (issue 5, SPEC §9): Ayni's durable throughput and latency side by side
# with the naive-SQL baseline (pgbench tpcb-like) on the same PostgreSQL, in one run.
#
#   ./deploy/bench.sh           full run (about 10 minutes)
#   ./deploy/bench.sh --quick   short run (under 3 minutes)
#
# Starts its own PostgreSQL (fsync and synchronous_commit on, as pg.sh sets them) under
# /var/tmp/ayni-<hash>/bench-pg and its own aynid, runs ayni-loadgen scenarios, then
# pgbench, and prints a table; the last line of output is one JSON object with every
# figure. Everything it starts is stopped on exit. Working files: ./var/bench/.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
quick=0
case "${1:-}" in
  --quick) quick=1 ;;
  "") ;;
  *) echo "usage: $0 [--quick]" >&2; exit 64 ;;
esac
if [ "$quick" = 1 ]; then secs=8; pgsecs=8; else secs=30; pgsecs=30; fi

"$root/deploy/install-deps.sh"
echo "== build (Release)" >&2
cmake -S "$root" -B "$root/build-bench" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$root/build-bench" -j"$(nproc)" --target aynid ayni-loadgen ayni_bench_store >/dev/null

var="$root/var/bench"
mkdir -p "$var"
pg_dir=/var/tmp/ayni-$(printf '%s' "$root" | sha256sum | cut -c1-16)/bench-pg
aynid_pid=
cleanup() {
  if [ -n "$aynid_pid" ]; then kill "$aynid_pid" 2>/dev/null || true; wait "$aynid_pid" 2>/dev/null || true; fi
  "$root/deploy/pg.sh" stop "$pg_dir" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== PostgreSQL ($pg_dir)" >&2
"$root/deploy/pg.sh" destroy "$pg_dir" >/dev/null
"$root/deploy/pg.sh" start "$pg_dir" >/dev/null
dsn=$("$root/deploy/pg.sh" dsn "$pg_dir")
# host=… port=… dbname=… user=… → pgbench's flags
pg_host=$(sed -E 's/.*host=([^ ]+).*/\1/' <<<"$dsn")
pg_port=$(sed -E 's/.*port=([^ ]+).*/\1/' <<<"$dsn")
pg_user=$(sed -E 's/.*user=([^ ]+).*/\1/' <<<"$dsn")
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
psql_() { "$pgbin/psql" -h "$pg_host" -p "$pg_port" -U "$pg_user" -X -q -t -A "$@"; }

# WAL files as a cluster in service has them. A fresh cluster creates each 16 MB WAL segment
# the first time it needs one, zero-filling and fsyncing it inside the commit that crosses
# into it: 30–80 ms of a batch every ≈ 1.7 s under Pay here, which all 64 clients wait
# out (docs/benchmarks.md, "WAL segments"). A cluster in service renames used segments
# into future ones at each checkpoint instead, at least min_wal_size of them; so create
# 1 GB of segments (64 switches) and let two checkpoints recycle them.
echo "== WAL segments (1 GB, recycled)" >&2
psql_ -d postgres -c "ALTER SYSTEM SET min_wal_size = '1GB'" -c "SELECT pg_reload_conf()" >/dev/null
psql_ -d postgres >/dev/null <<'SQL'
DO $$
BEGIN
  FOR i IN 1..64 LOOP
    PERFORM pg_logical_emit_message(false, 'ayni-bench', 'warm-up');
    PERFORM pg_switch_wal();
  END LOOP;
END $$;
CHECKPOINT;
CHECKPOINT;
SQL

echo "== aynid" >&2
rm -f "$var/admin.key"
"$root/build-bench/server/service/aynid" --pg-dsn "$dsn" --listen 127.0.0.1:0 \
  --admin-key-file "$var/admin.key" >"$var/aynid.out" 2>"$var/aynid.log" &
aynid_pid=$!
addr=
for _ in $(seq 600); do
  addr=$(sed -n 's/^aynid: listening on //p' "$var/aynid.out" | head -n 1)
  [ -n "$addr" ] && break
  kill -0 "$aynid_pid" 2>/dev/null || { cat "$var/aynid.log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$addr" ] || { echo "bench: aynid did not start" >&2; exit 1; }

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$aynid_pid/status"; }
# Where each scenario's CPU goes: the load generator reads aynid's and the postmaster's
# (with its backends) CPU time over its run window, per acknowledged transfer.
postmaster_pid=$(head -n 1 "$pg_dir/data/postmaster.pid")
loadgen() {
  "$root/build-bench/bench/ayni-loadgen" --server "$addr" --key-file "$var/admin.key" \
    --verify-dsn "$dsn" --cpu-pid "aynid=$aynid_pid" --cpu-pid "postgres=$postmaster_pid" "$@"
}

results=()
run() {  # label, loadgen flags…
  local label=$1
  shift
  echo "== $label: ayni-loadgen $*" >&2
  local out
  out=$(loadgen --label "$label" "$@")
  results+=("$out")
  echo "$out" >&2
}

# Memory: resident set per account (set-up of 20,000 accounts), then per transfer (the
# growth over the scenarios up to rss2, less the 4 × 10,001 accounts they open, over the
# transfers they stored).
rss0=$(rss_kb)
run "accounts" --accounts 20000 --clients 1 --duration 0.2
rss1=$(rss_kb)
rss1_transfers=$(psql_ -d ayni -c "SELECT count(*) FROM transfers")
run "batch x1000, 4 clients" --mode batch --batch-size 1000 --clients 4 --accounts 10000 \
  --duration "$secs"
run "Pay, 64 clients, uniform" --mode pay --clients 64 --accounts 10000 --duration "$secs"
run "Pay, 64 clients, one merchant" --mode pay --target hot --clients 64 --accounts 10000 \
  --duration "$secs"
run "Pay, open loop 10k/s" --mode pay --rate 10000 --accounts 10000 --duration "$secs"
rss2=$(rss_kb)
rss_transfers=$(( $(psql_ -d ayni -c "SELECT count(*) FROM transfers") - rss1_transfers ))
# Offline receipts (SPEC §9): kiosks upload pre-signed card records; aynid verifies each
# card signature on both cores and settles CARD_FLOAT → merchant. Records/s in the table.
run "offline receipts x1000, 4 kiosks" --mode offline --batch-size 1000 --clients 4 \
  --accounts 2000 --duration "$secs"
# The unary path without PostgreSQL: GetAccount of random members, answered on the writer
# thread between batches (gRPC in, the writer, the finish thread, gRPC out) with nothing
# to write: the ceiling of unary Pay on this machine if its batch cost nothing. Reads/s.
run "GetAccount, 64 clients, reads/s" --mode read --clients 64 --accounts 10000 \
  --duration "$secs"
# BatchPay again with 16 clients: closed-loop clients all wait on the batch in flight, so
# with 4 of them PostgreSQL idles while the next requests travel; 16 keep the writer's
# queue full and show what the write path itself sustains. Last, because it writes the
# most WAL: the checkpoint it brings on would otherwise fall into the Pay scenarios; and
# after a CHECKPOINT, so that where the WAL-triggered one falls (it cuts the rate by about
# a third while it runs: docs/benchmarks.md) does not decide the figure.
psql_ -d ayni -c "CHECKPOINT" >/dev/null
run "batch x1000, 16 clients" --mode batch --batch-size 1000 --clients 16 --accounts 10000 \
  --duration "$secs"
transfers=$(psql_ -d ayni -c "SELECT count(*) FROM transfers")
accounts=$(psql_ -d ayni -c "SELECT count(*) FROM accounts")
transfer_bytes=$(psql_ -d ayni -c "SELECT (pg_total_relation_size('transfers') / greatest(count(*), 1))::bigint FROM transfers")
batch_bytes=$(psql_ -d ayni -c "SELECT (pg_total_relation_size('batches') / greatest((SELECT count(*) FROM transfers), 1))::bigint")

kill "$aynid_pid"; wait "$aynid_pid" 2>/dev/null || true; aynid_pid=

# The baseline: one transfer per transaction, 8 clients (SPEC §9).
pgbench_tps() {  # scale
  psql_ -d postgres -c "DROP DATABASE IF EXISTS pgbench" >/dev/null
  psql_ -d postgres -c "CREATE DATABASE pgbench" >/dev/null
  "$pgbin/pgbench" -h "$pg_host" -p "$pg_port" -U "$pg_user" -i -q -s "$1" pgbench >/dev/null 2>&1
  "$pgbin/pgbench" -h "$pg_host" -p "$pg_port" -U "$pg_user" -b tpcb-like -c 8 -j 2 \
    -M prepared -T "$pgsecs" pgbench 2>/dev/null |
    sed -n -E 's/^tps = ([0-9.]+) .*without initial connection time.*/\1/p'
}
echo "== pgbench tpcb-like, 8 clients, scale 50 (uniform)" >&2
pg_uniform=$(pgbench_tps 50)
echo "== pgbench tpcb-like, 8 clients, scale 1 (one hot branch row)" >&2
pg_hot=$(pgbench_tps 1)

# The writer's PostgreSQL transaction alone (PgStore::Append by batch size, no gRPC): what
# bounds the durable paths above (docs/benchmarks.md). Transfers/s of Append wall time.
echo "== ayni_bench_store (PgStore::Append, own database in the same cluster)" >&2
store_out=$(AYNI_BENCH_PG="$dsn" "$root/build-bench/bench/ayni_bench_store" \
  --benchmark_min_time="$([ "$quick" = 1 ] && echo 0.5 || echo 2)" 2>&1) ||
  { echo "$store_out" >&2; exit 1; }
echo "$store_out" | grep '^BM_' >&2
# "BM_Uniform/1000/manual_time … items_per_second=35.1k/s" → 35100
store_rate() {
  awk -v name="$1/manual_time" '$1 == name {
    for (i = 1; i <= NF; i++) if ($i ~ /^items_per_second=/) {
      v = substr($i, 18); sub(/\/s$/, "", v); m = 1
      if (v ~ /k$/) { m = 1e3; sub(/k$/, "", v) } else if (v ~ /M$/) { m = 1e6; sub(/M$/, "", v) }
      printf "%.0f", v * m; found = 1
    }
  } END { if (!found) print 0 }' <<<"$store_out"
}

field() { sed -E "s/.*\"$2\":(\"[^\"]*\"|[^,}]*).*/\1/" <<<"$1" | tr -d '"'; }
per_account=$(( (rss1 - rss0) * 1024 / 20001 ))
per_transfer=$(( ((rss2 - rss1) * 1024 - 4 * 10001 * per_account) / (rss_transfers > 0 ? rss_transfers : 1) ))
{
  printf '\n%-32s %14s %9s %9s %9s %8s %9s\n' "scenario" "transfers/s" "p50 ms" "p99 ms" \
    "p99.9 ms" "verified" "x pgbench"
  for r in "${results[@]:1}"; do
    acc=$(field "$r" accepted_per_s)
    printf '%-32s %14s %9s %9s %9s %8s %9s\n' "$(field "$r" label)" "$acc" "$(field "$r" p50_ms)" \
      "$(field "$r" p99_ms)" "$(field "$r" p999_ms)" "$(field "$r" verified)" \
      "$([ "$(field "$r" mode)" = read ] && echo - ||
        awk -v a="$acc" -v b="$pg_uniform" 'BEGIN { printf "%.1f", a / b }')"
  done
  # CPU of the run window a transfer (a read, a record), in µs, and busy cores of the machine.
  printf '\n%-32s %9s %9s %9s %11s\n' "CPU a transfer (µs)" "postgres" "aynid" "loadgen" \
    "busy cores"
  for r in "${results[@]:1}"; do
    printf '%-32s %9s %9s %9s %11s\n' "$(field "$r" label)" "$(field "$r" postgres)" \
      "$(field "$r" aynid)" "$(field "$r" loadgen)" "$(field "$r" busy_cores)"
  done
  printf '\n%-32s %14s\n' "pgbench tpcb-like, uniform" "$pg_uniform"
  printf '%-32s %14s\n' "pgbench tpcb-like, hot row" "$pg_hot"
  for n in 1 16 64 1000 4000; do
    printf '%-32s %14s\n' "PgStore::Append x$n, uniform" "$(store_rate "BM_Uniform/$n")"
  done
  for n in 16 1000; do
    printf '%-32s %14s\n' "PgStore::Append x$n, merchant" "$(store_rate "BM_HotMerchant/$n")"
  done
  for n in 1000 4000; do
    printf '%-32s %14s\n' "2 x PgStore::Append x$n at once" "$(store_rate "BM_TwoWriters/$n")"
  done
  printf '\naynid resident memory: %d bytes per account (20,000 opened), %d bytes per stored transfer (%d transfers)\n' \
    "$per_account" "$per_transfer" "$rss_transfers"
  printf 'PostgreSQL: %d bytes per transfer row (with indexes), %d bytes of journal per transfer; %d accounts\n' \
    "$transfer_bytes" "$batch_bytes" "$accounts"
  printf 'machine: %s, %s cores, %s\n' "$(. /etc/os-release; echo "$PRETTY_NAME")" "$(nproc)" \
    "$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
} >&2

json="{\"quick\":$([ "$quick" = 1 ] && echo true || echo false),\"scenarios\":[$(IFS=,; echo "${results[*]:1}")]"
json+=",\"pgbench_tpcb_uniform_tps\":$pg_uniform,\"pgbench_tpcb_hot_tps\":$pg_hot"
json+=",\"store_append_per_s\":{$(for n in 1 16 64 1000 4000; do printf '"uniform_%s":%s,' "$n" "$(store_rate "BM_Uniform/$n")"; done)\"merchant_16\":$(store_rate BM_HotMerchant/16),\"merchant_1000\":$(store_rate BM_HotMerchant/1000),\"two_writers_1000\":$(store_rate BM_TwoWriters/1000),\"two_writers_4000\":$(store_rate BM_TwoWriters/4000)}"
json+=",\"rss_bytes_per_account\":$per_account,\"rss_bytes_per_transfer\":$per_transfer"
json+=",\"pg_bytes_per_transfer_row\":$transfer_bytes,\"pg_journal_bytes_per_transfer\":$batch_bytes"
json+=",\"rss_transfers\":$rss_transfers,\"transfers\":$transfers,\"cores\":$(nproc)}"
echo "$json"
