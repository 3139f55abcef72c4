#!/usr/bin/env bash
# Signs a superuser in to the platform API and prints the platform token, for the load scripts
# that call /api/v1 (which answers signed-in callers only). The superuser comes from
# `socle superuser upsert EMAIL PASSWORD` on the server's store, or from its setup link.
#   TOKEN=$(tests/load/platform_token.sh http://127.0.0.1:18090 root@example.com PASSWORD)
# The password may instead come on stdin as -, to keep it out of the process list.
set -euo pipefail
if [ $# -ne 3 ]; then
  echo "usage: $0 URL EMAIL PASSWORD|-" >&2
  exit 2
fi
url=$1 email=$2 password=$3
if [ "$password" = "-" ]; then IFS= read -r password; fi
# JSON-escape the two strings (backslash and quote; control characters are not credentials).
escape() { local s=${1//\\/\\\\}; printf '%s' "${s//\"/\\\"}"; }
body=$(printf '{"email":"%s","password":"%s"}' "$(escape "$email")" "$(escape "$password")")
answer=$(curl -sS --max-time 20 -X POST "$url/api/v1/auth/superusers/login" \
           -H 'Content-Type: application/json' --data-binary @- -w '\n%{http_code}' <<<"$body")
status=${answer##*$'\n'}
answer=${answer%$'\n'*}
if [ "$status" != 200 ]; then
  echo "$0: sign-in refused ($status): $answer" >&2
  exit 1
fi
token=$(sed -nE 's/.*"token":"([^"]+)".*/\1/p' <<<"$answer")
if [ -z "$token" ]; then
  echo "$0: no token in the answer: $answer" >&2
  exit 1
fi
printf '%s\n' "$token"
