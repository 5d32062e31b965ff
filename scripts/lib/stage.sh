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
