# A database of a script's own on the stack's PostgreSQL, so that what its server writes never touches
# the development data and two runs never meet. Named PREFIX_<pid>; dropped WITH (FORCE), since a server
# just killed may hold connections a moment longer.
# Usage: . scripts/lib/scratch-database.sh; scratch_database batchsender_bench   (DATABASE_URL must be set)
. "$(dirname "${BASH_SOURCE[0]}")/on-exit.sh"

# scratch_database PREFIX: creates PREFIX_<pid>, exports DATABASE_URL pointing at it, drops it on exit.
scratch_database() {
  local name="$1_$$" admin_url="$DATABASE_URL"
  create_database "$name"
  on_exit drop_database "$name" "$admin_url"
  export DATABASE_URL="$(database_url "$name")"
}

# database_url NAME: DATABASE_URL with its database replaced by NAME (same server, same user).
database_url() { echo "${DATABASE_URL%/*}/$1"; }

# create_database NAME [ADMIN_URL]: on the server of ADMIN_URL (default DATABASE_URL).
create_database() { psql "${2:-$DATABASE_URL}" -qc "CREATE DATABASE $1" >/dev/null; }

# drop_database NAME [ADMIN_URL]: never fails, so that a cleanup goes on.
drop_database() { psql "${2:-$DATABASE_URL}" -qc "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null 2>&1 || true; }
