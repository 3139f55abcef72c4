#!/usr/bin/env bash
# Parse Server as a target of the records load benchmark (the contract: ../README.md).
#   target.sh start <workdir> postgres <pg-url>
#   target.sh stop  <workdir>
#
# Parse Server stores its data in MongoDB or PostgreSQL; the benchmark uses its PostgreSQL
# adapter, in a database of its own (parse_bench) created in the cluster the driver hands over.
# It runs the documented way, the parse-server CLI with a JSON configuration (config.mjs writes
# it), as one Node process: the CLI's --cluster mode would fork one worker per core, but on this
# 2-core machine the driver, wrk and PostgreSQL share those cores, and every target is measured
# as a single server process (PID in bench.env is the process whose memory is read).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly here
readonly database=parse_bench

fail() {
  echo "parse: $*" >&2
  exit 1
}

usage() {
  echo "usage: $0 start <workdir> <sqlite|postgres> [<pg-url>] | stop <workdir>" >&2
  exit 2
}

# shellcheck source=SCRIPTDIR/../lib.sh
. "$here/../lib.sh"

start() {
  [[ $# -ge 2 ]] || usage
  local workdir store=$2 pg_url=${3:-}
  enter_workdir "$1"
  case "$store" in
    sqlite) fail "Parse Server has no SQLite adapter (it stores data in MongoDB or PostgreSQL only)" ;;
    postgres) [[ -n "$pg_url" ]] || fail "store postgres needs a PostgreSQL URL" ;;
    *) usage ;;
  esac
  command -v psql >/dev/null || fail "psql is not installed"

  install_npm "$workdir" parse-server "Parse Server"

  # A database of our own, created afresh: a cluster reused across runs keeps no old data.
  # From here on, a failed start leaves neither a server nor a database behind.
  trap 'stop_server "$workdir" || true; drop_database "$workdir" "$database"' EXIT
  local bench_url
  bench_url=$(create_database "$workdir" "$pg_url" "$database")

  local port
  port=$(free_port)
  node "$here/config.mjs" "$workdir/config.json" "$port" "$workdir" "$bench_url" || fail "cannot write the configuration"

  NODE_ENV=production launch "$workdir" node "$here/node_modules/parse-server/bin/parse-server" "$workdir/config.json"
  wait_ready "$workdir" "http://127.0.0.1:$port/parse/health"
  node "$here/seed.mjs" "$workdir" "$workdir/config.json" "$(<"$workdir/server.pid")" >"$workdir/seed.log" 2>&1 ||
    fail "$(tail -n1 "$workdir/seed.log" | sed "s/^parse: //")"
  trap - EXIT
}

main "$@"
