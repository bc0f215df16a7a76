#!/usr/bin/env bash
# The layout rules of STYLE.md ("the directories are the architecture") that a grep can
# check, over the source tree given as $1:
#   * cardio/ (the card, the kiosk) and server/ never include each other;
#   * clearing/ (the domain core) includes neither cardio/, server/, proto/ nor generated
#     protobuf code (ayni/v1/…);
#   * proto/client/ (ayni_client, shared by `ayni` and `ayni-kiosk`) includes neither
#     cardio/ nor server/.
# Each offending include is printed as file:line; the exit status is 1 if there is any.
# First it checks itself: a planted violation in a scratch tree must be found.
set -euo pipefail

root=${1:?usage: layout_test.sh SOURCE_DIR}

# check_tree DIR: prints the offending includes under DIR (paths relative to DIR) and
# returns 1 if there is any.
check_tree() {
  local dir=$1 found=0 out
  rule() {  # rule FROM_DIR PATTERN WHAT
    [ -d "$dir/$1" ] || return 0
    if out=$(cd "$dir" && grep -rnE --include='*.h' --include='*.cc' --include='*.cpp' \
        "^[[:space:]]*#[[:space:]]*include[[:space:]]*[\"<]($2)" "$1"); then
      while IFS= read -r line; do
        local file=${line%%:*} rest=${line#*:}
        echo "layout violation: $file:${rest%%:*}: $3: ${rest#*:}"
      done <<<"$out"
      found=1
    fi
  }
  rule server 'cardio/' 'server/ must not include cardio/'
  rule cardio 'server/' 'cardio/ must not include server/'
  rule clearing 'cardio/|server/|proto/|ayni/v1/|grpc|google/protobuf|pqxx' \
    'clearing/ (the domain core) must not include cardio/, server/, proto/, gRPC, protobuf or SQL'
  rule proto/client 'cardio/|server/' 'proto/client/ must not include cardio/ or server/'
  return "$found"
}

# Self-check: one planted violation per direction must be reported with its file:line.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/server/api" "$scratch/cardio/kiosk"
printf '#pragma once\n#include "cardio/record.h"\n' >"$scratch/server/api/planted.h"
printf '#include <string>\n  #include "server/cli/output.h"\n' >"$scratch/cardio/kiosk/planted.cc"
if self=$(check_tree "$scratch"); then
  echo "layout_test: the checker missed planted violations" >&2
  exit 1
fi
for want in "server/api/planted.h:2: server/ must not include cardio/" \
            "cardio/kiosk/planted.cc:2: cardio/ must not include server/"; do
  if ! grep -qF "$want" <<<"$self"; then
    echo "layout_test: the checker did not report \"$want\"; it said:" >&2
    echo "$self" >&2
    exit 1
  fi
done

if check_tree "$root"; then
  echo "layout_test: cardio/, server/, clearing/ and proto/client/ include only what STYLE.md allows"
else
  echo "layout_test: FAILED (see STYLE.md, Layout)" >&2
  exit 1
fi
