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

# npm ci from the committed lockfile, once: node_modules stays until someone deletes it. The
# lock on package.json keeps two concurrent starts from installing into the same tree.
install() {
  exec 9<"$here/package.json"
  flock 9
  if [[ ! -f "$here/node_modules/.package-lock.json" || ! -f "$here/node_modules/parse-server/package.json" ]]; then
    if ! (cd "$here" && npm ci --no-audit --no-fund --prefer-offline) >"$1/npm-ci.log" 2>&1; then
      fail "npm ci failed: $(grep -m1 '^npm error' "$1/npm-ci.log" || tail -n1 "$1/npm-ci.log")"
    fi
  fi
  exec 9<&-
  # Parse Server states the Node versions it supports; refuse others with that reason.
  local engines
  engines=$(cd "$here" && node -p 'require("parse-server/package.json").engines.node')
  (cd "$here" && node -e 'process.exit(require("semver").satisfies(process.version, process.argv[1]) ? 0 : 1)' "$engines") ||
    fail "Parse Server needs Node $engines, this is $(node --version)"
}

free_port() {
  node -e 'const s = require("net").createServer();
           s.listen(0, "127.0.0.1", () => { process.stdout.write(String(s.address().port)); s.close(); });'
}

# The server runs in a session (and so a process group) of its own, led by the node process
# itself: bash writes its own pid, then execs node in its place, so the pid file names the
# server whether or not setsid had to fork. stop kills that whole group.
launch() {
  local workdir=$1
  shift
  # shellcheck disable=SC2016 # $$ and $@ belong to the inner shell
  (cd "$workdir" && exec setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' launch "$workdir/server.pid" "$@" \
    >"$workdir/server.log" 2>&1 </dev/null) &
  local _
  for _ in $(seq 1 50); do
    [[ -s "$workdir/server.pid" ]] && return 0
    sleep 0.1
  done
  fail "the server did not start (see $workdir/server.log)"
}

wait_ready() {
  local workdir=$1 url=$2 pid _
  pid=$(<"$workdir/server.pid")
  for _ in $(seq 1 600); do
    if ! kill -0 "$pid" 2>/dev/null; then
      fail "the server exited: $(grep -v '^\s*$' "$workdir/server.log" | tail -n1)"
    fi
    curl -sf -o /dev/null --max-time 2 "$url" && return 0
    sleep 0.2
  done
  fail "the server did not answer $url within 120 s (see $workdir/server.log)"
}

# The pid file names a process group leader this script started; the group is killed only while
# its leader, if still alive, is still that server (it runs in the workdir), so a recycled pid is
# never signalled.
stop_server() {
  local workdir=$1 pidfile=$1/server.pid pid
  [[ -f "$pidfile" ]] || return 0
  pid=$(<"$pidfile")
  [[ "$pid" =~ ^[0-9]+$ ]] || { rm -f "$pidfile"; return 0; }
  if kill -0 "$pid" 2>/dev/null && [[ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" != "$workdir" ]]; then
    rm -f "$pidfile"
    return 0
  fi
  kill -TERM -- "-$pid" 2>/dev/null || true
  local _
  for _ in $(seq 1 100); do
    kill -0 -- "-$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 -- "-$pid" 2>/dev/null; then
    kill -KILL -- "-$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 -- "-$pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
  kill -0 -- "-$pid" 2>/dev/null && fail "process group $pid survived SIGKILL"
  rm -f "$pidfile"
}

# The database start created goes with the server: the cluster outlives this target (the driver
# runs the next one in it). start left the cluster's URL in the workdir for this.
drop_database() {
  local workdir=$1
  [[ -f "$workdir/pg-admin.url" ]] || return 0
  psql "$(<"$workdir/pg-admin.url")" -X -q -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" \
    >/dev/null 2>&1 || true
  rm -f "$workdir/pg-admin.url"
}

start() {
  [[ $# -ge 2 ]] || usage
  local workdir store=$2 pg_url=${3:-}
  [[ -d "$1" ]] || fail "workdir $1 does not exist"
  workdir=$(cd "$1" && pwd -P)
  # The driver hands over an empty workdir; in a used one, the earlier server goes first.
  stop_server "$workdir"
  case "$store" in
    sqlite) fail "Parse Server has no SQLite adapter (it stores data in MongoDB or PostgreSQL only)" ;;
    postgres) [[ -n "$pg_url" ]] || fail "store postgres needs a PostgreSQL URL" ;;
    *) usage ;;
  esac
  command -v psql >/dev/null || fail "psql is not installed"

  install "$workdir"

  # A database of our own, created afresh: a cluster reused across runs keeps no old data.
  # From here on, a failed start leaves neither a server nor a database behind.
  trap 'stop_server "$workdir" || true; drop_database "$workdir"' EXIT
  (umask 077 && echo "$pg_url" >"$workdir/pg-admin.url")
  psql "$pg_url" -X -q -v ON_ERROR_STOP=1 \
    -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" -c "CREATE DATABASE $database" \
    >"$workdir/createdb.log" 2>&1 || fail "cannot create database $database: $(head -n1 "$workdir/createdb.log")"
  local bench_url
  bench_url=$(node -e 'const u = new URL(process.argv[1]); u.pathname = "/" + process.argv[2];
                       u.searchParams.delete("dbname"); process.stdout.write(u.href)' "$pg_url" "$database")

  local port
  port=$(free_port)
  node "$here/config.mjs" "$workdir/config.json" "$port" "$workdir" "$bench_url" || fail "cannot write the configuration"

  NODE_ENV=production launch "$workdir" node "$here/node_modules/parse-server/bin/parse-server" "$workdir/config.json"
  wait_ready "$workdir" "http://127.0.0.1:$port/parse/health"
  node "$here/seed.mjs" "$workdir" "$workdir/config.json" "$(<"$workdir/server.pid")" >"$workdir/seed.log" 2>&1 ||
    fail "$(tail -n1 "$workdir/seed.log" | sed "s/^parse: //")"
  trap - EXIT
}

[[ $# -ge 1 ]] || usage
case "$1" in
  start) shift; start "$@" ;;
  stop)
    [[ $# -eq 2 ]] || usage
    [[ -d "$2" ]] || exit 0
    workdir=$(cd "$2" && pwd -P)
    stop_server "$workdir"
    drop_database "$workdir"
    ;;
  *) usage ;;
esac
