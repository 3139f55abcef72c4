# Shared by the Socle target (target.sh) and tests/load/callgrind.sh, which set up the same
# project: finding the binaries, the project and its superuser made with the CLI, the project
# API's calls and the seeded posts. The sourcing script defines `root` (the repository),
# `fail <message>` (its own prefix on stderr, exit 1), and, before the API is called, `api`
# (the project API's base URL); callgrind.sh also sets `api_timeout` (seconds, default 60).
# shellcheck shell=bash disable=SC2154,SC2034 # root, fail, api, run_cli are the sourcing script's; it reads kBatch, kPassword, batch

kProject=bench
kBatch=50  # the project's default batch.maxRequests
kPassword=bench-author-password-7f3a
socle_lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# socle-server and socle from the Release build, or from SOCLE_BIN_DIR: a build directory
# (apps/<name>/<name>), its apps directory, or a directory holding both binaries. Prints an
# absolute path: callgrind.sh runs the binaries in a throwaway directory.
find_binary() {
  local name=$1 dir=${SOCLE_BIN_DIR:-$root/build/release}
  local candidate
  for candidate in "$dir/$name" "$dir/$name/$name" "$dir/apps/$name/$name"; do
    if [[ -f "$candidate" && -x "$candidate" ]]; then
      echo "$(cd "$(dirname -- "$candidate")" && pwd)/$(basename -- "$candidate")"
      return
    fi
  done
  fail "no $name binary under $dir: build it with" \
    "'cmake --preset release && cmake --build --preset release --target socle-server socle'" \
    "(or set SOCLE_BIN_DIR to a build directory, e.g. build/default)"
}

# The organisation, the project `bench` with the collections of collections.json and a
# superuser with a random password, made with the CLI (the sourcing script's `run_cli <args>`,
# which knows the store) before the server starts. Sets superuser_email and superuser_password.
create_project() {
  superuser_email=bench-root@example.com
  superuser_password="bench-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
  run_cli org create bench-org --name "Benchmark"
  run_cli project create "$kProject" --org bench-org
  run_cli collection import "$socle_lib_dir/collections.json" --project "$kProject"
  run_cli superuser upsert "$superuser_email" "$superuser_password"
}

# POSTs a JSON body to the project's API and prints the answer; a non-2xx answer fails with
# the server's message. Extra arguments are curl's (headers).
api_post() {
  local path=$1 body=$2
  shift 2
  local answer status
  answer=$(curl -sS --max-time "${api_timeout:-60}" -X POST "$api$path" -H 'Content-Type: application/json' "$@" \
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

# Signs in to an auth collection and sets the variable named <var> to the token (a variable, not
# printed: a failure here then stops the sourcing script).
#   sign_in <var> <collection> <identity> <password> <who, for the message>
sign_in() {
  local answer
  answer=$(api_post "/collections/$2/auth-with-password" "{\"identity\":\"$3\",\"password\":\"$4\"}")
  printf -v "$1" '%s' "$(token_of "$answer")"
  [[ -n "${!1}" ]] || fail "$5's sign-in answered no token"
}

# Creates posts <first> to <end> - 1 of <collection> (posts or owned) in one batch request and
# sets the array `batch` to their ids, in order. Post i is published when i is even, has views
# (i * 7919) % 10000 and author authors[i % ${#authors[@]}] (the caller's array `authors`).
# owned's create rule admits superusers only: its batches carry superuser_token.
seed_posts_batch() {
  local collection=$1 first=$2 end=$3 requests="" request body published i answer ids auth=()
  for ((i = first; i < end; i++)); do
    published=false
    ((i % 2 != 0)) || published=true
    printf -v body '{"title":"Post %d","body":"Body of post %d","views":%d,"published":%s,"author":"%s"}' \
      "$i" "$i" $(((i * 7919) % 10000)) "$published" "${authors[$((i % ${#authors[@]}))]}"
    printf -v request '{"method":"POST","url":"/api/collections/%s/records","body":%s}' \
      "$collection" "$body"
    requests+="${requests:+,}$request"
  done
  [[ $collection == posts ]] || auth=(-H "Authorization: $superuser_token")
  # Command substitutions, not process substitutions: a failure there stops the script.
  answer=$(api_post /batch "{\"requests\":[$requests]}" "${auth[@]}")
  ids=$(batch_ids "$answer" "$collection" $((end - first)))
  mapfile -t batch <<<"$ids"
}
