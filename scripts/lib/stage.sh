# Named stages with their durations: `stage NAME COMMAND…` runs the command, and on exit the script prints
# each stage's seconds, so that the slow parts of a long run are plain to see (and to keep it under its bound).
stage_report=""
stage() {
  local name=$1; shift
  local started=$SECONDS
  echo "== $name"
  "$@"
  local took=$((SECONDS - started))
  stage_report+="$(printf '%6ss  %s' "$took" "$name")"$'\n'
  echo "== $name: ${took}s"
}
stage_summary() {
  [ -n "$stage_report" ] || return 0
  printf '\nstages:\n%s%6ss  in all\n' "$stage_report" "$SECONDS"
}

# `stage_beside NAME COMMAND…` starts a stage that runs beside the next ones (it needs nothing they use), its
# output kept until `stage_join NAME` waits for it, prints that output, counts its seconds and fails the
# script if it failed. A script that ends before the join stops it: its whole process group when the command
# leads one (run it under `setsid`), else it and its children. The report gives the seconds until the join and
# those until the stage's last output, which is about when it ended.
declare -A stage_pids stage_logs stage_starts stage_epochs
stage_beside() {
  local name=$1; shift
  stage_logs[$name]=$(mktemp)
  stage_starts[$name]=$SECONDS
  stage_epochs[$name]=$(date +%s)
  echo "== $name (beside the next stages)"
  "$@" >"${stage_logs[$name]}" 2>&1 &
  stage_pids[$name]=$!
  on_exit stage_abandon "$name"
}
stage_join() {
  local name=$1 status=0
  stage_resume "$name"
  wait "${stage_pids[$name]}" || status=$?
  stage_pids[$name]=""
  local output="no output"
  [ -s "${stage_logs[$name]}" ] && output="its last output at $(( $(stat -c %Y "${stage_logs[$name]}") - stage_epochs[$name] ))s"
  cat "${stage_logs[$name]}"
  rm -f "${stage_logs[$name]}"
  local took=$((SECONDS - stage_starts[$name]))
  stage_report+="$(printf '%6ss  %s (beside the stages before it; %s)' "$took" "$name" "$output")"$'\n'
  echo "== $name: ${took}s ($output)"
  return "$status"
}
# `stage_pause NAME` and `stage_resume NAME`: SIGSTOP and SIGCONT to a stage beside the others, started under
# `setsid`, while stages run that its load would stand in the numbers of. One that has ended is left as it is: its
# process id may be another's by now, so only a job of this shell that still runs is signalled.
stage_running() {
  local pid=${stage_pids[$1]:-}
  [ -n "$pid" ] && { jobs -rp; jobs -sp; } | grep -qx "$pid"
}
stage_signal() {
  if stage_running "$1"; then kill "-$2" -- "-${stage_pids[$1]}" 2>/dev/null || true; fi
}
stage_pause() { stage_signal "$1" STOP; }
stage_resume() { stage_signal "$1" CONT; }
stage_abandon() {
  local pid=${stage_pids[$1]:-}
  [ -n "$pid" ] || return 0
  # Only while it runs: once ended, its process id may be another's. SIGCONT after the TERM: a stage that
  # stage_pause stopped acts on the TERM only once it runs again.
  if stage_running "$1"; then
    if kill -- "-$pid" 2>/dev/null; then kill -CONT -- "-$pid" 2>/dev/null || true; else stage_kill_tree "$pid"; fi
  fi
  # What it found, since the script stops before its join would print it.
  if [ -s "${stage_logs[$1]}" ]; then echo "== $1 (not joined; its last lines)"; tail -n 100 "${stage_logs[$1]}"; fi
  rm -f "${stage_logs[$1]}"
}
# `stage_settle NAME`, registered with on_exit after `stage_beside NAME`: on an early exit, the stage is waited for
# rather than stopped, for one that must not be cut short (servers half started, with no pidfile to stop them by).
stage_settle() {
  local pid=${stage_pids[$1]:-}
  if [ -n "$pid" ]; then wait "$pid" 2>/dev/null || true; fi
}
stage_kill_tree() {
  local child
  for child in $(pgrep -P "$1"); do stage_kill_tree "$child"; done
  kill "$1" 2>/dev/null || true
}
