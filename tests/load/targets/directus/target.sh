#!/usr/bin/env bash
# Directus as a target of the records load benchmark (the contract: ../README.md).
#   target.sh start <workdir> sqlite
#   target.sh start <workdir> postgres <pg-url>
#   target.sh stop  <workdir>
#
# Directus runs the documented way: `directus bootstrap` installs its system tables and the
# first admin, `directus start` serves the API, both configured by <workdir>/.env (config.mjs
# writes it). Directus is one Node process with no cluster mode of its own; so is every target
# (PID in bench.env is the process whose memory is read). SQLite goes through its `sqlite3`
# driver, a native module that npm builds from source here (its prebuilt binaries come from a
# host this machine cannot reach); PostgreSQL through `pg`, in a database of its own
# (directus_bench) created in the cluster the driver hands over.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly here
readonly database=directus_bench
# The `directus` command (node_modules/directus/cli.js) first asks the npm registry whether a
# newer release exists, with no timeout, then runs this module; the benchmark calls the module
# itself so that a slow registry cannot stall a start.
readonly cli=$here/node_modules/@directus/api/dist/cli/run.js

fail() {
  echo "directus: $*" >&2
  exit 1
}

usage() {
  echo "usage: $0 start <workdir> <sqlite|postgres> [<pg-url>] | stop <workdir>" >&2
  exit 2
}

# shellcheck source=SCRIPTDIR/../lib.sh
. "$here/../lib.sh"

# npm ci from the committed lockfile, once (lib.sh). The install builds isolated-vm and sqlite3
# from source (node-gyp against the system Node headers), which takes a few minutes on two cores.
install() {
  local workdir=$1 store=$2 npm_env=()
  # node-gyp would download Node's headers from the internet unless told where the installed
  # ones are; the nodejs package installs them under /usr/include/node.
  if [[ -z "${npm_config_nodedir:-}" && -f /usr/include/node/common.gypi ]]; then
    npm_env=(npm_config_nodedir=/usr)
  fi
  install_npm "$workdir" directus Directus "${npm_env[@]}"
  # sqlite3 is an optional dependency of Directus: npm ci succeeds without it when its native
  # build fails, and Directus would then fail only at its first query.
  if [[ "$store" == sqlite ]]; then
    (cd "$here/node_modules/@directus/api" && node -e 'require("sqlite3")') >/dev/null 2>&1 ||
      fail "the sqlite3 native module is not built (node-gyp failed during npm ci; delete $here/node_modules and see npm ci's log)"
  fi
}

start() {
  [[ $# -ge 2 ]] || usage
  local workdir store=$2 pg_url=${3:-}
  enter_workdir "$1"
  case "$store" in
    sqlite) ;;
    postgres)
      [[ -n "$pg_url" ]] || fail "store postgres needs a PostgreSQL URL"
      command -v psql >/dev/null || fail "psql is not installed"
      ;;
    *) usage ;;
  esac

  install "$workdir" "$store"

  local port bench_url=""
  port=$(free_port)
  if [[ "$store" == postgres ]]; then
    # A database of our own, created afresh: a cluster reused across runs keeps no old data.
    # From here on, a failed start leaves neither a server nor a database behind.
    trap 'stop_server "$workdir" || true; drop_database "$workdir" "$database"' EXIT
    bench_url=$(create_database "$workdir" "$pg_url" "$database")
    node "$here/config.mjs" "$workdir" "$port" postgres "$bench_url" || fail "cannot write the configuration"
  else
    node "$here/config.mjs" "$workdir" "$port" sqlite || fail "cannot write the configuration"
  fi

  export CONFIG_PATH=$workdir/.env NODE_ENV=production
  (cd "$workdir" && node "$cli" bootstrap) >"$workdir/bootstrap.log" 2>&1 ||
    fail "directus bootstrap failed: $(grep -v '^\s*$' "$workdir/bootstrap.log" | tail -n1)"

  # From here on (for SQLite; for PostgreSQL since the database was created), a failed start
  # leaves neither a server nor a database behind.
  trap 'stop_server "$workdir" || true; drop_database "$workdir" "$database"' EXIT
  launch "$workdir" node "$cli" start
  wait_ready "$workdir" "http://127.0.0.1:$port/server/ping"
  node "$here/setup.mjs" "$workdir" "$store" "$(<"$workdir/server.pid")" >"$workdir/setup.log" 2>&1 ||
    fail "$(tail -n1 "$workdir/setup.log" | sed 's/^directus: //')"
  # The list workload's index, as every target has it (published, then views descending):
  # Directus's field schema indexes one column at most, so it is made in the database itself.
  local index_sql="CREATE INDEX IF NOT EXISTS posts_list ON posts (published, views DESC);"
  index_sql+=" CREATE INDEX IF NOT EXISTS owned_list ON owned (published, views DESC)"
  if [[ "$store" == postgres ]]; then
    psql "$bench_url" -qX -v ON_ERROR_STOP=1 -c "$index_sql" >/dev/null ||
      fail "cannot create the list index"
  else
    python3 -c 'import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); db.executescript(sys.argv[2]); db.close()' \
      "$workdir/data.db" "$index_sql" || fail "cannot create the list index"
  fi
  trap - EXIT
}

main "$@"
