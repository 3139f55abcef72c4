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

# npm ci from the committed lockfile, once: node_modules stays until someone deletes it. The
# lock on package.json keeps two concurrent starts from installing into the same tree. The
# install builds isolated-vm and sqlite3 from source (node-gyp against the system Node headers),
# which takes a few minutes on two cores.
install() {
  local workdir=$1 store=$2
  exec 9<"$here/package.json"
  flock 9
  if [[ ! -f "$here/node_modules/.package-lock.json" || ! -f "$here/node_modules/directus/package.json" ]]; then
    # node-gyp would download Node's headers from the internet unless told where the installed
    # ones are; the nodejs package installs them under /usr/include/node.
    if [[ -z "${npm_config_nodedir:-}" && -f /usr/include/node/common.gypi ]]; then
      export npm_config_nodedir=/usr
    fi
    if ! (cd "$here" && npm ci --no-audit --no-fund --prefer-offline) >"$workdir/npm-ci.log" 2>&1; then
      fail "npm ci failed: $(grep -m1 '^npm error' "$workdir/npm-ci.log" || tail -n1 "$workdir/npm-ci.log")"
    fi
  fi
  exec 9<&-
  local engines
  engines=$(cd "$here" && node -p 'require("directus/package.json").engines.node')
  (cd "$here" && node -e 'process.exit(require("semver").satisfies(process.version, process.argv[1]) ? 0 : 1)' "$engines") ||
    fail "Directus needs Node $engines, this is $(node --version)"
  # sqlite3 is an optional dependency of Directus: npm ci succeeds without it when its native
  # build fails, and Directus would then fail only at its first query.
  if [[ "$store" == sqlite ]]; then
    (cd "$here/node_modules/@directus/api" && node -e 'require("sqlite3")') >/dev/null 2>&1 ||
      fail "the sqlite3 native module is not built (node-gyp failed during npm ci; delete $here/node_modules and see npm ci's log)"
  fi
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
    sqlite) ;;
    postgres)
      [[ -n "$pg_url" ]] || fail "store postgres needs a PostgreSQL URL"
      command -v psql >/dev/null || fail "psql is not installed"
      ;;
    *) usage ;;
  esac

  install "$workdir" "$store"

  local port
  port=$(free_port)
  if [[ "$store" == postgres ]]; then
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
    node "$here/config.mjs" "$workdir" "$port" postgres "$bench_url" || fail "cannot write the configuration"
  else
    node "$here/config.mjs" "$workdir" "$port" sqlite || fail "cannot write the configuration"
  fi

  export CONFIG_PATH=$workdir/.env NODE_ENV=production
  (cd "$workdir" && node "$cli" bootstrap) >"$workdir/bootstrap.log" 2>&1 ||
    fail "directus bootstrap failed: $(grep -v '^\s*$' "$workdir/bootstrap.log" | tail -n1)"

  # From here on (for SQLite; for PostgreSQL since the database was created), a failed start
  # leaves neither a server nor a database behind.
  trap 'stop_server "$workdir" || true; drop_database "$workdir"' EXIT
  launch "$workdir" node "$cli" start
  wait_ready "$workdir" "http://127.0.0.1:$port/server/ping"
  node "$here/setup.mjs" "$workdir" "$store" "$(<"$workdir/server.pid")" >"$workdir/setup.log" 2>&1 ||
    fail "$(tail -n1 "$workdir/setup.log" | sed 's/^directus: //')"
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
