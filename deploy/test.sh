#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs the whole suite through
# ctest. Extra arguments go to ctest (e.g. ./deploy/test.sh -L core, -R Randomized).
#
# Three build trees: build/ (RelWithDebInfo, everything), build-asan/ (ASan + UBSan over
# the domain core and cardio/) and build-fuzz/ (clang-14 libFuzzer targets under ASan +
# UBSan, each run ~30 s from its committed corpus). AYNI_SKIP_ASAN=1 skips the last two for
# quick local runs; AYNI_SKIP_FUZZ=1 skips only the fuzzers.
# Exits non-zero on any failure.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc)

"$root/deploy/install-deps.sh"

echo "== build (RelWithDebInfo)"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$root/build" -j"$jobs"

# A private PostgreSQL cluster for the server tests (deploy/pg.sh), fresh for every run
# so no state leaks between runs. It lives under /var/tmp, not in the checkout: when run
# as root, PostgreSQL runs as the `postgres` user, who cannot enter a 0700 home. Stopped
# on exit, also on failure or interrupt. Tests that need it read AYNI_TEST_PG and fail
# (never skip) when it is unset.
pg_dir=/var/tmp/ayni-$(printf '%s' "$root" | sha256sum | cut -c1-16)/pg
stop_pg() { "$root/deploy/pg.sh" stop "$pg_dir" || true; }
trap stop_pg EXIT
trap 'exit 130' INT TERM  # so that the EXIT trap runs on a signal too
echo "== PostgreSQL ($pg_dir)"
"$root/deploy/pg.sh" destroy "$pg_dir"
"$root/deploy/pg.sh" start "$pg_dir"
AYNI_TEST_PG=$("$root/deploy/pg.sh" dsn "$pg_dir")
export AYNI_TEST_PG
# The outage test stops and restarts this cluster (tests/server/service).
AYNI_TEST_PG_DIR=$pg_dir
export AYNI_TEST_PG_DIR

status=0
echo "== ctest (build/)"
# Label `slow` (minutes: e.g. the 100k-invoice set-off against GLPK) only with AYNI_SLOW=1.
skip_slow=(-LE slow)
[ "${AYNI_SLOW:-0}" = 1 ] && skip_slow=()
(cd "$root/build" && ctest --output-on-failure --timeout 900 "${skip_slow[@]}" "$@") || status=1

if [ "${AYNI_SKIP_ASAN:-0}" != 1 ]; then
  echo "== build (ASan + UBSan, core)"
  cmake -S "$root" -B "$root/build-asan" -DCMAKE_BUILD_TYPE=Debug -DAYNI_SANITIZE=ON \
    -DAYNI_CORE_ONLY=ON >/dev/null
  cmake --build "$root/build-asan" -j"$jobs"
  echo "== ctest (build-asan/)"
  (cd "$root/build-asan" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --output-on-failure --timeout 1800 -L core "$@") || status=1
fi

if [ "${AYNI_SKIP_ASAN:-0}" != 1 ] && [ "${AYNI_SKIP_FUZZ:-0}" != 1 ]; then
  echo "== build (libFuzzer, clang-14)"
  cmake -S "$root" -B "$root/build-fuzz" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 -DAYNI_FUZZ=ON >/dev/null
  cmake --build "$root/build-fuzz" -j"$jobs"
  echo "== ctest (build-fuzz/)"
  (cd "$root/build-fuzz" && ctest --output-on-failure --timeout 300 -L fuzz "$@") || status=1
fi

if [ "$status" -ne 0 ]; then
  echo "test.sh: FAILED"
else
  echo "test.sh: all suites passed"
fi
exit "$status"
