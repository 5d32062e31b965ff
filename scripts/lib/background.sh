# A server a script needs while it runs (`batchsender serve`, the sandbox, a test HTTP server): started
# in the background with its output in a log, stopped when the script ends, and waited for until its
# log says it is ready. 30 s is the longest any script waited for its server before these were one.
# Usage: . scripts/lib/background.sh; start_background LOG READY_TEXT COMMAND...; echo "$background_pid"

. "$(dirname "${BASH_SOURCE[0]}")/on-exit.sh"
. "$(dirname "${BASH_SOURCE[0]}")/wait.sh"

background_ready_seconds=30

# start_background LOG READY_TEXT COMMAND...: returns once LOG holds READY_TEXT (a fixed string; empty
# means any line); exits the script with LOG on stderr if COMMAND ends first or is not ready in time.
# The process id is left in background_pid.
start_background() {
  local log=$1 ready=$2
  shift 2
  "$@" >"$log" 2>&1 &
  background_pid=$!
  on_exit stop_background "$background_pid"
  if wait_until "$background_ready_seconds" ready_or_gone "$background_pid" "$log" "$ready" && grep -qF -- "$ready" "$log"; then
    return 0
  fi
  if kill -0 "$background_pid" 2>/dev/null; then
    echo "$(basename "$1"): no \"$ready\" in its log after ${background_ready_seconds} s; its log:" >&2
  else
    echo "$(basename "$1"): ended before its log said \"$ready\"; its log:" >&2
  fi
  cat "$log" >&2
  exit 1
}

ready_or_gone() { grep -qF -- "$3" "$2" || ! kill -0 "$1" 2>/dev/null; }

stop_background() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
