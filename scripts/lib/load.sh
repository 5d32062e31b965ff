# Sources the named libraries of this folder, so that a script says in one line which it uses.
# Usage: . scripts/lib/load.sh dev-env scratch-database background   (each NAME is scripts/lib/NAME.sh)
for lib_name in "$@"; do
  . "$(dirname "${BASH_SOURCE[0]}")/$lib_name.sh"
done
unset lib_name
