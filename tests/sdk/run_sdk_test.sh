#!/usr/bin/env bash
# Runs the PocketBase JS SDK tests (tests/sdk/*.test.mjs) against a real socle-server.
#
#   run_sdk_test.sh SOCLE SOCLE_SERVER NODE SDK_DIR sqlite|postgres
#
# Prepares a store of its own (a temporary data directory; for postgres, a throwaway database
# of the private test cluster whose URL is in the file $SOCLE_TEST_PG_URL_FILE), creates an
# organisation and a project with the `socle` CLI, imports SDK_DIR/fixtures/collections.json
# with `socle collection import`, creates a superuser with `socle superuser upsert`, starts
# socle-server on a free loopback port, runs `node --test` with
# SOCLE_URL=http://127.0.0.1:PORT/p/<project> and the superuser's credentials in
# SOCLE_SUPERUSER_EMAIL / SOCLE_SUPERUSER_PASSWORD, then stops the server and
# removes everything it created. Exits with node's status (1 on a failed setup).
set -euo pipefail

if [[ $# -ne 5 ]]; then
  echo "usage: $0 SOCLE SOCLE_SERVER NODE SDK_DIR sqlite|postgres" >&2
  exit 2
fi
socle=$1
server_bin=$2
node=$3
sdk_dir=$4
store=$5
project=sdk-test

fail() {
  echo "run_sdk_test: $*" >&2
  exit 1
}

command -v "$node" >/dev/null 2>&1 ||
  fail "Node.js ($node) not found: install the Debian packages nodejs and npm."
[[ -f "$sdk_dir/node_modules/pocketbase/package.json" ]] ||
  fail "the PocketBase JS SDK is not installed in $sdk_dir/node_modules:" \
    "run 'npm ci' in $sdk_dir (make test does it)."
[[ "$store" == sqlite || "$store" == postgres ]] ||
  fail "unknown store '$store' (sqlite or postgres)"

# What a developer's shell sets must not change what the test sees (as in tests/apps/cli).
pg_url_file=${SOCLE_TEST_PG_URL_FILE:-}
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep '^SOCLE_' || true)

work=$(mktemp -d "${TMPDIR:-/tmp}/socle-sdk.XXXXXX")
server_pid=
database=
cluster_url=

cleanup() {
  local status=$?
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [[ -n "$database" ]]; then
    psql "$cluster_url" -q -v ON_ERROR_STOP=1 \
      -c "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  if [[ $status -ne 0 && -s "$work/server.log" ]]; then
    echo "---- socle-server's log ----" >&2
    tail -n 80 "$work/server.log" >&2
  fi
  rm -rf -- "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

store_args=(--data-dir "$work/data")
if [[ "$store" == postgres ]]; then
  [[ -n "$pg_url_file" && -s "$pg_url_file" ]] ||
    fail "no PostgreSQL test cluster: SOCLE_TEST_PG_URL_FILE does not name its URL file" \
      "(run through ctest)."
  command -v psql >/dev/null 2>&1 || fail "psql not found: install postgresql-client-15."
  cluster_url=$(head -n 1 "$pg_url_file")
  # The cluster's URL names the postgres database: postgresql:///postgres?host=...&port=...
  [[ "$cluster_url" == postgresql:///postgres\?* ]] || fail "unexpected cluster URL: $cluster_url"
  database="socle_sdk_$$_${RANDOM}"
  psql "$cluster_url" -q -v ON_ERROR_STOP=1 \
    -c "CREATE DATABASE \"$database\" TEMPLATE template0 ENCODING 'UTF8'" >/dev/null ||
    fail "cannot create the test database"
  export SOCLE_DATABASE_URL="postgresql:///$database?${cluster_url#postgresql:///postgres\?}"
fi

run_socle() {
  local out
  if ! out=$("$socle" "${store_args[@]}" "$@" 2>&1); then
    fail "socle $* failed:"$'\n'"$out"
  fi
  echo "$out"
}
run_socle org create sdk --name "SDK tests" >/dev/null
run_socle project create "$project" --org sdk >/dev/null
run_socle collection import "$sdk_dir/fixtures/collections.json" --project "$project"
superuser_email=sdk-admin@example.com
superuser_password="sdk-$RANDOM$RANDOM-admin-pass"
run_socle superuser upsert "$superuser_email" "$superuser_password" >/dev/null

"$server_bin" --http 127.0.0.1:0 "${store_args[@]}" >"$work/server.out" 2>"$work/server.log" &
server_pid=$!
url=
for _ in $(seq 1 300); do
  line=$(grep -m 1 '^socle-server listening on http://' "$work/server.out" 2>/dev/null || true)
  if [[ -n "$line" ]]; then
    url=${line#socle-server listening on }
    break
  fi
  kill -0 "$server_pid" 2>/dev/null || fail "socle-server exited before listening"
  sleep 0.1
done
[[ -n "$url" ]] || fail "socle-server did not report that it listens within 30 s"
echo "run_sdk_test: socle-server on $url ($store), project $project"

# node --test runs each file in a process of its own; the SDK comes from SDK_DIR/node_modules.
cd "$sdk_dir"
status=0
SOCLE_URL="$url/p/$project" SOCLE_SUPERUSER_EMAIL="$superuser_email" \
  SOCLE_SUPERUSER_PASSWORD="$superuser_password" "$node" --test ./*.test.mjs || status=$?

# The data went where the store setting said, not to a default.
if [[ "$store" == postgres ]]; then
  [[ ! -e "$work/data/catalogue.db" ]] || fail "the postgres run wrote a SQLite catalogue"
else
  compgen -G "$work/data/projects/*.db" >/dev/null || fail "no SQLite project file was written"
fi

# A clean stop is part of the contract: SIGTERM, requests finished, exit 0.
kill -TERM "$server_pid"
for _ in $(seq 1 150); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$server_pid" 2>/dev/null; then
  echo "run_sdk_test: socle-server did not stop within 15 s of SIGTERM" >&2
  kill -KILL "$server_pid" 2>/dev/null || true
fi
server_status=0
wait "$server_pid" || server_status=$?
server_pid=
if [[ $server_status -ne 0 ]]; then
  echo "run_sdk_test: socle-server exited with status $server_status after SIGTERM" >&2
  [[ $status -ne 0 ]] || status=1
fi
exit "$status"
