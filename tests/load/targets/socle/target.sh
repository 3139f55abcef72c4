#!/usr/bin/env bash
# The benchmark's Socle target (the interface every target implements: tests/load/bench.sh).
#
#   target.sh start <workdir> sqlite|postgres [<pg-url>]
#   target.sh stop  <workdir>
#
# start: creates an organisation, the project `bench` and the collections of collections.json
# with the `socle` CLI, starts the Release socle-server (build/release; SOCLE_BIN_DIR names
# another build directory, or the directory holding both binaries) on a free loopback port,
# seeds 100 authors (an auth collection: they sign in), 10,000 posts and 10,000 `owned` posts
# through the batch route, signs the first author in, and writes <workdir>/bench.env.
# The store: SQLite in <workdir>/data, or the PostgreSQL database <pg-url> (which must be empty)
# with the server's default loops, workers and pools.
# SOCLE_BENCH_SERVER_ARGS adds flags to socle-server's command line (e.g. to try a setting).
# stop: stops the server (SIGTERM, then SIGKILL after 20 s) and leaves no process behind.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../../.." && pwd)

kAuthors=100
kPosts=10000
kAuthorBatch=20  # each author's password is hashed (Argon2id): small batches stay well
                 # within the batch timeout (3 s) on a loaded machine
api=  # the project API's base URL, once the server listens

fail() {
  echo "socle target: $*" >&2
  exit 1
}

usage() {
  echo "usage: $0 start <workdir> sqlite|postgres [<pg-url>] | stop <workdir>" >&2
  exit 2
}

# shellcheck source=SCRIPTDIR/lib.sh
. "$here/lib.sh"

# A bench.env line: KEY='value' with the value's single quotes escaped for bash.
env_line() {
  local value=${2//\'/\'\\\'\'}
  printf "%s='%s'\n" "$1" "$value"
}

stop_server() {
  local workdir=$1 pid
  [[ -f "$workdir/server.pid" ]] || return 0
  pid=$(cat "$workdir/server.pid")
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 200); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "socle target: socle-server ($pid) did not stop within 20 s of SIGTERM; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f -- "$workdir/server.pid"
}

