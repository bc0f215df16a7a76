#!/usr/bin/env bash
# card_env.sh COMMAND [ARGS...]: runs COMMAND with its own pcscd and vpcd reader, in a
# private mount + network namespace (SPEC §5, "Testing without hardware"):
#   * unshare --mount --net (needs root, as pcscd does);
#   * a tmpfs on /run/pcscd, so this pcscd's socket is private and no system pcscd is
#     disturbed;
#   * loopback up (it is down in a new network namespace), so vpcd can listen on
#     127.0.0.1:35963 and ayni-vcard can reach it;
#   * `pcscd -f` in the foreground, stopped on exit; its log goes to $AYNI_CARD_LOG_DIR
#     (default: a temporary directory, removed after a pass and kept after a failure)
#     and is printed when COMMAND fails.
# COMMAND starts ayni-vcard itself (the card tests insert and pull the card). Exits with
# COMMAND's status.
set -euo pipefail

if [ "${AYNI_IN_CARD_NS:-0}" != 1 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "card_env.sh: needs root (unshare, pcscd)" >&2
    exit 1
  fi
  exec unshare --mount --net --propagation private env AYNI_IN_CARD_NS=1 "$0" "$@"
fi

own_log_dir=0
if [ -z "${AYNI_CARD_LOG_DIR:-}" ]; then
  AYNI_CARD_LOG_DIR=$(mktemp -d /tmp/ayni-card.XXXXXX)
  own_log_dir=1
fi
log_dir=$AYNI_CARD_LOG_DIR
mkdir -p "$log_dir" /run/pcscd
mount -t tmpfs -o mode=0755 tmpfs /run/pcscd
ip link set lo up

pcscd -f >"$log_dir/pcscd.log" 2>&1 &
pcscd_pid=$!
stop_pcscd() {
  kill "$pcscd_pid" 2>/dev/null || true
  wait "$pcscd_pid" 2>/dev/null || true
}
trap stop_pcscd EXIT

# pcscd is ready when its socket exists. (Probing vpcd's port would look like a card
# being inserted and pulled; ayni-vcard retries until vpcd listens instead.)
for _ in $(seq 1 200); do
  if [ -S /run/pcscd/pcscd.comm ]; then
    break
  fi
  if ! kill -0 "$pcscd_pid" 2>/dev/null; then
    echo "card_env.sh: pcscd exited:" >&2
    cat "$log_dir/pcscd.log" >&2
    exit 1
  fi
  sleep 0.05
done
if [ ! -S /run/pcscd/pcscd.comm ]; then
  echo "card_env.sh: pcscd did not create its socket in 10 s" >&2
  cat "$log_dir/pcscd.log" >&2
  exit 1
fi

export AYNI_CARD_LOG_DIR=$log_dir
status=0
"$@" || status=$?
if [ "$status" -ne 0 ]; then
  echo "card_env.sh: command failed ($status); pcscd log ($log_dir kept):" >&2
  tail -n 50 "$log_dir/pcscd.log" >&2
elif [ "$own_log_dir" = 1 ]; then
  stop_pcscd
  rm -rf "$log_dir"  # card state files hold test keys; nothing to keep after a pass
fi
exit "$status"
