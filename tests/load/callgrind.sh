#!/usr/bin/env bash
# Instructions per request of the records API, counted by callgrind: a figure that does not
# depend on the machine's load or clock, so a regression in the request path shows up as a
# change of a few percent where wall-clock benchmarks would drown it in noise.
#
#   tests/load/callgrind.sh [--annotate]
#
# Creates a throwaway project `bench` (the collections of tests/load/targets/socle), starts
# socle-server under callgrind with instrumentation off, seeds 200 public posts and 200
# `owned` posts (half of them the signed-in author's) through the batch route, then for each
# case warms the server up (statements prepared, caches filled: not counted), switches
# instrumentation on, sends the case's requests over one keep-alive connection, dumps the
# counts and switches instrumentation off again:
#
#   W1  GET  /p/bench/api/collections/posts/records/{id}                      (guest)
#   W2  GET  …/posts/records?page=1&perPage=20&filter=(published=true)&sort=-views
#   W3  POST …/posts/records                                                  (JSON body)
#   W4  GET  …/owned/records/{id}  with a user's token, rule `author = @request.auth.id`
#
# Each case's count includes the connection's accept and close (one per case, a fraction of a
# percent at 500 requests). Only user-space instructions are counted: the kernel's share (the
# socket calls, fsync, thread hand-offs) is not. A case during which the server's minute tick
# ran (work of no request) is counted again. On a 2-vCPU machine a run takes about 30 s and
# two runs agree within 0.3%.
#
# Prints the table and writes it as TSV (case, requests, ir_total, ir_per_request) to
# CALLGRIND_OUT; each case's dump is kept next to it (<out without .tsv>.<case>.callgrind) for
# callgrind_annotate or kcachegrind. --annotate also prints each case's 25 costliest functions
# (exclusive cost).
#
# Environment:
#   SOCLE_BIN_DIR       build directory holding the binaries (default build/release; also its
#                       apps directory, or a directory holding both binaries)
#   CALLGRIND_REQUESTS  measured requests per case (default 500)
#   CALLGRIND_WARMUP    uncounted requests per case before it (default 20)
#   CALLGRIND_OUT       the TSV written (default build/bench/callgrind.tsv)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

kPosts=200
kOwned=200        # every other one belongs to the author who signs in
kStartSeconds=120 # valgrind starts slowly on a loaded machine
kStopSeconds=60   # and writes its last dump on exit

fail() {
  echo "callgrind: $*" >&2
  exit 1
}

usage() {
  echo "usage: $0 [--annotate]" >&2
  exit 2
}

# The Socle target's project, binaries and seeding; api_post waits longer under valgrind.
# shellcheck source=SCRIPTDIR/targets/socle/lib.sh
. "$here/targets/socle/lib.sh"
api_timeout=120

annotate=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --annotate) annotate=1 ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *) usage ;;
  esac
  shift
done

requests=${CALLGRIND_REQUESTS:-500}
warmup=${CALLGRIND_WARMUP:-20}
out=${CALLGRIND_OUT:-$root/build/bench/callgrind.tsv}
[[ "$requests" =~ ^[1-9][0-9]*$ ]] || fail "CALLGRIND_REQUESTS must be a positive integer, not '$requests'"
[[ "$warmup" =~ ^[0-9]+$ ]] || fail "CALLGRIND_WARMUP must be a non-negative integer, not '$warmup'"

for tool in valgrind callgrind_control curl; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is missing (apt-get install valgrind curl)"
done
if ((annotate)); then
  command -v callgrind_annotate >/dev/null 2>&1 || fail "callgrind_annotate is missing (valgrind)"
fi

server=$(find_binary socle-server)
client=$(find_binary socle)

# The server runs with its default settings: nothing from the caller's SOCLE_* environment
# (SOCLE_BIN_DIR was read), and no socle.toml (it is looked for in the working directory,
# the throwaway one below).
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep '^SOCLE_' || true)

work=$(mktemp -d "${TMPDIR:-/tmp}/socle-callgrind.XXXXXX")
server_pid=

