#!/usr/bin/env bash
# Seeds a project for the records load scripts: the collections of records_collections.json,
# 100 authors and N posts (default 10000) created through the HTTP API in batches of 50, and
# writes the posts' ids to IDS_FILE (one per line) for get_record.lua.
#   tests/load/seed_records.sh http://127.0.0.1:18090 bench /tmp/ids.txt [N]
set -euo pipefail
url=$1 project=$2 ids_file=$3 count=${4:-10000}
api="$url/p/$project/api"
authors=()
for i in $(seq 1 100); do
  id=$(curl -sf -X POST "$api/collections/authors/records" -H 'Content-Type: application/json' \
         -d "{\"name\":\"Author $i\"}" | sed -E 's/.*"id":"([a-z0-9]+)".*/\1/')
  authors+=("$id")
done
: > "$ids_file"
for ((start = 0; start < count; start += 50)); do
  requests=""
  for ((i = start; i < start + 50 && i < count; i++)); do
    author=${authors[$((i % 100))]}
    published=$([ $((i % 2)) -eq 0 ] && echo true || echo false)
    requests+="${requests:+,}{\"method\":\"POST\",\"url\":\"/api/collections/posts/records\",\"body\":{\"title\":\"Post $i\",\"body\":\"Body of post $i\",\"views\":$(( (i * 7919) % 10000 )),\"published\":$published,\"author\":\"$author\"}}"
  done
  curl -sf -X POST "$api/batch" -H 'Content-Type: application/json' -d "{\"requests\":[$requests]}" |
    grep -o '"collectionName":"posts","id":"[a-z0-9]*"' | sed -E 's/.*"id":"([a-z0-9]+)"/\1/' >> "$ids_file"
done
echo "seeded $(wc -l < "$ids_file") posts"
