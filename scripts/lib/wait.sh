# Polling, every 0.1 s, for something another process does: a server that starts listening, a process
# that exits, a port that is let go. The command polled runs quietly; only its status counts.
# Usage: . scripts/lib/wait.sh; wait_until SECONDS COMMAND...; wait_while SECONDS COMMAND...

# wait_until SECONDS COMMAND...: returns once COMMAND succeeds; fails once SECONDS have passed without.
wait_until() {
  local tries=$(($1 * 10)) try
  shift
  for ((try = 0; try < tries; try++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  return 1
}

# wait_while SECONDS COMMAND...: returns once COMMAND fails; fails once SECONDS have passed with it succeeding.
wait_while() {
  local tries=$(($1 * 10)) try
  shift
  for ((try = 0; try < tries; try++)); do
    if ! "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  return 1
}

# port_open PORT: something accepts connections on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
