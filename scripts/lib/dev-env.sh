# The local stack's URLs and the development master key (.env.dev), exported as the host reads them on
# start-up; a variable set in .env.dev wins over the same one in the caller's environment.
# Usage: . scripts/lib/dev-env.sh; load_dev_env
dev_env_file="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.env.dev"

load_dev_env() {
  set -a
  . "$dev_env_file"
  set +a
}
