# Helpers of the npm targets' target.sh (parse/, directus/), sourced by them: installing the
# committed lockfile, starting the server in a process group of its own, waiting until it
# answers, stopping the group, and the PostgreSQL database a target keeps in the driver's
# cluster. The sourcing script defines `fail <message>` (its own prefix on stderr, exit 1),
# `usage`, `start`, `here` (its directory, which holds package.json and node_modules) and
# `database` (the name of its PostgreSQL database).
# shellcheck shell=bash disable=SC2154 # here and database are the sourcing script's

# npm ci from the committed lockfile, once: node_modules stays until someone deletes it
# (it counts as installed when it holds <package>/package.json). The lock on package.json keeps
# two concurrent starts from installing into the same tree. Then the Node version is checked
# against the engines that <package> states, so another one is refused with that reason.
# Further arguments are NAME=value settings of npm ci's environment.
#   install_npm <workdir> <package> <system name, for the message> [NAME=value...]
install_npm() {
  local workdir=$1 package=$2 system=$3
  shift 3
  exec 9<"$here/package.json"
  flock 9
  if [[ ! -f "$here/node_modules/.package-lock.json" || ! -f "$here/node_modules/$package/package.json" ]]; then
    if ! (cd "$here" && env "$@" npm ci --no-audit --no-fund --prefer-offline) >"$workdir/npm-ci.log" 2>&1; then
      fail "npm ci failed: $(grep -m1 '^npm error' "$workdir/npm-ci.log" || tail -n1 "$workdir/npm-ci.log")"
    fi
  fi
  exec 9<&-
  local engines
  engines=$(cd "$here" && node -p 'require(process.argv[1] + "/package.json").engines.node' "$package")
  (cd "$here" && node -e 'process.exit(require("semver").satisfies(process.version, process.argv[1]) ? 0 : 1)' "$engines") ||
    fail "$system needs Node $engines, this is $(node --version)"
}

free_port() {
  node -e 'const s = require("net").createServer();
           s.listen(0, "127.0.0.1", () => { process.stdout.write(String(s.address().port)); s.close(); });'
}

# The server runs in a session (and so a process group) of its own, led by the node process
# itself: bash writes its own pid, then execs node in its place, so the pid file names the
# server whether or not setsid had to fork. stop kills that whole group.
#   launch <workdir> <command...>
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

#   wait_ready <workdir> <url answering 2xx once the server serves>
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

# The first steps of a start: the work directory $1 checked and made absolute, into the
# caller's `workdir`; a server an earlier start left there is stopped (the driver hands over an
# empty one, a developer may not).
enter_workdir() {
  [[ -d "$1" ]] || fail "workdir $1 does not exist"
  workdir=$(cd "$1" && pwd -P)
  stop_server "$workdir"
}

# The pid file names a process group leader this script started; the group is killed only while
# its leader, if still alive, is still that server (it runs in the workdir), so a recycled pid is
# never signalled.
#   stop_server <workdir>
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

# A database of the target's own in the driver's cluster, created afresh (a cluster reused
# across runs keeps no old data); prints its URL: the cluster's, naming that database. The
# cluster's URL stays in the workdir (readable by its owner only) for drop_database.
#   create_database <workdir> <pg-url> <database>
create_database() {
  # Not `database`: the sourcing scripts hold theirs in a readonly variable of that name.
  local workdir=$1 pg_url=$2 db=$3
  (umask 077 && echo "$pg_url" >"$workdir/pg-admin.url")
  psql "$pg_url" -X -q -v ON_ERROR_STOP=1 \
    -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" \
    >"$workdir/createdb.log" 2>&1 || fail "cannot create database $db: $(head -n1 "$workdir/createdb.log")"
  node -e 'const u = new URL(process.argv[1]); u.pathname = "/" + process.argv[2];
           u.searchParams.delete("dbname"); process.stdout.write(u.href)' "$pg_url" "$db"
}

# The database start created goes with the server: the cluster outlives the target (the driver
# runs the next one in it). create_database left the cluster's URL in the workdir for this.
#   drop_database <workdir> <database>
drop_database() {
  local workdir=$1 db=$2
  [[ -f "$workdir/pg-admin.url" ]] || return 0
  psql "$(<"$workdir/pg-admin.url")" -X -q -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" \
    >/dev/null 2>&1 || true
  rm -f "$workdir/pg-admin.url"
}

# The stop command, the same for every npm target: the server, then the database (if any).
#   stop_target <workdir> <database>
stop_target() {
  [[ -d "$1" ]] || return 0
  local workdir
  workdir=$(cd "$1" && pwd -P)
  stop_server "$workdir"
  drop_database "$workdir" "$2"
}

# The command line (the contract: README.md): `start ...` runs the sourcing script's start(),
# `stop <workdir>` stops what it started, in its database `database`.
main() {
  [[ $# -ge 1 ]] || usage
  case "$1" in
    start) shift; start "$@" ;;
    stop)
      [[ $# -eq 2 ]] || usage
      stop_target "$2" "$database"
      ;;
    *) usage ;;
  esac
}