start() {
  local workdir=$1 store=$2 pg_url=${3:-}
  [[ -d "$workdir" ]] || fail "the work directory $workdir does not exist"
  workdir=$(cd "$workdir" && pwd)
  local server client
  server=$(find_binary socle-server)
  client=$(find_binary socle)
  command -v curl >/dev/null 2>&1 || fail "curl is missing (scripts/install-deps.sh installs it)"

  # What the caller's shell sets must not change what is measured; SOCLE_BIN_DIR was read.
  local server_args=()
  read -r -a server_args <<<"${SOCLE_BENCH_SERVER_ARGS:-}"
  while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep '^SOCLE_' || true)

  local store_args=(--data-dir "$workdir/data")
  case "$store" in
    sqlite) ;;
    postgres)
      [[ -n "$pg_url" ]] || fail "the postgres store needs a database URL"
      export SOCLE_DATABASE_URL=$pg_url
      # The server's defaults (two loops per core reading records by id, 8 workers, a
      # connection for each): more workers than two cores can run queue requests behind each
      # other; with 32 workers and connections, W1's p99 reached 0.9 s against 5 ms with 8
      # (docs/performance.md).
      ;;
    *) fail "unknown store '$store' (sqlite or postgres)" ;;
  esac

  local out status
  run_cli() {
    status=0
    out=$("$client" "${store_args[@]}" "$@" 2>&1) || status=$?
    ((status == 0)) || fail "socle $* failed (status $status): $(tr '\n' ' ' <<<"$out")"
  }
  local superuser_email superuser_password
  create_project

  "$server" --http 127.0.0.1:0 "${store_args[@]}" --log-level warn "${server_args[@]}" \
    </dev/null >"$workdir/server.out" 2>"$workdir/server.log" &
  local pid=$!
  echo "$pid" >"$workdir/server.pid"
  local url=
  for _ in $(seq 1 300); do
    url=$(sed -n 's/^socle-server listening on //p' "$workdir/server.out" 2>/dev/null | head -n 1)
    [[ -n "$url" ]] && break
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f -- "$workdir/server.pid"
      fail "socle-server exited before listening: $(tail -n 1 "$workdir/server.log")"
    fi
    sleep 0.1
  done
  [[ -n "$url" ]] || fail "socle-server did not report that it listens within 30 s"
  api="$url/p/$kProject/api"

  # Authors: auth records that can sign in, in batches.
  local authors=() batch=() requests request answer ids first i body
  for ((first = 0; first < kAuthors; first += kAuthorBatch)); do
    requests=""
    for ((i = first; i < first + kAuthorBatch && i < kAuthors; i++)); do
      printf -v body '{"name":"Author %d","email":"author%d@bench.example.com",%s}' "$i" "$i" \
        "\"password\":\"$kPassword\",\"passwordConfirm\":\"$kPassword\""
      printf -v request '{"method":"POST","url":"/api/collections/authors/records","body":%s}' "$body"
      requests+="${requests:+,}$request"
    done
    answer=$(api_post /batch "{\"requests\":[$requests]}")
    ids=$(batch_ids "$answer" authors $((i - first)))
    mapfile -t -O "${#authors[@]}" authors <<<"$ids"
  done

  # Posts (public) and owned posts (readable by their author only), the same data: post i is
  # published when i is even, has views (i * 7919) % 10000 and author i % 100.
  local superuser_token
  sign_in superuser_token _superusers "$superuser_email" "$superuser_password" "the superuser"
  : >"$workdir/ids.txt"
  : >"$workdir/auth_ids.txt"
  local collection
  for collection in posts owned; do
    for ((first = 0; first < kPosts; first += kBatch)); do
      seed_posts_batch "$collection" "$first" $((first + kBatch < kPosts ? first + kBatch : kPosts))
      if [[ $collection == posts ]]; then
        printf '%s\n' "${batch[@]}" >>"$workdir/ids.txt"
      else
        # The first author's records: i % 100 == 0.
        for ((i = first; i < first + ${#batch[@]}; i++)); do
          if ((i % kAuthors == 0)); then
            echo "${batch[$((i - first))]}" >>"$workdir/auth_ids.txt"
          fi
        done
      fi
    done
  done

  # The first author signs in: W4's token (valid 7 days, PocketBase's default).
  local token
  sign_in token authors author0@bench.example.com "$kPassword" "the author"

  local base="/p/$kProject/api/collections"
  {
    env_line NAME "socle-$store"
    env_line BASE_URL "$url"
    env_line PID "$pid"
    env_line HEADERS ""
    env_line IDS_FILE "$workdir/ids.txt"
    env_line GET_PATH "$base/posts/records/{id}"
    env_line LIST_PATH "$base/posts/records?page=1&perPage=20&filter=(published=true)&sort=-views"
    env_line CREATE_PATH "$base/posts/records"
    env_line CREATE_BODY "$(printf '{"title":"Load","body":"Lorem ipsum dolor sit amet","views":7,"published":true,"author":"%s"}' \
                              "${authors[0]}")"
    env_line AUTH_HEADERS "Authorization: $token"
    env_line AUTH_IDS_FILE "$workdir/auth_ids.txt"
    env_line AUTH_GET_PATH "$base/owned/records/{id}"
    env_line FLOOR_PATH "/api/health"
    env_line VERSION "$("$server" --version | sed 's/^socle-server //')"
  } >"$workdir/bench.env"
  echo "socle target: socle-$store on $url, $(wc -l <"$workdir/ids.txt") posts," \
    "$(wc -l <"$workdir/auth_ids.txt") owned by the signed-in author"
}

[[ $# -ge 2 ]] || usage
case "$1" in
  start)
    [[ $# -eq 3 || $# -eq 4 ]] || usage
    # A start that fails half-way leaves no server behind.
    start_workdir=$2
    trap 'status=$?; if [[ $status -ne 0 ]]; then stop_server "$start_workdir"; fi' EXIT
    start "$2" "$3" "${4:-}"
    ;;
  stop)
    [[ $# -eq 2 ]] || usage
    stop_server "$2"
    ;;
  *) usage ;;
esac
