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
# with a pool and a worker pool sized for the driver's 32 connections.
# SOCLE_BENCH_SERVER_ARGS adds flags to socle-server's command line (e.g. to try a setting).
# stop: stops the server (SIGTERM, then SIGKILL after 20 s) and leaves no process behind.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../../.." && pwd)

kProject=bench
kAuthors=100
kPosts=10000
kBatch=50        # the project's default batch.maxRequests
kAuthorBatch=20  # each author's password is hashed (Argon2id): small batches stay well
                 # within the batch timeout (3 s) on a loaded machine
kPassword=bench-author-password-7f3a
api=  # the project API's base URL, once the server listens

fail() {
  echo "socle target: $*" >&2
  exit 1
}

usage() {
  echo "usage: $0 start <workdir> sqlite|postgres [<pg-url>] | stop <workdir>" >&2
  exit 2
}

# socle-server and socle from the Release build, or from SOCLE_BIN_DIR: a build directory
# (apps/<name>/<name>), its apps directory, or a directory holding both binaries.
find_binary() {
  local name=$1 dir=${SOCLE_BIN_DIR:-$root/build/release}
  local candidate
  for candidate in "$dir/$name" "$dir/$name/$name" "$dir/apps/$name/$name"; do
    if [[ -f "$candidate" && -x "$candidate" ]]; then
      echo "$candidate"
      return
    fi
  done
  fail "no $name binary under $dir: build it with" \
    "'cmake --preset release && cmake --build --preset release --target socle-server socle'" \
    "(or set SOCLE_BIN_DIR)"
}

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

# POSTs a JSON body to the project's API and prints the answer; a non-2xx answer fails the
# start with the server's message. Extra arguments are curl's (headers).
api_post() {
  local path=$1 body=$2
  shift 2
  local answer status
  answer=$(curl -sS --max-time 60 -X POST "$api$path" -H 'Content-Type: application/json' "$@" \
             --data-binary @- -w '\n%{http_code}' <<<"$body") ||
    fail "POST $path: the server did not answer"
  status=${answer##*$'\n'}
  answer=${answer%$'\n'*}
  [[ "$status" == 2?? ]] || fail "POST $path answered $status: ${answer:0:300}"
  printf '%s\n' "$answer"
}

# The ids of a batch answer's records of one collection, in the answer's order (the requests'),
# checked against the number expected.
batch_ids() {
  local answer=$1 collection=$2 expected=$3 ids
  ids=$(grep -o "\"collectionName\":\"$collection\",\"id\":\"[a-z0-9]*\"" <<<"$answer" |
          sed -E 's/.*"id":"([a-z0-9]+)"/\1/') || true
  [[ $(grep -c . <<<"$ids") -eq $expected ]] ||
    fail "a batch of $expected $collection answered: ${answer:0:300}"
  printf '%s\n' "$ids"
}

token_of() {
  sed -nE 's/^\{"token":"([^"]+)".*/\1/p' <<<"$1"
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
      # One connection and one worker per client connection of the driver (32): no request
      # waits for a connection while another is idle.
      server_args=(--database-pool-size 32 --http-workers 32 "${server_args[@]}")
      ;;
    *) fail "unknown store '$store' (sqlite or postgres)" ;;
  esac

  local out status
  run_cli() {
    status=0
    out=$("$client" "${store_args[@]}" "$@" 2>&1) || status=$?
    ((status == 0)) || fail "socle $* failed (status $status): $(tr '\n' ' ' <<<"$out")"
  }
  run_cli org create bench-org --name "Benchmark"
  run_cli project create "$kProject" --org bench-org
  run_cli collection import "$here/collections.json" --project "$kProject"
  local superuser_email=bench-root@example.com superuser_password
  superuser_password="bench-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
  run_cli superuser upsert "$superuser_email" "$superuser_password"

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
  local authors=() owned=() requests request answer ids first i body
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
  answer=$(api_post /collections/_superusers/auth-with-password \
             "{\"identity\":\"$superuser_email\",\"password\":\"$superuser_password\"}")
  superuser_token=$(token_of "$answer")
  [[ -n "$superuser_token" ]] || fail "the superuser's sign-in answered no token"
  : >"$workdir/ids.txt"
  : >"$workdir/auth_ids.txt"
  local collection published
  for collection in posts owned; do
    for ((first = 0; first < kPosts; first += kBatch)); do
      requests=""
      for ((i = first; i < first + kBatch && i < kPosts; i++)); do
        published=false
        ((i % 2 != 0)) || published=true
        printf -v body '{"title":"Post %d","body":"Body of post %d","views":%d,"published":%s,%s}' \
          "$i" "$i" $(((i * 7919) % 10000)) "$published" "\"author\":\"${authors[$((i % kAuthors))]}\""
        printf -v request '{"method":"POST","url":"/api/collections/%s/records","body":%s}' \
          "$collection" "$body"
        requests+="${requests:+,}$request"
      done
      if [[ $collection == posts ]]; then
        answer=$(api_post /batch "{\"requests\":[$requests]}")
        ids=$(batch_ids "$answer" posts $((i - first)))
        printf '%s\n' "$ids" >>"$workdir/ids.txt"
      else
        # owned's create rule admits superusers only.
        answer=$(api_post /batch "{\"requests\":[$requests]}" -H "Authorization: $superuser_token")
        ids=$(batch_ids "$answer" owned $((i - first)))
        # The first author's records: i % 100 == 0.
        mapfile -t owned <<<"$ids"
        for ((i = first; i < first + ${#owned[@]}; i++)); do
          if ((i % kAuthors == 0)); then
            echo "${owned[$((i - first))]}" >>"$workdir/auth_ids.txt"
          fi
        done
      fi
    done
  done

  # The first author signs in: W4's token (valid 7 days, PocketBase's default).
  answer=$(api_post /collections/authors/auth-with-password \
             "{\"identity\":\"author0@bench.example.com\",\"password\":\"$kPassword\"}")
  local token
  token=$(token_of "$answer")
  [[ -n "$token" ]] || fail "the author's sign-in answered no token"

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
