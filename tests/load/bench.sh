#!/usr/bin/env bash
# Socle's load benchmark (`make bench`): the records API of Socle and of its peers, each seeded
# with the same data and driven by the same wrk workloads, next to the machine's ceilings
# measured in the same run.
#
#   tests/load/bench.sh [options]
#
# 1. A private PostgreSQL cluster (tests/support/pg_cluster.sh) made durable again: fsync,
#    synchronous_commit and full_page_writes on, PostgreSQL's default shared_buffers (128MB).
# 2. Ceilings, with the workloads' wrk parameters: nginx serving a record-sized static JSON
#    document on loopback (wrk/w1_get.lua); `pgbench -S -M prepared` on a `pgbench -i -s 10`
#    database; `pgbench -f ceilings/insert.sql -M prepared` (a post and its audit event, one
#    durable transaction); `pgbench -f ceilings/list.sql -M prepared` (W2's page and count
#    statements on the same 10,000 posts).
# 3. Every target, on each store: `targets/<system>/target.sh start <workdir> sqlite|postgres
#    [<pg-url>]` in a fresh work directory (for postgres, a fresh database of the cluster), which
#    seeds the data and writes <workdir>/bench.env (KEY='value' lines: NAME, BASE_URL, PID,
#    HEADERS, IDS_FILE, GET_PATH, LIST_PATH, CREATE_PATH, CREATE_BODY, AUTH_HEADERS,
#    AUTH_IDS_FILE, AUTH_GET_PATH, optionally VERSION and FLOOR_PATH), or exits non-zero with a one-line reason
#    on stderr. On PostgreSQL, `vacuumdb --all --analyze` after the target's bulk load. Then idle
#    RSS, W1..W5 (wrk/*.lua), each a warm-up run (discarded) and N measured runs; the median
#    run's figures are kept, with the CPU per request of the server, of PostgreSQL and of the
#    rest of the machine (from /proc; the ceilings' too). W0, the HTTP floor (FLOOR_PATH, the
#    target's health route), when the target names one. Peak RSS (VmHWM), then
#    `target.sh stop <workdir>`.
# 4. build/bench/<UTC timestamp>/: results.tsv, ceilings.tsv, targets.tsv, report.md,
#    throughput.png, p99.png, logs/; build/bench/latest points at it. The report is printed.
#
# Options (each also an environment variable; the flag wins):
#   --duration S       seconds per measured run              [BENCH_DURATION, 15]
#   --connections N    wrk connections (and pgbench clients) [BENCH_CONNECTIONS, 32]
#   --threads N        wrk threads (and pgbench threads)     [BENCH_THREADS, 2]
#   --runs N           measured runs per workload            [BENCH_RUNS, 3]
#   --warmup S         seconds of the discarded warm-up run  [BENCH_WARMUP, 3; 0: none]
#   --targets LIST     targets to run, by label (socle-sqlite) or system (socle), comma or
#                      space separated                       [BENCH_TARGETS, all]
#   --workloads LIST   W1..W5 (W0, the HTTP floor, runs after them anyway), comma or space
#                      separated                             [BENCH_WORKLOADS, W1..W5]
#   --soak S           after socle-sqlite's workloads, W5 for S seconds, VmRSS sampled every
#                      10 s                                  [BENCH_SOAK, 0: none]
#   --no-ceilings      skip the ceilings (to develop a target)   [BENCH_CEILINGS=0]
#   --out DIR          where the timestamped result directories go [BENCH_OUT, build/bench]
#   --keep             keep the targets' work directories (data, server logs) [BENCH_KEEP=1]
#   BENCH_START_TIMEOUT: seconds a target's start may take (installs, seeding) [1800]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# How this run was asked for, for the report: the BENCH_* settings and the options.
invocation="$({ env | grep '^BENCH_' || true; } | sort | tr '\n' ' ')tests/load/bench.sh $*"

duration=${BENCH_DURATION:-15}
connections=${BENCH_CONNECTIONS:-32}
threads=${BENCH_THREADS:-2}
runs=${BENCH_RUNS:-3}
warmup=${BENCH_WARMUP:-3}
target_filter=${BENCH_TARGETS:-}
workloads_wanted=${BENCH_WORKLOADS:-W1 W2 W3 W4 W5}
soak=${BENCH_SOAK:-0}
with_ceilings=${BENCH_CEILINGS:-1}
out_root=${BENCH_OUT:-$root/build/bench}
keep=${BENCH_KEEP:-0}
start_timeout=${BENCH_START_TIMEOUT:-1800}

# What each workload does, for the report's headings.
declare -A kWorkloadTitle=(
  [W1]="GET a post by a random id"
  [W2]="list 20 published posts sorted by views, with the total"
  [W3]="create a post (durable)"
  [W4]="GET an owned post as its signed-in author"
  [W5]="70% W1 + 30% W3"
  [W0]="the HTTP floor: the target's health route"
)
declare -A kWorkloadScript=(
  [W1]=w1_get.lua [W2]=w2_list.lua [W3]=w3_create.lua [W4]=w4_auth_get.lua [W5]=w5_mixed.lua
  [W0]=w0_floor.lua
)
# The bench.env keys each workload reads (HEADERS, optional, comes along with every one).
declare -A kWorkloadKeys=(
  [W1]="GET_PATH IDS_FILE" [W2]="LIST_PATH" [W3]="CREATE_PATH CREATE_BODY"
  [W4]="AUTH_GET_PATH AUTH_IDS_FILE AUTH_HEADERS"
  [W5]="GET_PATH IDS_FILE CREATE_PATH CREATE_BODY"
  [W0]="FLOOR_PATH"
)
kEnvKeys=(NAME BASE_URL PID HEADERS IDS_FILE GET_PATH LIST_PATH CREATE_PATH CREATE_BODY
          AUTH_HEADERS AUTH_IDS_FILE AUTH_GET_PATH VERSION FLOOR_PATH)

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'
  exit "${1:-0}"
}

# The driver's own messages go to fd 3, the stderr it was started with: a trap runs with the
# redirections of the command it interrupted (a target's start writes to its log).
exec 3>&2

fail() {
  echo "bench: $*" >&3
  exit 1
}

say() {
  echo "bench: $*" >&3
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) duration=${2:?--duration needs a value}; shift 2 ;;
    --connections) connections=${2:?--connections needs a value}; shift 2 ;;
    --threads) threads=${2:?--threads needs a value}; shift 2 ;;
    --runs) runs=${2:?--runs needs a value}; shift 2 ;;
    --warmup) warmup=${2:?--warmup needs a value}; shift 2 ;;
    --targets) target_filter=${2?--targets needs a value}; shift 2 ;;
    --workloads) workloads_wanted=${2:?--workloads needs a value}; shift 2 ;;
    --soak) soak=${2:?--soak needs a value}; shift 2 ;;
    --no-ceilings) with_ceilings=0; shift ;;
    --out) out_root=${2:?--out needs a value}; shift 2 ;;
    --keep) keep=1; shift ;;
    -h | --help) usage 0 ;;
    *) echo "bench: unknown option '$1'" >&2; usage 2 ;;
  esac
