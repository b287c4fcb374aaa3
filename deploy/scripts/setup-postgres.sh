#!/bin/sh
# Creates Temporal's two databases on PostgreSQL and brings their schemas up
# to date. Safe to run again: `create` of an existing database is tolerated.
set -eu
tool() { temporal-sql-tool --plugin postgres12 --ep postgresql -u temporal -p 5432 "$@"; }
for db in temporal temporal_visibility; do
  tool --db "$db" create || echo "database $db exists"
done
tool --db temporal setup-schema -v 0.0 || true
tool --db temporal update-schema -d /etc/temporal/schema/postgresql/v12/temporal/versioned
tool --db temporal_visibility setup-schema -v 0.0 || true
tool --db temporal_visibility update-schema -d /etc/temporal/schema/postgresql/v12/visibility/versioned
echo "schema ready"
