# Sourced by the other scripts: makes sure PostgreSQL + pgvector runs and exports
# DATABASE_URL (an explicit DATABASE_URL in the environment wins).
if [ -z "${DATABASE_URL:-}" ]; then
  _pg_setup="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/setup-postgres.sh"
  if [ "$(id -u)" -eq 0 ]; then
    DATABASE_URL=$("$_pg_setup" | tail -n 1)
  else
    DATABASE_URL=$(sudo "$_pg_setup" | tail -n 1)
  fi
  export DATABASE_URL
  unset _pg_setup
fi
