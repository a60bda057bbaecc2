# Sourced by bench/batch-pg.sh and bench/provider-batch-pg.sh: a PostgreSQL server of Debian's
# newest installed version in WORK/data, on a unix socket in WORK only (no TCP), run as the
# user pipe-test when this script runs as root (PostgreSQL refuses root; created if missing).
# Sets $bin and $as_user (the prefix of every server command); `sql DB QUERY` runs a query.
#   start_postgres WORK [EXTRA_SERVER_OPTIONS]    stop_postgres WORK
start_postgres() {
  bin=/usr/lib/postgresql/$(ls /usr/lib/postgresql | sort -n | tail -n 1)/bin
  as_user=()
  if [ "$(id -u)" = 0 ]; then
    id pipe-test >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin pipe-test
    chown pipe-test "$1"
    as_user=(runuser -u pipe-test --)
  fi
  "${as_user[@]}" "$bin/initdb" -D "$1/data" -U postgres --auth=trust -E UTF8 --no-instructions >/dev/null
  "${as_user[@]}" "$bin/pg_ctl" -D "$1/data" -l "$1/server.log" -w \
    -o "-k $1 -c listen_addresses='' -c max_connections=200 ${2:-} ${PG_OPTIONS:-}" start >/dev/null
}
stop_postgres() { "${as_user[@]}" "$bin/pg_ctl" -D "$1/data" -m immediate stop >/dev/null 2>&1; }
sql() { "${as_user[@]}" "$bin/psql" -h "$work" -U postgres -d "$1" -Atc "$2"; }