done

is_count() { [[ "$1" =~ ^[0-9]+$ ]]; }
for setting in duration connections threads runs; do
  if ! is_count "${!setting}" || ((${!setting} == 0)); then
    fail "--$setting must be a positive integer (got '${!setting}')"
  fi
done
is_count "$warmup" || fail "--warmup must be a number of seconds (got '$warmup')"
is_count "$soak" || fail "--soak must be a number of seconds (got '$soak')"
is_count "$start_timeout" || fail "BENCH_START_TIMEOUT must be a number of seconds"
((threads <= connections)) || fail "--threads ($threads) cannot exceed --connections ($connections)"
read -r -a workloads <<<"${workloads_wanted//,/ }"
((${#workloads[@]} > 0)) || fail "no workload selected"
for w in "${workloads[@]}"; do
  [[ -n "${kWorkloadScript[$w]:-}" ]] || fail "unknown workload '$w' (W0 W1 W2 W3 W4 W5)"
done

# --- which targets ---------------------------------------------------------------------------
# Every target: label|script|store, Socle first, then each peer with a target script.
all_targets=()
for store in sqlite postgres; do
  all_targets+=("socle-$store|$here/targets/socle/target.sh|$store")
done
for script in "$here"/targets/*/target.sh; do
  [[ -f "$script" ]] || continue
  system=$(basename "$(dirname "$script")")
  [[ "$system" != socle ]] || continue
  for store in sqlite postgres; do all_targets+=("$system-$store|$script|$store"); done
done
selected=()
if [[ -z "${target_filter//[, ]/}" ]]; then
  selected=("${all_targets[@]}")
else
  read -r -a wanted <<<"${target_filter//,/ }"
  for word in "${wanted[@]}"; do
    found=0
    for entry in "${all_targets[@]}"; do
      label=${entry%%|*}
      if [[ "$label" == "$word" || "${label%-*}" == "$word" ]]; then found=1; fi
    done
    ((found)) || fail "no target '$word' (known: ${all_targets[*]%%|*})"
  done
  for entry in "${all_targets[@]}"; do
    label=${entry%%|*}
    for word in "${wanted[@]}"; do
      if [[ "$label" == "$word" || "${label%-*}" == "$word" ]]; then selected+=("$entry"); break; fi
    done
  done
fi

# --- tools ---------------------------------------------------------------------------------
need() {
  command -v "$1" >/dev/null 2>&1 ||
    fail "$1 is missing: run 'SOCLE_BENCH_DEPS=1 scripts/install-deps.sh' (make bench does)"
}
need wrk
need curl
need psql
need timeout
need awk
[[ "$with_ceilings" == 0 ]] || need nginx
nginx_bin=$(command -v nginx || true)
have_gnuplot=1
command -v gnuplot >/dev/null 2>&1 || have_gnuplot=0

pg_bindir() {
  local dir
  dir=$(pg_config --bindir 2>/dev/null || true)
  if [[ -x "$dir/pg_ctl" ]]; then echo "$dir"; return; fi
  for dir in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
    if [[ -x "$dir/pg_ctl" ]]; then echo "$dir"; return; fi
  done
  fail "no PostgreSQL server binaries: install postgresql-15 (scripts/install-deps.sh does)"
}
pg_bin=$(pg_bindir)
[[ -x "$pg_bin/pgbench" ]] || fail "pgbench is missing from $pg_bin (it ships with postgresql-15)"

# The cluster's server runs as postgres when we are root (PostgreSQL refuses root).
as_pg_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# --- the run's directories and cleanup -------------------------------------------------------
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=$out_root/$stamp
[[ ! -e "$out" ]] || fail "$out already exists"
mkdir -p "$out/logs"
out=$(cd "$out" && pwd)
work=$out/work
mkdir -p "$work"
began=$(date +%s)

cluster_state=
cluster_url=
nginx_prefix=
current_script=
current_workdir=
soak_pid=

stop_nginx() {
  [[ -n "$nginx_prefix" && -f "$nginx_prefix/nginx.pid" ]] || return 0
  local pid
  pid=$(cat "$nginx_prefix/nginx.pid" 2>/dev/null || true)
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill -QUIT "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  rm -f -- "$nginx_prefix/nginx.pid"
}

# Runs a long command (wrk, pgbench, a target's start or stop) in the background and waits for
# it. Bash runs a trap only once the foreground command has finished, and not at all when that
# command handles SIGINT itself as wrk does; `wait` returns at once on a trapped signal, so a
# Ctrl-C reaches cleanup(), which stops the command by its pid.
child_pid=
figures=
run_child() {
  "$@" 3>&- &
  child_pid=$!
  local status=0
  wait "$child_pid" || status=$?
  child_pid=
  return "$status"
}

stop_child() {
  [[ -n "$child_pid" ]] || return 0
  kill -TERM "$child_pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$child_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$child_pid" 2>/dev/null || true
  wait "$child_pid" 2>/dev/null || true
  child_pid=
}

stop_target() {
  [[ -n "$current_script" ]] || return 0
  run_child timeout --foreground --kill-after=10 120 bash "$current_script" stop "$current_workdir" \
    >>"$current_workdir.stop.log" 2>&1 </dev/null ||
    say "stopping $(basename "$current_workdir") failed (see its stop log)"
  current_script=
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [[ -n "$soak_pid" ]]; then
    kill -TERM "$soak_pid" 2>/dev/null || true
    wait "$soak_pid" 2>/dev/null || true
  fi
  stop_child
  stop_target
  stop_nginx
  if [[ -n "$cluster_state" ]]; then
    cp -f "$cluster_state/server.log" "$out/logs/postgresql.log" 2>/dev/null || true
    "$root/tests/support/pg_cluster.sh" stop "$cluster_state" >/dev/null 2>&1 ||
      say "stopping the PostgreSQL cluster failed"
  fi
  if [[ "$keep" != 1 ]]; then
    rm -rf -- "$work"
  else
    say "work directories kept in $work"
  fi
  [[ $status -eq 0 ]] || say "failed (status $status); what was measured is in $out"
  exit "$status"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

# --- measuring -------------------------------------------------------------------------------
# VmRSS or VmHWM of a process, in KiB ("" when it is gone).
memory_kib() {
  awk -v field="$2:" '$1 == field { print $2 }' "/proc/$1/status" 2>/dev/null || true
}

# The figures of a finished wrk run from its log (the scripts' "@bench" line):
# "rps p50_ms p99_ms p999_ms errors".
wrk_figures() {
  local log=$1 line
  line=$(grep '^@bench ' "$log" | tail -n 1) || { say "wrk printed no summary ($log)"; return 1; }
  awk '{
    for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    rps = v["duration_us"] > 0 ? v["requests"] / (v["duration_us"] / 1e6) : 0
    printf "%.1f %.3f %.3f %.3f %d\n", rps, v["p50_us"] / 1000, v["p99_us"] / 1000,
           v["p999_us"] / 1000, v["connect"] + v["read"] + v["write"] + v["status"] + v["timeout"]
  }' <<<"$line"
}

# The wrk command of one run: wrk_command SCRIPT URL SECONDS [VAR=value...], bench.env's
# settings passed to the Lua script through the environment. timeout --foreground stays in our
# process group, so that Ctrl-C reaches wrk at once.
wrk_command() {
  local script=$1 url=$2 seconds=$3
  shift 3
  wrk_argv=(env "$@" timeout --foreground --kill-after=10 $((seconds + 60))
            wrk -t"$threads" -c"$connections" -d"${seconds}s" -s "$here/wrk/$script" "$url")
}

# Runs wrk once: run_wrk SCRIPT URL SECONDS LOG [VAR=value...]; sets `figures` (not printed:
# a command substitution's subshell would keep wrk out of cleanup's reach).
run_wrk() {
  local script=$1 url=$2 seconds=$3 log=$4
  shift 4
  figures=
  wrk_command "$script" "$url" "$seconds" "$@"
  if ! run_child "${wrk_argv[@]}" >"$log" 2>&1 </dev/null; then
    say "wrk failed ($log): $(tail -n 2 "$log" | tr '\n' ' ')"
    return 1
  fi
  figures=$(wrk_figures "$log")
}

# The median of runs given as lines "rps p50 p99 p999 errors": the run whose rps is the median
# (the lower middle one for an even count), followed by every run's rps in order.
median_run() {
  local lines=$1
  local chosen all
  chosen=$(sort -n -k1,1 <<<"$lines" | awk -v n="$(grep -c . <<<"$lines")" 'NR == int((n + 1) / 2)')
  all=$(awk '{ printf "%s%s", (NR > 1 ? "," : ""), $1 }' <<<"$lines")
  echo "$chosen $all"
}

# --- CPU per request ---------------------------------------------------------------------------
# Where a run's CPU time went, from /proc: the server process (all its threads), PostgreSQL (the
# postmaster, its live children and the children it reaped), and the rest of the machine's busy
# time (wrk, the kernel's softirq work for loopback, anything else running).
clock_ticks=$(getconf CLK_TCK)

# utime + stime of a process (clock ticks), its children reaped by it too with `children`.
process_ticks() {
  local pid=$1 children=${2:-}
  # Past the command name in parentheses (which may hold spaces), utime is the 12th field.
  sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null |
    awk -v c="$children" '{ print $12 + $13 + (c != "" ? $14 + $15 : 0) }' || echo 0
}

# A process and its children (nginx's workers, PostgreSQL's backends): live ones and reaped ones.
tree_ticks() {
  local pid=$1 total child
  [[ -n "$pid" ]] || { echo 0; return; }
  total=$(process_ticks "$pid" children)
  for child in $(pgrep -P "$pid"); do total=$((total + $(process_ticks "$child"))); done
  echo "${total:-0}"
}

database_ticks() {
  local pm
  pm=$(head -n 1 "$(cat "$cluster_state/root" 2>/dev/null)/data/postmaster.pid" 2>/dev/null) ||
    { echo 0; return; }
  tree_ticks "$pm"
}

# "server database busy" in clock ticks for server process $1 (none: 0), busy being the whole
# machine's non-idle time.
cpu_sample() {
  local busy
  busy=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat)
  echo "$(tree_ticks "${1:-}") $(database_ticks) ${busy:-0}"
}

# The requests (transactions) a run's log reports: wrk's @bench line or pgbench's count.
run_requests() {
  grep -o '^@bench .*requests=[0-9]*' "$1" | tail -n 1 | grep -o 'requests=[0-9]*' | cut -d= -f2 ||
    sed -nE 's/^number of transactions actually processed: ([0-9]+).*/\1/p' "$1" | tail -n 1
}

# CPU microseconds per request between two samples over a run's log: "server database other".
cpu_per_request() {
  local before=$1 after=$2 log=$3 requests
  requests=$(run_requests "$log")
  awk -v b="$before" -v a="$after" -v n="${requests:-0}" -v hz="$clock_ticks" 'BEGIN {
    split(b, x, " "); split(a, y, " ")
    if (n + 0 == 0) { print "- - -"; exit }
    s = y[1] - x[1]; d = y[2] - x[2]; o = (y[3] - x[3]) - s - d; if (o < 0) o = 0
    f = 1e6 / hz / n
    printf "%.1f %.1f %.1f\n", s * f, d * f, o * f
  }'
}

# A free TCP port on loopback (nothing accepts a connection on it).
free_port() {
  local port
  for _ in $(seq 1 200); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 9<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
  fail "no free loopback port found"
}

# --- PostgreSQL ------------------------------------------------------------------------------
start_cluster() {
  cluster_state=$work/pg
  "$root/tests/support/pg_cluster.sh" start "$cluster_state" >"$out/logs/pg_cluster.log" 2>&1 ||
    fail "the PostgreSQL cluster did not start: $(tail -n 3 "$out/logs/pg_cluster.log")"
  cluster_url=$(cat "$cluster_state/url")
  # pg_cluster.sh trades durability for test speed; a benchmark measures the real thing.
  # shared_buffers goes back to PostgreSQL's default (the test cluster keeps 32MB).
  psql "$cluster_url" -qX -v ON_ERROR_STOP=1 \
    -c "ALTER SYSTEM SET fsync = on" -c "ALTER SYSTEM SET synchronous_commit = on" \
    -c "ALTER SYSTEM SET full_page_writes = on" -c "ALTER SYSTEM SET shared_buffers = '128MB'" \
    >/dev/null || fail "cannot configure the PostgreSQL cluster"
  local pg_root
  pg_root=$(cat "$cluster_state/root")
  as_pg_owner "$pg_bin/pg_ctl" -D "$pg_root/data" -l "$pg_root/server.log" -m fast -w -t 60 restart \
    >>"$out/logs/pg_cluster.log" 2>&1 ||
    fail "the PostgreSQL cluster did not restart: $(tail -n 3 "$pg_root/server.log")"
  local setting expected value
  for setting in fsync=on synchronous_commit=on full_page_writes=on shared_buffers=128MB; do
    expected=${setting#*=}
    value=$(psql "$cluster_url" -qAtX -c "SHOW ${setting%%=*}")
    [[ "$value" == "$expected" ]] ||
      fail "PostgreSQL's ${setting%%=*} is '$value' after the restart, not '$expected'"
  done
  say "PostgreSQL cluster up, durable (fsync, synchronous_commit, full_page_writes on)"
}

# The URL of database $1 in the cluster (the cluster's URL names the postgres database).
database_url() {
  echo "postgresql:///$1?${cluster_url#postgresql:///postgres\?}"
}

create_database() {
  PGOPTIONS='-c client_min_messages=warning' psql "$cluster_url" -qX -v ON_ERROR_STOP=1 \
    -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" \
    -c "CREATE DATABASE \"$1\" TEMPLATE template0 ENCODING 'UTF8'" >/dev/null
}

drop_database() {
  psql "$cluster_url" -qX -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" >/dev/null 2>&1 || true
}

# --- ceilings --------------------------------------------------------------------------------
# ceilings.tsv: ceiling, what it measures, rps (tps), p50/p99/p99.9 in ms, errors, runs' rps.
ceiling_row() {
  local name=$1 what=$2 figures=$3
  read -r rps p50 p99 p999 errors cpu_server cpu_db cpu_other all <<<"$figures"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$what" "$rps" "$p50" "$p99" \
    "$p999" "$errors" "$all" "$cpu_server" "$cpu_db" "$cpu_other" >>"$out/ceilings.tsv"
}

ceiling_nginx() {
  nginx_prefix=$work/nginx
  mkdir -p "$nginx_prefix/html" "$nginx_prefix/tmp"
  cp "$here/ceilings/record.json" "$nginx_prefix/html/record.json"
  # Workers run as nobody when the master is root (nginx's own rule): the document and the
  # run's directories leading to it must be readable by everyone.
  chmod -R a+rX "$nginx_prefix"
  chmod a+x "$out" "$work"
  local user_line="" port
  [[ $(id -u) -ne 0 ]] || user_line="user nobody nogroup;"
  port=$(free_port)
  sed -e "s|@USER@|$user_line|" -e "s|@PREFIX@|$nginx_prefix|g" -e "s|@PORT@|$port|" \
    "$here/ceilings/nginx.conf.in" >"$nginx_prefix/nginx.conf"
  "$nginx_bin" -p "$nginx_prefix" -c "$nginx_prefix/nginx.conf" -e "$nginx_prefix/error.log" \
    >"$out/logs/nginx.start.log" 2>&1 ||
    fail "nginx did not start: $(tail -n 2 "$out/logs/nginx.start.log" "$nginx_prefix/error.log" 2>/dev/null)"
  local url="http://127.0.0.1:$port" status
  for _ in $(seq 1 50); do
    status=$(curl -s -o /dev/null -w '%{http_code}' "$url/p/bench/api/collections/posts/records/x" || true)
    [[ "$status" == 200 ]] && break
    sleep 0.1
  done
  [[ "$status" == 200 ]] ||
    fail "nginx does not serve the ceiling's document (HTTP $status;" \
      "its workers must be able to read $nginx_prefix/html)"
  # The same script as W1, over as many distinct paths as W1 reads.
  local ids=$nginx_prefix/ids.txt
  awk 'BEGIN { for (i = 0; i < 10000; i++) printf "n%014d\n", i }' >"$ids"
  local wrk_env=(GET_PATH='/p/bench/api/collections/posts/records/{id}' IDS_FILE="$ids" HEADERS=)
  local lines=""
  if ((warmup > 0)); then
    run_wrk w1_get.lua "$url" "$warmup" "$out/logs/ceiling-nginx.warmup.log" "${wrk_env[@]}" ||
      fail "the nginx ceiling's warm-up failed"
  fi
  local nginx_pid before after
  nginx_pid=$(cat "$nginx_prefix/nginx.pid" 2>/dev/null || true)
  for ((run = 1; run <= runs; run++)); do
    before=$(cpu_sample "$nginx_pid")
    run_wrk w1_get.lua "$url" "$duration" "$out/logs/ceiling-nginx.$run.log" "${wrk_env[@]}" ||
      fail "the nginx ceiling's run $run failed"
    after=$(cpu_sample "$nginx_pid")
    lines+="$figures $(cpu_per_request "$before" "$after" "$out/logs/ceiling-nginx.$run.log")"$'\n'
  done
  local what
  what="nginx $("$nginx_bin" -v 2>&1 | sed 's|.*nginx/||'), static"
  what+=" $(wc -c <"$here/ceilings/record.json") B JSON document"
  ceiling_row nginx "$what" \
    "$(median_run "${lines%$'\n'}")"
  stop_nginx
  say "ceiling nginx: $(cut -f3 <(tail -n 1 "$out/ceilings.tsv")) req/s"
}

# Runs pgbench once: run_pgbench LOG SECONDS [ARGS...]; sets `figures` to "tps p50_ms p99_ms
# p999_ms failed", the latency percentiles from its per-transaction log.
run_pgbench() {
  local log=$1 seconds=$2
  shift 2
  local prefix=$work/pgbench-tx
  figures=
  rm -f -- "$prefix".*
  if ! run_child "$pg_bin/pgbench" -n -M prepared -c "$connections" -j "$threads" -T "$seconds" \
          --log --log-prefix="$prefix" "$@" >"$log" 2>&1 </dev/null; then
    say "pgbench failed ($log): $(tail -n 3 "$log" | tr '\n' ' ')"
    return 1
  fi
  local tps failed percentiles
  tps=$(sed -nE 's/^tps = ([0-9.]+) .*/\1/p' "$log" | tail -n 1)
  failed=$(sed -nE 's/^number of failed transactions: ([0-9]+).*/\1/p' "$log")
  [[ -n "$tps" ]] || { say "pgbench printed no tps ($log)"; return 1; }
  # Field 3 of each line is the transaction's latency in microseconds.
  percentiles=$(cat "$prefix".* | awk '{ print $3 }' | sort -n | awk '
    { v[NR] = $1 }
    function at(p,  i) { i = int(NR * p / 100 + 0.999999); if (i < 1) i = 1; return v[i] / 1000 }
    END { if (NR == 0) print "0 0 0"; else printf "%.3f %.3f %.3f\n", at(50), at(99), at(99.9) }')
  rm -f -- "$prefix".*
  figures=$(printf '%.1f %s %d' "$tps" "$percentiles" "${failed:-0}")
}

ceiling_pgbench() {
  local name=$1 what=$2 database=$3
  shift 3
  local url lines=""
  url=$(database_url "$database")
  if ((warmup > 0)); then
    run_pgbench "$out/logs/ceiling-$name.warmup.log" "$warmup" "$@" "$url" ||
      fail "the $name ceiling's warm-up failed"
  fi
  local before after
  for ((run = 1; run <= runs; run++)); do
    before=$(cpu_sample "")
    run_pgbench "$out/logs/ceiling-$name.$run.log" "$duration" "$@" "$url" ||
      fail "the $name ceiling's run $run failed"
    after=$(cpu_sample "")
    lines+="$figures $(cpu_per_request "$before" "$after" "$out/logs/ceiling-$name.$run.log")"$'\n'
  done
  ceiling_row "$name" "$what" "$(median_run "${lines%$'\n'}")"
  say "ceiling $name: $(cut -f3 <(tail -n 1 "$out/ceilings.tsv")) tps"
}

run_ceilings() {
  printf 'ceiling\twhat\trps\tp50_ms\tp99_ms\tp999_ms\terrors\truns_rps\tcpu_server_us\tcpu_db_us\tcpu_other_us\n' \
    >"$out/ceilings.tsv"
  if [[ "$with_ceilings" == 0 ]]; then
    say "ceilings skipped (--no-ceilings)"
    return
  fi
  ceiling_nginx
  create_database bench_pgbench
  "$pg_bin/pgbench" -i -s 10 -q "$(database_url bench_pgbench)" >"$out/logs/pgbench-init.log" 2>&1 ||
    fail "pgbench -i failed: $(tail -n 3 "$out/logs/pgbench-init.log")"
  ceiling_pgbench pgbench-select "pgbench -S -M prepared, scale 10 (1,000,000 accounts)" bench_pgbench -S
  drop_database bench_pgbench
  create_database bench_insert
  psql "$(database_url bench_insert)" -qX -v ON_ERROR_STOP=1 -f "$here/ceilings/insert_schema.sql" \
    >"$out/logs/insert-schema.log" 2>&1 ||
    fail "the insert ceiling's schema failed: $(tail -n 3 "$out/logs/insert-schema.log")"
  ceiling_pgbench pgbench-insert "a post and its audit event per durable transaction (ceilings/insert.sql)" \
    bench_insert -f "$here/ceilings/insert.sql"
  drop_database bench_insert
  create_database bench_list
  {
    psql "$(database_url bench_list)" -qX -v ON_ERROR_STOP=1 -f "$here/ceilings/insert_schema.sql" &&
      psql "$(database_url bench_list)" -qX -v ON_ERROR_STOP=1 -f "$here/ceilings/list_seed.sql" &&
      "$pg_bin/vacuumdb" --analyze --quiet --dbname="$(database_url bench_list)"
  } >"$out/logs/list-schema.log" 2>&1 ||
    fail "the list ceiling's data failed: $(tail -n 3 "$out/logs/list-schema.log")"
  ceiling_pgbench pgbench-list "W2's page and count statements on the same 10,000 posts (ceilings/list.sql)" \
    bench_list -f "$here/ceilings/list.sql"
  drop_database bench_list
}

# --- running a target ------------------------------------------------------------------------
# bench.env read in a subshell, so that nothing it sets reaches the driver: the values of
# kEnvKeys, NUL-separated, into the associative array `env`.
declare -A env=()
load_env() {
  local file=$1 values key i=0
  env=()
  mapfile -d '' -t values < <(
    set +u
    # shellcheck disable=SC1090
    source "$file" >/dev/null 2>&1 || exit 1
    for key in "${kEnvKeys[@]}"; do printf '%s\0' "${!key}"; done
  )
  ((${#values[@]} == ${#kEnvKeys[@]})) || return 1
  for key in "${kEnvKeys[@]}"; do env[$key]=${values[$i]}; i=$((i + 1)); done
}

# curl's -H arguments for a '|'-joined header list.
header_args() {
  local item
  local -a items
  IFS='|' read -r -a items <<<"$1"
  for item in "${items[@]}"; do [[ -z "$item" ]] || printf '%s\0' -H "$item"; done
}

# One request of the workload before it is measured: a target that answers it with an error
# says so in the report, not only in an error count.
probe() {
  local w=$1 id path method=GET body=""
  local -a args=()
  mapfile -d '' -t args < <(header_args "${env[HEADERS]}")
  case "$w" in
    W1 | W5) id=$(head -n 1 "${env[IDS_FILE]}"); path=${env[GET_PATH]//\{id\}/$id} ;;
    W2) path=${env[LIST_PATH]} ;;
    W0) path=${env[FLOOR_PATH]} ;;
    W3) method=POST; path=${env[CREATE_PATH]}; body=${env[CREATE_BODY]}
        args+=(-H 'Content-Type: application/json' --data-binary "$body") ;;
    W4) id=$(head -n 1 "${env[AUTH_IDS_FILE]}"); path=${env[AUTH_GET_PATH]//\{id\}/$id}
        mapfile -d '' -t -O "${#args[@]}" args < <(header_args "${env[AUTH_HEADERS]}") ;;
  esac
  local answer status
  answer=$(curl -sS --max-time 10 -X "$method" "${args[@]}" -w '\n%{http_code}' "${env[BASE_URL]}$path" 2>&1) || true
  status=${answer##*$'\n'}
  if [[ "$status" != 2?? ]]; then
    answer=${answer%$'\n'*}
    echo "$w: a probe request answered ${status:-nothing}: ${answer:0:160}" | tr '\n\t' '  '
  elif [[ "$w" == W2 && "$answer" != *5000* ]]; then
    # Every system returns the page and the total (5,000 published posts before W3 adds any).
    echo "W2: the list's answer carries no total of 5000: ${answer:0:160}" | tr '\n\t' '  '
  fi
}

# targets.tsv: target, status (ok | failed), idle and peak RSS (KiB), version, notes; "-" for
# nothing (bash's read would merge empty tab-separated fields).
target_row() {
  local field fields=()
  for field in "$@"; do fields+=("${field:--}"); done
  (IFS=$'\t'; echo "${fields[*]}") >>"$out/targets.tsv"
}

measure_workload() {
  local label=$1 w=$2 key
  local -a wrk_env=("HEADERS=${env[HEADERS]}")
  for key in ${kWorkloadKeys[$w]}; do
    if [[ -z "${env[$key]}" ]]; then
      notes+=("$w not run: bench.env has no $key")
      return 0
    fi
    wrk_env+=("$key=${env[$key]}")
  done
  local problem
  problem=$(probe "$w")
  [[ -z "$problem" ]] || { notes+=("$problem"); say "$label $problem"; }
  local script=${kWorkloadScript[$w]} url=${env[BASE_URL]} logs=$out/logs/$label
  if ((warmup > 0)); then
    run_wrk "$script" "$url" "$warmup" "$logs/$w.warmup.log" "${wrk_env[@]}" || {
      notes+=("$w failed: wrk's warm-up run failed (logs/$label/$w.warmup.log)")
      return 0
    }
  fi
  local lines=""
  local before after
  for ((run = 1; run <= runs; run++)); do
    before=$(cpu_sample "${env[PID]}")
    run_wrk "$script" "$url" "$duration" "$logs/$w.$run.log" "${wrk_env[@]}" || {
      notes+=("$w failed: wrk's run $run failed (logs/$label/$w.$run.log)")
      return 0
    }
    after=$(cpu_sample "${env[PID]}")
    lines+="$figures $(cpu_per_request "$before" "$after" "$logs/$w.$run.log")"$'\n'
  done
  local rps p50 p99 p999 errors cpu_server cpu_db cpu_other all
  read -r rps p50 p99 p999 errors cpu_server cpu_db cpu_other all \
    <<<"$(median_run "${lines%$'\n'}")"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$w" "$rps" "$p50" "$p99" "$p999" \
    "$errors" "$all" "$cpu_server" "$cpu_db" "$cpu_other" >>"$out/results.tsv"
  say "$label $w: $rps req/s, p50 $p50 ms, p99 $p99 ms, p99.9 $p999 ms, $errors errors (runs: $all);" \
    "CPU per request: server $cpu_server µs, PostgreSQL $cpu_db µs, other $cpu_other µs"
}

# W5 for $soak seconds, VmRSS sampled every 10 s into soak.tsv.
run_soak() {
  local label=$1 pid=$2
  local -a wrk_env=("HEADERS=${env[HEADERS]}")
  local key
  for key in ${kWorkloadKeys[W5]}; do wrk_env+=("$key=${env[$key]}"); done
  say "soak: W5 on $label for $soak s"
  printf 'elapsed_s\trss_kib\n' >"$out/soak.tsv"
  # Run in the background (its pid is timeout's, which passes a TERM on to wrk).
  wrk_command w5_mixed.lua "${env[BASE_URL]}" "$soak" "${wrk_env[@]}"
  "${wrk_argv[@]}" >"$out/logs/$label/soak.log" 2>&1 </dev/null 3>&- &
  soak_pid=$!
  local t0 elapsed rss
  t0=$(date +%s)
  while kill -0 "$soak_pid" 2>/dev/null; do
    elapsed=$(($(date +%s) - t0))
    rss=$(memory_kib "$pid" VmRSS)
    printf '%s\t%s\n' "$elapsed" "${rss:-gone}" >>"$out/soak.tsv"
    for _ in $(seq 1 100); do kill -0 "$soak_pid" 2>/dev/null || break; sleep 0.1; done
  done
  local status=0
  wait "$soak_pid" || status=$?
  soak_pid=
  rss=$(memory_kib "$pid" VmRSS)
  printf '%s\t%s\n' "$(($(date +%s) - t0))" "${rss:-gone}" >>"$out/soak.tsv"
  if ((status != 0)); then
    notes+=("soak failed: wrk failed (logs/$label/soak.log)")
    return 0
  fi
  local rps p50 p99 p999 errors
  read -r rps p50 p99 p999 errors <<<"$(wrk_figures "$out/logs/$label/soak.log")"
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$rps" "$p50" "$p99" "$p999" "$errors" >"$out/soak.result"
}

run_target() {
  local label=$1 script=$2 store=$3
  local workdir=$work/$label
  mkdir -p "$workdir" "$out/logs/$label"
  notes=()
  local database="" args=(start "$workdir" "$store")
  if [[ "$store" == postgres ]]; then
    database="bench_${label//[^a-z0-9]/_}"
    create_database "$database" || fail "cannot create the database $database"
    args+=("$(database_url "$database")")
  fi
  say "$label: starting (logs/$label/start.*)"
  current_script=$script
  current_workdir=$workdir
  local status=0 t0=$SECONDS
  run_child timeout --foreground --kill-after=10 "$start_timeout" bash "$script" "${args[@]}" \
    >"$out/logs/$label/start.out" 2>"$out/logs/$label/start.err" </dev/null || status=$?
  local reason=""
  if ((status != 0)); then
    reason=$(grep -v '^[[:space:]]*$' "$out/logs/$label/start.err" | tail -n 1 || true)
    ((status != 124)) || reason="start did not finish within $start_timeout s${reason:+ ($reason)}"
    reason=${reason:-start exited with status $status and said nothing}
  elif ! load_env "$workdir/bench.env"; then
    reason="start wrote no readable $workdir/bench.env"
  elif [[ -z "${env[BASE_URL]}" || -z "${env[PID]}" ]]; then
    reason="bench.env lacks BASE_URL or PID"
  elif ! kill -0 "${env[PID]}" 2>/dev/null; then
    reason="the server process ${env[PID]} named in bench.env is not running"
  fi
  if [[ -n "$reason" ]]; then
    say "$label: did not start: $reason"
    stop_target
    target_row "$label" failed "" "" "" "$(tr '\t\n' '  ' <<<"$reason" | sed 's/ *$//')"
    [[ -z "$database" ]] || drop_database "$database"
    return 0
  fi
  [[ -z "${env[NAME]}" || "${env[NAME]}" == "$label" ]] ||
    notes+=("bench.env names itself '${env[NAME]}'")
  if [[ "$store" == postgres ]]; then
    # As after any bulk load, and the same for every target: the visibility map and the
    # planner's statistics up to date (autovacuum would get there at its own pace, in the
    # middle of a workload).
    vacuumdb --all --analyze --quiet --maintenance-db="$cluster_url" \
      >>"$out/logs/$label/start.out" 2>&1 || notes+=("vacuumdb --all --analyze failed")
  fi
  local pid=${env[PID]} idle peak
  idle=$(memory_kib "$pid" VmRSS)
  say "$label: up on ${env[BASE_URL]} (pid $pid, idle RSS ${idle} KiB) after $((SECONDS - t0)) s"
  for w in "${workloads[@]}"; do
    measure_workload "$label" "$w"
  done
  # The HTTP floor, after the workloads (it is no part of them): optional for a target.
  if [[ -n "${env[FLOOR_PATH]}" && " ${workloads[*]} " != *" W0 "* ]]; then
    measure_workload "$label" W0
  fi
  peak=$(memory_kib "$pid" VmHWM)
  if [[ "$label" == socle-sqlite ]] && ((soak > 0)); then run_soak "$label" "$pid"; fi
  [[ -n "$peak" ]] || notes+=("the server process $pid was gone after the workloads")
  stop_target
  if kill -0 "$pid" 2>/dev/null; then
    notes+=("stop left the server process $pid running: killed")
    kill -KILL "$pid" 2>/dev/null || true
  fi
  cp -f "$workdir"/*.log "$out/logs/$label/" 2>/dev/null || true
  [[ -z "$database" ]] || drop_database "$database"
  local joined=""
  ((${#notes[@]} == 0)) || joined=$(printf '%s; ' "${notes[@]}" | tr '\t\n' '  ')
  target_row "$label" ok "$idle" "$peak" "${env[VERSION]}" "${joined%; }"
}

# --- the machine -----------------------------------------------------------------------------
# The installed version of each npm dependency a peer's package.json names.
peer_versions() {
  local dir=$1 stated=${2:-}
  command -v node >/dev/null 2>&1 || return 0
  [[ -f "$dir/package.json" ]] || return 0
  # The dependencies and their installed versions, but those the target's VERSION names.
  node -e '
    const fs = require("fs"), path = require("path"), dir = process.argv[1], stated = process.argv[2];
    const deps = Object.keys(JSON.parse(fs.readFileSync(path.join(dir, "package.json"))).dependencies || {});
    console.log(deps.map((d) => {
      try { return d + " " + JSON.parse(fs.readFileSync(path.join(dir, "node_modules", d, "package.json"))).version; }
      catch { return d + " (not installed)"; }
    }).filter((v) => !stated.includes(v)).join(", "));' "$dir" "$stated" 2>/dev/null || true
}

machine_facts() {
  local cpu ram
  cpu=$(lscpu 2>/dev/null | sed -nE 's/^Model name:[[:space:]]+//p' | head -n 1)
  [[ -n "$cpu" ]] || cpu=$(sed -nE 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
  ram=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
  echo "| nproc | CPU | RAM | kernel | PostgreSQL | nginx | wrk | node |"
  echo "|---|---|---|---|---|---|---|---|"
  printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$(nproc)" "${cpu:-unknown}" "$ram" \
    "$(uname -r)" "$("$pg_bin/postgres" --version | sed 's/^postgres (PostgreSQL) //')" \
    "$([[ -n "$nginx_bin" ]] && "$nginx_bin" -v 2>&1 | sed 's|.*nginx/||' || echo -)" \
    "$(wrk -v 2>&1 | sed -nE 's/^wrk ([^ ]+).*/\1/p' | head -n 1)" \
    "$(command -v node >/dev/null 2>&1 && node --version || echo -)"
}

# --- the report ------------------------------------------------------------------------------
# Which ceiling bounds a workload on a store: the static server for HTTP reads, the database's
# own figures where the store is the bound (W1, W2 and W3 on PostgreSQL). A SQLite durable write
# has no ceiling measured here.
ceiling_of() {
  case "$1:$2" in
    W1:postgres) echo pgbench-select ;;
    W2:postgres) echo pgbench-list ;;
    W3:postgres) echo pgbench-insert ;;
    W3:sqlite) echo "" ;;
    *) echo nginx ;;
  esac
}

