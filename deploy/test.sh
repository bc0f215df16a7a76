#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs the whole suite through
# ctest. Extra arguments go to ctest (e.g. ./deploy/test.sh -L core, -R Randomized).
#
# Two build trees: build/ (RelWithDebInfo, everything) and build-asan/ (ASan + UBSan over
# the domain core). AYNI_SKIP_ASAN=1 skips the second for quick local runs.
# Exits non-zero on any failure.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc)

"$root/deploy/install-deps.sh"

echo "== build (RelWithDebInfo)"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$root/build" -j"$jobs"

status=0
echo "== ctest (build/)"
(cd "$root/build" && ctest --output-on-failure --timeout 900 "$@") || status=1

if [ "${AYNI_SKIP_ASAN:-0}" != 1 ]; then
  echo "== build (ASan + UBSan, core)"
  cmake -S "$root" -B "$root/build-asan" -DCMAKE_BUILD_TYPE=Debug -DAYNI_SANITIZE=ON \
    -DAYNI_CORE_ONLY=ON >/dev/null
  cmake --build "$root/build-asan" -j"$jobs"
  echo "== ctest (build-asan/)"
  (cd "$root/build-asan" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --output-on-failure --timeout 1800 -L core "$@") || status=1
fi

if [ "$status" -ne 0 ]; then
  echo "test.sh: FAILED"
else
  echo "test.sh: all suites passed"
fi
exit "$status"