stop_server() {
  [[ -n "$server_pid" ]] || return 0
  if kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    local waited=0
    while kill -0 "$server_pid" 2>/dev/null && ((waited < kStopSeconds * 10)); do
      sleep 0.1
      waited=$((waited + 1))
    done
    if kill -0 "$server_pid" 2>/dev/null; then
      echo "callgrind: socle-server ($server_pid) did not stop within ${kStopSeconds} s of SIGTERM; killing it" >&2
      kill -KILL "$server_pid" 2>/dev/null || true
    fi
  fi
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  stop_server
  if ((status == 1)) && [[ -s "$work/server.log" ]]; then
    echo "callgrind: the server's last log lines:" >&2
    tail -n 5 "$work/server.log" >&2
  fi
  rm -rf -- "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the project, with the CLI (no server yet)

data=$work/data
run_cli() {
  local status=0 output
  output=$(cd "$work" && "$client" --data-dir "$data" "$@" 2>&1) || status=$?
  ((status == 0)) || fail "socle $* failed (status $status): $(tr '\n' ' ' <<<"$output")"
}
create_project

# --- the server, under callgrind; nothing is counted until a case switches it on

dump_base=$work/callgrind.out
started=$(date +%s)
# Created here: the loop below reads them before the server's shell may have opened them.
: >"$work/server.out"
: >"$work/server.log"
(
  cd "$work"
  exec valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$dump_base" \
    "$server" --http 127.0.0.1:0 --data-dir "$data" --log-level warn \
    </dev/null >"$work/server.out" 2>"$work/server.log"
) &
server_pid=$!

url=
for ((i = 0; i < kStartSeconds * 5; i++)); do
  url=$(sed -n 's/^socle-server listening on //p' "$work/server.out" | head -n 1)
  [[ -n "$url" ]] && break
  kill -0 "$server_pid" 2>/dev/null || fail "socle-server exited before listening"
  sleep 0.2
done
[[ -n "$url" ]] || fail "socle-server did not listen within ${kStartSeconds} s"
for ((i = 0; i < kStartSeconds * 5; i++)); do
  curl -sf -o /dev/null --max-time 10 "$url/api/health" && break
  sleep 0.2
done
curl -sf -o /dev/null --max-time 10 "$url/api/health" ||
  fail "socle-server did not answer /api/health within ${kStartSeconds} s"
api=$url/p/$kProject/api

record_id() {
  sed -nE 's/.*"collectionName":"[a-z_]+","id":"([a-z0-9]+)".*/\1/p' <<<"$1" | head -n 1
}

# --- the data: two authors (one at a time: a password hash under valgrind could outlast a
# batch's deadline), then posts and owned posts in batches

authors=()
for i in 0 1; do
  printf -v body '{"name":"Author %d","email":"author%d@bench.example.com","password":"%s","passwordConfirm":"%s"}' \
    "$i" "$i" "$kPassword" "$kPassword"
  answer=$(api_post /collections/authors/records "$body")
  id=$(record_id "$answer")
  [[ -n "$id" ]] || fail "creating author $i answered: ${answer:0:300}"
  authors+=("$id")
done

sign_in superuser_token _superusers "$superuser_email" "$superuser_password" "the superuser"

# Post i is published when i is even, has views (i * 7919) % 10000 and author i % 2; the same
# for owned posts, of which the first author's (even i) are W4's.
post_ids=()
owned_ids=()
for collection in posts owned; do
  count=$kPosts
  if [[ $collection == owned ]]; then count=$kOwned; fi
  for ((first = 0; first < count; first += kBatch)); do
    seed_posts_batch "$collection" "$first" $((first + kBatch < count ? first + kBatch : count))
    if [[ $collection == posts ]]; then
      post_ids+=("${batch[@]}")
    else
      for ((j = 0; j < ${#batch[@]}; j++)); do
        if (((first + j) % 2 == 0)); then owned_ids+=("${batch[$j]}"); fi
      done
    fi
  done
done

((${#post_ids[@]} == kPosts)) || fail "seeded ${#post_ids[@]} posts, not $kPosts"
((${#owned_ids[@]} == (kOwned + 1) / 2)) ||
  fail "seeded ${#owned_ids[@]} owned posts of the first author, not $(((kOwned + 1) / 2))"

sign_in token authors author0@bench.example.com "$kPassword" "the author"
seeded=$(date +%s)
echo "callgrind: $server under callgrind on $url; $kPosts posts and $kOwned owned posts seeded" \
  "in $((seeded - started)) s" >&2

# --- the cases

base=/p/$kProject/api/collections
create_body=$work/create.json
printf '{"title":"Load","body":"Lorem ipsum dolor sit amet","views":7,"published":true,"author":"%s"}' \
  "${authors[0]}" >"$create_body"

# A curl config of `count` transfers of case `name`, each answer's body discarded: curl runs
# them in order over one connection, which it keeps alive.
write_config() {
  local name=$1 count=$2 file=$3 i target
  {
    for ((i = 0; i < count; i++)); do
      case "$name" in
        W1) target="$base/posts/records/${post_ids[$((i % ${#post_ids[@]}))]}" ;;
        W2) target="$base/posts/records?page=1&perPage=20&filter=(published=true)&sort=-views" ;;
        W3) target="$base/posts/records" ;;
        W4) target="$base/owned/records/${owned_ids[$((i % ${#owned_ids[@]}))]}" ;;
      esac
      printf 'url = "%s%s"\noutput = "/dev/null"\n' "$url" "$target"
    done
  } >"$file"
}

# Runs a curl config with the case's method and headers, and checks that every answer was
# 2xx and that all of them came over one connection. Prints nothing; fails with the reason.
send() {
  local name=$1 count=$2 file=$3 what=$4
  local args=(-sS --max-time 3600 -w '%{http_code} %{num_connects}\n' -K "$file")
  case "$name" in
    W3) args+=(-H 'Content-Type: application/json' --data-binary "@$create_body") ;;
    W4) args+=(-H "Authorization: $token") ;;
  esac
  local report
  report=$(curl "${args[@]}") || fail "$name: curl failed during the $what"
  local answers bad connects
  answers=$(grep -c . <<<"$report" || true)
  ((answers == count)) || fail "$name: $answers answers to $count requests during the $what"
  bad=$(awk '$1 !~ /^2[0-9][0-9]$/ { print $1 }' <<<"$report" | sort | uniq -c |
          awk '{ printf " %s x %s", $1, $2 }')
  [[ -z "$bad" ]] || fail "$name: answers other than 2xx during the $what:$bad"
  connects=$(awk '{ c += $2 } END { print c + 0 }' <<<"$report")
  ((connects == 1)) || fail "$name: $connects connections for the $what, not one (no keep-alive?)"
}

# The total of dump number $1 (callgrind numbers them from 1): the file appears when
# callgrind_control asks for the dump, and is complete once its counts (the last lines) are.
dump_total() {
  local file=$dump_base.$1 total='' i
  for ((i = 0; i < 300; i++)); do
    if [[ -f "$file" ]]; then
      total=$(sed -n 's/^totals: *\([0-9][0-9]*\).*/\1/p' "$file")
      [[ -n "$total" ]] && break
    fi
    sleep 0.1
  done
  [[ -n "$total" ]] || fail "no complete dump $file"
  echo "$total"
}

control() {
  callgrind_control "$@" "$server_pid" >/dev/null 2>&1 || fail "callgrind_control $* failed"
}

mkdir -p -- "$(dirname -- "$out")"
dump_prefix=${out%.tsv}
declare -A totals=()
dumps=0
cases=(W1 W2 W3 W4)
# The server's minute tick (API key uses written, keys reloaded: ~0.7 M instructions) is not
# part of any request; when it ran while a case was counted, the case is counted again (the
# next tick is a minute away, a case takes seconds).
kTickMarker='ManageApiKeys::Flush'
for name in "${cases[@]}"; do
  write_config "$name" "$warmup" "$work/$name.warmup"
  write_config "$name" "$requests" "$work/$name.measured"
  ((warmup == 0)) || send "$name" "$warmup" "$work/$name.warmup" warm-up
  for attempt in 1 2 3; do
    control -i on
    case_started=$(date +%s)
    send "$name" "$requests" "$work/$name.measured" measurement
    # The server sees the connection close after curl has exited: let it, so that every case
    # counts the close as well as the accept.
    sleep 1
    control -d
    control -i off
    dumps=$((dumps + 1))
    totals[$name]=$(dump_total "$dumps")
    grep -q "$kTickMarker" "$dump_base.$dumps" || break
    ((attempt < 3)) || fail "$name: the server's minute tick ran during each of 3 measurements"
    echo "callgrind: $name: the server's minute tick ran during the measurement; again" >&2
  done
  # callgrind 3.19's `summary:` of a dump taken while several threads run is wrong (it can
  # even wrap around below zero); `totals:`, the sum of the costs in the file, is right. The
  # kept dump gets the right summary, which callgrind_annotate takes its percentages from.
  sed "s/^summary: .*/summary: ${totals[$name]}/" "$dump_base.$dumps" >"$dump_prefix.$name.callgrind"
  echo "callgrind: $name: $requests requests in $(($(date +%s) - case_started)) s" >&2
done

# --- the table, and the TSV

{
  printf 'case\trequests\tir_total\tir_per_request\n'
  for name in "${cases[@]}"; do
    printf '%s\t%d\t%d\t%d\n' "$name" "$requests" "${totals[$name]}" \
      "$(( (totals[$name] + requests / 2) / requests ))"
  done
} >"$out"

echo
echo "socle-server $("$server" --version | sed 's/^socle-server //') ($server)"
# Thousands grouped by hand: mawk's printf has no ' flag.
awk -F'\t' '
  function grouped(n,   s) {
    s = sprintf("%.0f", n)
    while (s ~ /[0-9][0-9][0-9][0-9]/) sub(/[0-9][0-9][0-9]($|,)/, ",&", s)
    return s
  }
  NR == 1 { printf "%-5s %9s %16s %15s\n", $1, $2, $3, $4; next }
  { printf "%-5s %9d %16s %15s\n", $1, $2, grouped($3), grouped($4) }' "$out"
echo
echo "written to $out (dumps: $dump_prefix.<case>.callgrind)"

if ((annotate)); then
  for name in "${cases[@]}"; do
    echo
    echo "== $name: the 25 costliest functions (exclusive Ir)"
    callgrind_annotate --inclusive=no --auto=no --threshold=100 "$dump_prefix.$name.callgrind" |
      awk '/file:function/ { listing = 1; getline; next } listing && NF && n < 25 { print; n++ }' |
      sed -e 's/std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >/std::string/g' \
          -e 's/std::basic_string_view<char, std::char_traits<char> >/std::string_view/g' \
          -e "s| \\[$server\\]\$||"
  done
fi

echo "callgrind: done in $(($(date +%s) - started)) s" >&2