figure() { awk -F'\t' -v t="$1" -v w="$2" -v c="$3" '$1 == t && $2 == w { print $c }' "$out/results.tsv"; }
ceiling_rps() { awk -F'\t' -v n="$1" '$1 == n { print $3 }' "$out/ceilings.tsv"; }

# 12345.6 → 12,346 (awk's %' depends on the locale).
format_number() {
  awk -v v="$1" 'BEGIN {
    if (v == "") { print "—"; exit }
    s = sprintf("%.0f", v); out = ""
    while (length(s) > 3) { out = "," substr(s, length(s) - 2) out; s = substr(s, 1, length(s) - 3) }
    print s out
  }'
}
ms() {
  awk -v v="$1" 'BEGIN {
    if (v == "") print "—"; else if (v < 10) printf "%.2f ms\n", v; else printf "%.1f ms\n", v }'
}
ratio() {
  awk -v a="$1" -v b="$2" -v s="$3" 'BEGIN {
    if (a == "" || b == "" || b + 0 == 0) print "—"; else printf "%.2f%s\n", a / b, s }'
}
cell() { echo "${1//|/\\|}"; }
mib() { awk -v v="$1" 'BEGIN { if (v == "") print "—"; else printf "%.1f MiB\n", v / 1024 }'; }

write_report() {
  local report=$out/report.md
  local ok_targets=() line
  while IFS=$'\t' read -r label status _; do
    [[ "$status" == ok ]] && ok_targets+=("$label")
  done < <(tail -n +2 "$out/targets.tsv")
  {
    echo "# Socle load benchmark, $stamp"
    echo
    echo "\`${invocation% }\`: wrk \`-t$threads -c$connections -d${duration}s\`, $runs measured run(s) per"
    echo "workload after a ${warmup} s warm-up; the figures are the median run's (by requests/s)."
    echo "Client, servers and PostgreSQL share the machine's cores on loopback. Socle $socle_revision."
    echo "Errors are socket errors plus responses with a status of 400 or more."
    echo "Load average before the run: $load_before (the machine should be idle: under 1.0; during"
    echo "the run the benchmark itself keeps both cores busy)."
    echo "Total time: $(( ($(date +%s) - began) / 60 )) min $(( ($(date +%s) - began) % 60 )) s."
    echo
    echo "## Machine"
    echo
    machine_facts
    echo
    echo "## Ceilings"
    echo
    if [[ $(wc -l <"$out/ceilings.tsv") -gt 1 ]]; then
      echo "| ceiling | what | req/s (tps) | p50 | p99 | p99.9 | errors |"
      echo "|---|---|---:|---:|---:|---:|---:|"
      while IFS=$'\t' read -r name what rps p50 p99 p999 errors _; do
        echo "| $name | $what | $(format_number "$rps") | $(ms "$p50") | $(ms "$p99") | $(ms "$p999") | $errors |"
      done < <(tail -n +2 "$out/ceilings.tsv")
      echo
      echo "A target's ratio is to nginx for HTTP reads, to pgbench-select for W1 on PostgreSQL,"
      echo "to pgbench-list for W2 on PostgreSQL and to pgbench-insert for W3 on PostgreSQL; a"
      echo "durable SQLite write has no ceiling here."
      echo "pgbench-list (ceilings/list.sql): the two statements Socle's PostgreSQL store sends for"
      echo "W2 (the page, then the count of matching records), on the same 10,000 posts and index."
      echo "nginx (ceilings/nginx.conf.in): Debian's defaults plus no access log, a cached file"
      echo "descriptor and keep-alive connections never closed by count; wrk runs W1's script."
      echo "pgbench-insert (ceilings/insert.sql): the post's table and the audit event's table as"
      echo "Socle's PostgreSQL store makes them (columns, indexes, partitioning by time), without"
      echo "what Socle adds per event: the chain lane's advisory lock, the read of its head, hashing."
    else
      echo "Not measured (--no-ceilings)."
    fi
    local w label store ceiling crps rps socle_rps
    for w in "${workloads[@]}"; do
      echo
      echo "## $w: ${kWorkloadTitle[$w]}"
      echo
      echo "| target | req/s | ratio to ceiling | Socle ÷ target | p50 | p99 | p99.9 | errors |"
      echo "|---|---:|---:|---:|---:|---:|---:|---:|"
      for label in "${ok_targets[@]}"; do
        rps=$(figure "$label" "$w" 3)
        [[ -n "$rps" ]] || { echo "| $label | not measured | | | | | | |"; continue; }
        store=${label##*-}
        ceiling=$(ceiling_of "$w" "$store")
        crps=""
        [[ -z "$ceiling" ]] || crps=$(ceiling_rps "$ceiling")
        local vs="—"
        [[ -z "$crps" ]] || vs="$(ratio "$rps" "$crps" "") of $ceiling"
        local versus="—"
        if [[ "$label" != socle-* ]]; then
          socle_rps=$(figure "socle-$store" "$w" 3)
          versus=$(ratio "$socle_rps" "$rps" "×")
        fi
        echo "| $label | $(format_number "$rps") | $vs | $versus | $(ms "$(figure "$label" "$w" 4)") |" \
          "$(ms "$(figure "$label" "$w" 5)") | $(ms "$(figure "$label" "$w" 6)") | $(figure "$label" "$w" 7) |"
      done
    done
    echo
    echo "## CPU per request"
    echo
    echo "CPU time per request in the median run, in microseconds: the server process (all its"
    echo "threads; with SQLite the database works inside it), PostgreSQL's processes, and the rest"
    echo "of the machine's busy time (wrk, the kernel's loopback work). From /proc, at the clock"
    echo "tick's resolution (10 ms over the run). For the ceilings, \"server\" is nginx (master and"
    echo "workers) and \"other\" holds wrk or pgbench."
    echo
    echo "| target | workload | server | PostgreSQL | other | total |"
    echo "|---|---|---:|---:|---:|---:|"
    local cname cs cd co
    while IFS=$'\t' read -r cname _ _ _ _ _ _ _ cs cd co; do
      [[ -n "$cs" && "$cs" != - ]] || continue
      echo "| ceiling $cname | | $cs | $cd | $co | $(awk -v a="$cs" -v b="$cd" -v c="$co" 'BEGIN { printf "%.1f", a + b + c }') |"
    done < <(tail -n +2 "$out/ceilings.tsv")
    for label in "${ok_targets[@]}"; do
      local cpu_rows=("${workloads[@]}")
      [[ " ${workloads[*]} " == *" W0 "* ]] || cpu_rows+=(W0)
      for w in "${cpu_rows[@]}"; do
        cs=$(figure "$label" "$w" 9)
        [[ -n "$cs" && "$cs" != - ]] || continue
        cd=$(figure "$label" "$w" 10)
        co=$(figure "$label" "$w" 11)
        echo "| $label | $w | $cs | $cd | $co | $(awk -v a="$cs" -v b="$cd" -v c="$co" 'BEGIN { printf "%.1f", a + b + c }') |"
      done
    done
    if awk -F'\t' '$2 == "W0" { found = 1 } END { exit !found }' "$out/results.tsv"; then
      echo
      echo "## HTTP floor (W0)"
      echo
      echo "Each target's health route (FLOOR_PATH: no store, a constant answer) under the same wrk"
      echo "settings, after its workloads: what its HTTP stack costs before any work."
      echo
      echo "| target | req/s | p50 | p99 | server µs per request | other µs per request |"
      echo "|---|---:|---:|---:|---:|---:|"
      for label in "${ok_targets[@]}"; do
        rps=$(figure "$label" W0 3)
        [[ -n "$rps" ]] || continue
        echo "| $label | $(format_number "$rps") | $(ms "$(figure "$label" W0 4)") |" \
          "$(ms "$(figure "$label" W0 5)") | $(figure "$label" W0 9) | $(figure "$label" W0 11) |"
      done
    fi
    echo
    echo "## Memory and targets"
    echo
    echo "Resident memory of the process each target names (PostgreSQL's own processes not"
    echo "counted): idle right after start and seeding, peak (VmHWM) after the workloads."
    echo
    echo "| target | version | idle RSS | peak RSS | notes |"
    echo "|---|---|---:|---:|---|"
    local status idle peak version notes_text system
    while IFS=$'\t' read -r label status idle peak version notes_text; do
      [[ "$idle" != - ]] || idle=""
      [[ "$peak" != - ]] || peak=""
      [[ "$version" != - ]] || version=""
      [[ "$notes_text" != - ]] || notes_text=""
      if [[ "$status" != ok ]]; then
        echo "| $label | — | — | — | **did not start**: $(cell "$notes_text") |"
        continue
      fi
      system=${label%-*}
      if [[ "$system" != socle ]]; then
        local deps
        deps=$(peer_versions "$here/targets/$system" "$version")
        [[ -z "$deps" ]] || version="${version:+$version; }$deps"
      fi
      echo "| $label | $(cell "${version:-—}") | $(mib "$idle") | $(mib "$peak") | $(cell "$notes_text") |"
    done < <(tail -n +2 "$out/targets.tsv")
    if [[ -f "$out/soak.result" ]]; then
      local soak_label srps sp50 sp99 sp999 serrors
      IFS=$'\t' read -r soak_label srps sp50 sp99 sp999 serrors <"$out/soak.result"
      echo
      echo "## Soak: W5 on $soak_label for $soak s"
      echo
      awk -F'\t' 'NR > 1 && $2 != "gone" { if (first == "") first = $2; last = $2; if ($2 > max) max = $2 }
        END { printf "VmRSS every 10 s (soak.tsv): first %.1f MiB, last %.1f MiB, max %.1f MiB.\n",
              first / 1024, last / 1024, max / 1024 }' "$out/soak.tsv"
      echo "$(format_number "$srps") req/s, p50 $(ms "$sp50"), p99 $(ms "$sp99")," \
        "p99.9 $(ms "$sp999"), $serrors errors."
    fi
    if ((have_gnuplot)) && [[ -f "$out/throughput.png" ]]; then
      echo
      echo "![throughput](throughput.png) ![p99](p99.png)"
    fi
  } >"$report"
}

# Charts: grouped bars per workload, one colour per target.
write_charts() {
  ((have_gnuplot)) || { say "gnuplot is missing: no charts"; return 0; }
  local ok_targets=() label status w column
  while IFS=$'\t' read -r label status _; do
    [[ "$status" == ok ]] && ok_targets+=("$label")
  done < <(tail -n +2 "$out/targets.tsv")
  ((${#ok_targets[@]} > 0)) || return 0
  [[ -s "$out/results.tsv" ]] || return 0
  for column in 3:throughput 5:p99; do
    {
      printf 'workload'
      printf '\t%s' "${ok_targets[@]}"
      printf '\n'
      for w in "${workloads[@]}"; do
        printf '%s' "$w"
        for label in "${ok_targets[@]}"; do
          local value
          value=$(figure "$label" "$w" "${column%%:*}")
          printf '\t%s' "${value:-?}"
        done
        printf '\n'
      done
    } >"$work/${column#*:}.dat"
  done
  local n=${#ok_targets[@]} ymin
  # The log scale's floor: the power of ten under the smallest figure.
  ymin=$(awk -F'\t' 'NR > 1 { for (i = 2; i <= NF; i++) if ($i != "?" && $i > 0 && (m == "" || $i < m)) m = $i }
    END { p = 1; if (m != "") while (p * 10 <= m) p *= 10; print p }' "$work/throughput.dat")
  gnuplot -e "datafile='$work/throughput.dat'; output='$out/throughput.png'; columns=$n; ymin=$ymin;" \
    -e "chart_title='Requests per second (median run, log scale)'; ylabel='requests/s'; logscale=1" \
    "$here/plot.gp" >"$out/logs/gnuplot.log" 2>&1 || say "gnuplot failed (logs/gnuplot.log)"
  gnuplot -e "datafile='$work/p99.dat'; output='$out/p99.png'; columns=$n; ymin=0;" \
    -e "chart_title='p99 latency (median run)'; ylabel='ms'; logscale=0" \
    "$here/plot.gp" >>"$out/logs/gnuplot.log" 2>&1 || say "gnuplot failed (logs/gnuplot.log)"
}

# --- the run ---------------------------------------------------------------------------------
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
socle_revision=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo "(no git)")
if ! git -C "$root" diff --quiet HEAD -- 2>/dev/null; then socle_revision+=" with local changes"; fi
if awk '{ exit !($1 >= 1.0) }' /proc/loadavg; then
  say "the load average is $(cut -d' ' -f1 /proc/loadavg): something else is running, the figures will be low"
fi
say "results in $out"
printf 'target\tworkload\trps\tp50_ms\tp99_ms\tp999_ms\terrors\truns_rps\tcpu_server_us\tcpu_db_us\tcpu_other_us\n' \
  >"$out/results.tsv"
printf 'target\tstatus\tidle_rss_kib\tpeak_rss_kib\tversion\tnotes\n' >"$out/targets.tsv"

start_cluster
run_ceilings
((${#selected[@]} > 0)) || say "no target selected"
if ((soak > 0)) && [[ " ${selected[*]%%|*} " != *" socle-sqlite "* ]]; then
  say "--soak needs socle-sqlite among the targets: no soak"
fi
for entry in "${selected[@]}"; do
  IFS='|' read -r label script store <<<"$entry"
  run_target "$label" "$script" "$store"
done

write_charts
write_report
ln -sfn "$stamp" "$out_root/latest"
cat "$out/report.md"
say "done in $(( ($(date +%s) - began) / 60 )) min; results in $out (build/bench/latest)"
