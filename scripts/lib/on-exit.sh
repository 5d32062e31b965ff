# What a script undoes when it ends, however it ends (success, failure, Ctrl-C): each command given to
# on_exit runs once, the last registered first, so a server stops before its database is dropped and
# its work folder removed. A command that fails does not keep the others from running.
# Usage: . scripts/lib/on-exit.sh; on_exit COMMAND [ARGS...]

# Sourced twice (a library that needs it, then the script), the commands registered so far stay.
declare -p on_exit_commands >/dev/null 2>&1 || on_exit_commands=()

on_exit() {
  on_exit_commands+=("$(printf '%q ' "$@")")
  trap run_on_exit EXIT
}

run_on_exit() {
  local i
  for ((i = ${#on_exit_commands[@]} - 1; i >= 0; i--)); do
    eval "${on_exit_commands[i]}" || true
  done
}
