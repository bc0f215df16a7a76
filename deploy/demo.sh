#!/usr/bin/env bash
# The run command: a community bank network's day on a private Ayni deployment.
#
#   ./deploy/demo.sh         installs what is missing, builds, starts a private PostgreSQL
#                            and aynid on 127.0.0.1, runs the scripted day with the `ayni`
#                            CLI, ends with the reserve audit, and leaves the server running
#   ./deploy/demo.sh stop    stops aynid and PostgreSQL
#
# Every run starts from an empty database, so running it twice in a row works.
# Server state (pid, log, the admin key) lives in ./var/; the PostgreSQL cluster lives in
# /var/tmp/ayni-<hash of this checkout>/demo-pg, because when run as root PostgreSQL runs
# as the `postgres` user, who cannot enter a private (0700) home directory.
# AYNI_DEMO_PORT picks the port (default 7443; 0 = any free port).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
var="$root/var"
pg_dir=/var/tmp/ayni-$(printf '%s' "$root" | sha256sum | cut -c1-16)/demo-pg
port=${AYNI_DEMO_PORT:-7443}

stop() {
  if [ -f "$var/aynid.pid" ]; then
    local pid
    pid=$(cat "$var/aynid.pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$var/aynid.pid"
  fi
  if [ -x "$root/deploy/pg.sh" ] && [ -d "$pg_dir" ]; then "$root/deploy/pg.sh" stop "$pg_dir" >/dev/null; fi
}

if [ "${1:-}" = stop ]; then
  stop
  echo "demo: stopped aynid and PostgreSQL"
  exit 0
fi
[ $# -eq 0 ] || { echo "usage: $0 [stop]" >&2; exit 64; }

"$root/deploy/install-deps.sh"
echo "== build"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$root/build" -j"$(nproc)" --target aynid ayni ayni-kiosk ayni-vcard >/dev/null

stop
mkdir -p "$var"
echo "== PostgreSQL ($pg_dir)"
"$root/deploy/pg.sh" destroy "$pg_dir" >/dev/null
"$root/deploy/pg.sh" start "$pg_dir" >/dev/null
dsn=$("$root/deploy/pg.sh" dsn "$pg_dir")

echo "== aynid"
rm -f "$var/admin.key"
sock="$var/aynid.sock"
start_aynid() {
  : >"$var/aynid.log"
  nohup "$root/build/server/service/aynid" --pg-dsn "$dsn" --listen "127.0.0.1:$port" \
    --listen-unix "$sock" --admin-key-file "$var/admin.key" \
    --clearing-key-file "$var/clearing.key" >>"$var/aynid.log" 2>&1 &
  echo $! >"$var/aynid.pid"
  for _ in $(seq 300); do
    grep -q "listening on" "$var/aynid.log" && break
    kill -0 "$(cat "$var/aynid.pid")" 2>/dev/null || { cat "$var/aynid.log" >&2; exit 1; }
    sleep 0.1
  done
  address=$(sed -n 's/^aynid: listening on //p' "$var/aynid.log" | head -1)
  [ -n "$address" ] || { echo "demo: aynid did not start" >&2; cat "$var/aynid.log" >&2; exit 1; }
}
stop_aynid() {
  local pid
  pid=$(cat "$var/aynid.pid")
  kill "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -f "$var/aynid.pid"
}
start_aynid
echo "aynid listening on $address and unix:$sock (log: $var/aynid.log)"

ayni() { "$root/build/server/cli/ayni" --server "$address" --key-file "$var/admin.key" "$@"; }
# Runs an ayni command, shows its output, and prints the value of field $1 on fd 3.
field() {
  local name=$1 out
  shift
  out=$(ayni "$@")
  printf '%s\n' "$out" >&2
  printf '%s\n' "$out" | sed -n "s/^$name: *//p" | head -1
}
step() { printf '\n== %s\n' "$*" >&2; }
# A command the rules must refuse (exit 2): show the reason, fail the demo otherwise.
refused() {
  local rc=0
  ayni "$@" >&2 || rc=$?
  [ "$rc" -eq 2 ] || { echo "demo: expected a refusal, got exit $rc" >&2; exit 1; }
}

step "A deployment sharing the Brazilian real"
ayni init BRL --scale 100 >&2
step "Two community banks, each issuing its own guaranteed currency"
ayni bank create PALMAS "Banco Palmas" >&2
ayni bank create SOL "Banco Sol" >&2
ayni currency create PALMAS PALMA >&2
ayni currency create SOL SOLAR >&2
step "Members and accounts"
ana=$(field "member id" member create PALMAS "Ana")
caio=$(field "member id" member create PALMAS "Caio (mercearia)")
bia=$(field "member id" member create SOL "Bia (feira)")
ana_palma=$(field "account id" account open "$ana" PALMA)
caio_palma=$(field "account id" account open "$caio" PALMA --merchant)
bia_solar=$(field "account id" account open "$bia" SOLAR --merchant)
step "A mutual-credit circle at Banco Palmas (credit limit 50.00)"
feira=$(field "circle id" circle create PALMAS FEIRA "Feira solidária" --credit-limit 50.00)
ayni circle add-member "$feira" "$ana" --admin >&2
ayni circle add-member "$feira" "$caio" >&2
ana_feira=$(field "account id" account open "$ana" FEIRA)
caio_feira=$(field "account id" account open "$caio" FEIRA)

step "Deposits: Ana brings R\$ 100.00 to the teller"
ayni issue "$ana_palma" 100.00 >&2
step "Payments: within Banco Palmas, and to Bia at Banco Sol"
ayni pay "$ana_palma" "$caio_palma" 12.50 --memo "arroz e feijão" >&2
ayni pay "$ana_palma" "$bia_solar" 30.00 --memo "verduras" >&2
step "Mutual credit: Ana pays Caio 20.00 FEIRA, going below zero within her limit"
ayni pay "$ana_feira" "$caio_feira" 20.00 --memo "conserto" >&2
step "Redemption: Caio changes 10.00 PALMA back to reais (2% fee)"
ayni redeem "$caio_palma" 10.00 >&2
step "A municipal programme funds Banco Palmas' reserve; the bank distributes benefits"
ayni fund-reserve PALMAS 500.00 --memo "programa municipal" >&2
ayni distribute "$ana_palma" 300.00 --memo "benefício municipal" >&2
step "A distribution above the reserve's excess is refused"
refused distribute "$caio_palma" 250.00 --memo "benefício municipal"
step "Clearing cycle between the banks"
ayni clearing run >&2

step "Obligation set-off: four workshops owe each other (a cycle plus a tail)"
costura=$(field "member id" member create PALMAS "Oficina de costura")
marcenaria=$(field "member id" member create PALMAS "Marcenaria")
serralheria=$(field "member id" member create PALMAS "Serralheria")
estamparia=$(field "member id" member create SOL "Estamparia")
# Each invoice is registered by the creditor's bank: DEBTOR CREDITOR CURRENCY AMOUNT.
inv_ce=$(field invoice invoice register "$costura" "$estamparia" PALMA 80.00 --due 2026-11-10 --reference "NF 101 camisetas")
inv_em=$(field invoice invoice register "$estamparia" "$marcenaria" PALMA 60.00 --due 2026-11-12 --reference "NF 7 bancada")
inv_mc=$(field invoice invoice register "$marcenaria" "$costura" PALMA 50.00 --due 2026-11-15 --reference "NF 33 aventais")
inv_cs=$(field invoice invoice register "$costura" "$serralheria" PALMA 25.00 --due 2026-11-20 --reference "NF 5 grades")
inv_sc=$(field invoice invoice register "$serralheria" "$costura" PALMA 30.00 --due 2026-11-20 --reference "NF 34 uniformes")
step "Debtors confirm their invoices; one is disputed and stays out of set-off"
for inv in "$inv_ce" "$inv_em" "$inv_mc" "$inv_cs"; do ayni invoice confirm "$inv" >&2; done
ayni invoice dispute "$inv_sc" --reason "uniformes não entregues" >&2
refused invoice confirm "$inv_sc"
step "In the FEIRA circle Ana owes Caio 45.00 and Caio owes Ana 15.00"
inv_ac=$(field invoice invoice register "$ana" "$caio" FEIRA 45.00 --due 2026-11-05 --reference "conserto do fogão")
inv_ca=$(field invoice invoice register "$caio" "$ana" FEIRA 15.00 --due 2026-11-05 --reference "verduras")
ayni invoice confirm "$inv_ac" >&2
ayni invoice confirm "$inv_ca" >&2
ayni invoice list >&2
step "Set-off with mutual credit as extra liquidity: a dry run first (nothing written)"
ayni setoff run --cutoff 2026-11-30 --mutual-credit --dry-run >&2
step "The run itself: one atomic group, one journal entry, notices per invoice"
ayni setoff run --cutoff 2026-11-30 --mutual-credit >&2
ayni invoice list --open >&2
step "The run's notices as CSV, for the workshops' spreadsheets"
ayni --csv setoff show >&2

step "Balances"
ayni account list --bank PALMAS >&2
ayni account list --bank SOL >&2
step "Solidarity microcredit: a group of three at Banco Palmas borrows from the reserve's excess"
dora=$(field "member id" member create PALMAS "Dora (costura)")
producao=$(field "product id" loans product create PALMAS "Produção" BRL --max 500.00 \
  --rate-bp 100 --instalments 4 --period-days 30)
grupo=$(field "group id" loans group create PALMAS "Mulheres da feira" "$ana" "$caio" "$dora" \
  --liable "$ana,$caio")
emprestimo=$(field "loan id" loans disburse "$producao" 120.00 --group "$grupo" \
  --memo "máquina de costura")
step "The group repays its first instalment: interest 1.20, then principal 30.00"
ayni loans repay "$emprestimo" 31.20 >&2
ayni loans show "$emprestimo" >&2
ayni loans portfolio --bank PALMAS >&2
if [ "$(id -u)" -eq 0 ]; then
  # The card steps need a card reader: a private pcscd with the vpcd driver and ayni-vcard
  # as Ana's card, in their own mount + network namespace (tests/cardio/card_env.sh). The
  # kiosk reaches aynid over its Unix socket from in there.
  card_id=ca000000000000000000000000000a1a
  card_state="$var/card-ana.state"
  kiosk_dir="$var/kiosk"
  desk_dir="$var/desk"
  rm -rf "$kiosk_dir" "$desk_dir" "$card_state" "$card_state".*
  mkdir -p -m 0700 "$kiosk_dir" "$desk_dir"
  terminal=7e0000000000000000000000000000c1
  # Runs "$@" with Ana's card in the reader.
  with_card() {
    "$root/tests/cardio/card_env.sh" bash -c '
      "$0" --state "$1" run >>"$2/vcard.log" 2>&1 &
      card=$!
      shift 2
      status=0
      "$@" || status=$?
      kill "$card"
      wait "$card" 2>/dev/null || true
      exit "$status"' "$root/build/cardio/vcard/ayni-vcard" "$card_state" "$var" "$@"
  }
  # The bank's desk (a TELLER key) and the kiosk, as commands with_card can run.
  desk=("$root/build/cardio/kiosk/ayni-kiosk" --dir "$desk_dir" --server "unix:$sock"
    --key-file "$desk_dir/api.key")

  step "Cards: a kiosk at Caio's grocery makes its own key and is registered at Banco Palmas"
  kiosk_pub=$("$root/build/cardio/kiosk/ayni-kiosk" --dir "$kiosk_dir" init --terminal-id "$terminal" \
    --merchant-account "$caio_palma" | tee /dev/stderr | sed -n 's/^public key: *//p')
  kiosk_id=$(field "kiosk id" kiosk register --terminal-id "$terminal" --public-key "$kiosk_pub" \
    --merchant "$caio_palma" --label "Mercearia do Caio")
  ayni key create kiosk terminal "$kiosk_id" "kiosk mercearia do Caio" \
    --token-file "$kiosk_dir/api.key" >&2
  ayni key create teller bank PALMAS "balcão Banco Palmas" --token-file "$desk_dir/api.key" >&2
  kiosk=("$root/build/cardio/kiosk/ayni-kiosk" --dir "$kiosk_dir" --server "unix:$sock"
    --key-file "$kiosk_dir/api.key" --kiosk-id "$kiosk_id")
  step "The bank's desk is a terminal too: its load records go up like a kiosk's receipts"
  desk_pub=$("${desk[@]}" init --terminal-id 7e0000000000000000000000000000d1 |
    tee /dev/stderr | sed -n 's/^public key: *//p')
  palmas=$(field "member id" member create PALMAS "Banco Palmas (balcão)")
  palmas_merchant=$(field "account id" account open "$palmas" PALMA --merchant)
  desk_kiosk=$(field "kiosk id" kiosk register --terminal-id 7e0000000000000000000000000000d1 \
    --public-key "$desk_pub" --merchant "$palmas_merchant" --label "Balcão Banco Palmas")
  ayni key create kiosk terminal "$desk_kiosk" "balcão: uploads" \
    --token-file "$desk_dir/upload.key" >&2
  step "At the bank's desk Ana gets a purse card: the card makes its key, the bank certifies it"
  with_card "${desk[@]}" issue --card-id "$card_id" --account "$ana_palma" --payment-max 50.00 \
    --offline-max 200.00 --offline-count-max 20 --balance-max 500.00 --expiry 2030-01-01 >&2
  step "The teller loads 60.00 from Ana's account onto the card (PALMA → CARD_FLOAT)"
  with_card "${desk[@]}" load 60.00 >&2
  step "The desk uploads the card's load record; the kiosk syncs the banks' keys and deny-list"
  "${desk[@]}" --key-file "$desk_dir/upload.key" --kiosk-id "$desk_kiosk" sync >&2
  "${kiosk[@]}" sync >&2
  step "The server goes away; Ana buys 12.50 of groceries at the kiosk, offline"
  stop_aynid
  with_card "${kiosk[@]}" pay 12.50 >&2
  "${kiosk[@]}" status >&2
  rc=0
  "${kiosk[@]}" sync >&2 || rc=$?
  [ "$rc" -eq 3 ] || { echo "demo: sync without a server should exit 3, got $rc" >&2; exit 1; }
  step "The server is back: the kiosk uploads its receipt and Caio is paid from CARD_FLOAT, once"
  start_aynid
  "${kiosk[@]}" sync >&2
  "${kiosk[@]}" sync >&2
  ayni card show "$card_id" >&2
  ayni account show "$caio_palma" >&2
  step "Card audit: the card float against the cards' shadow balances"
  ayni audit cards >&2
else
  step "Cards: skipped (the card reader needs root for its private pcscd; run the demo as root)"
fi
step "Reserve audit"
ayni audit reserves >&2

cat <<MSG

The demo network is running: aynid on $address, PostgreSQL in $pg_dir.
Use it with the admin key the server minted (never printed; kept in $var/admin.key):

  build/server/cli/ayni --server $address --key-file var/admin.key account show $ana_palma
  build/server/cli/ayni --server $address --key-file var/admin.key --help

Stop everything with: ./deploy/demo.sh stop
MSG
