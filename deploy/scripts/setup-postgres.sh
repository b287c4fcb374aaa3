#!/bin/sh
# Creates Temporal's two databases on PostgreSQL and brings their schemas up
# to date with temporal-sql-tool. Safe to run again: a database or schema
# that already exists is fine; any other failure stops the script.
# The environment is the temporal server's (DB_PORT, POSTGRES_SEEDS,
# POSTGRES_USER, POSTGRES_PWD); SCHEMA_DIR is where the admin-tools image
# keeps the schema.
set -eu
: "${POSTGRES_SEEDS:=postgresql}" "${DB_PORT:=5432}" "${POSTGRES_USER:=temporal}"
: "${SCHEMA_DIR:=/etc/temporal/schema/postgresql/v12}"
SQL_PASSWORD="${SQL_PASSWORD:-${POSTGRES_PWD:-}}"
export SQL_PASSWORD # read by temporal-sql-tool; never on a command line
tool() { temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -u "$POSTGRES_USER" -p "$DB_PORT" "$@"; }
# tolerate WHAT CMD...: runs CMD; a failure whose output says "already
# exists" is fine, any other fails the script.
tolerate() {
  what=$1
  shift
  if out=$("$@" 2>&1); then
    return 0
  fi
  case "$out" in
  *"already exists"*) echo "$what already exists" ;;
  *)
    echo "$out" >&2
    echo "$what failed" >&2
    exit 1
    ;;
  esac
}
for db in temporal temporal_visibility; do
  tolerate "database $db" tool --db "$db" create
done
tolerate "schema of temporal" tool --db temporal setup-schema -v 0.0
tool --db temporal update-schema -d "$SCHEMA_DIR/temporal/versioned"
tolerate "schema of temporal_visibility" tool --db temporal_visibility setup-schema -v 0.0
tool --db temporal_visibility update-schema -d "$SCHEMA_DIR/visibility/versioned"
echo "schema ready"
