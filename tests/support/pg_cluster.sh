#!/usr/bin/env bash
# A private, throwaway PostgreSQL cluster for the test suites.
#
#   pg_cluster.sh start <state-dir>   initdb + start; writes the connection URL to <state-dir>/url
#   pg_cluster.sh stop  <state-dir>   stops the cluster and removes everything it created
#
# The cluster listens on a Unix socket in a directory of its own only (no TCP), so it can never
# collide with, or be reached from, anything else on the machine. Durability is switched off
# (fsync, full_page_writes): the data is thrown away after the run.
# Run as root, the server runs as the postgres user (PostgreSQL refuses to run as root).
set -euo pipefail

usage() { echo "usage: $0 start|stop <state-dir>" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
action=$1
state=$2

find_bindir() {
  if command -v pg_config >/dev/null 2>&1; then
    local dir
    dir=$(pg_config --bindir 2>/dev/null || true)
    if [[ -x "$dir/initdb" ]]; then echo "$dir"; return; fi
  fi
  local candidate
  for candidate in /usr/lib/postgresql/15/bin $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -Vr); do
    if [[ -x "$candidate/initdb" ]]; then echo "$candidate"; return; fi
  done
  echo "pg_cluster: no PostgreSQL server binaries (initdb) found; install postgresql-15" >&2
  exit 1
}

# Runs a server binary as the cluster's owner.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

stop_cluster() {
  [[ -f "$state/root" ]] || return 0
  local root
  root=$(cat "$state/root")
  if [[ -n "$root" && -d "$root" ]]; then
    if [[ -f "$root/data/postmaster.pid" ]]; then
      # immediate: nothing here is worth a clean shutdown checkpoint
      as_owner "$(find_bindir)/pg_ctl" -D "$root/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    fi
    rm -rf -- "$root"
  fi
  rm -f -- "$state/root" "$state/url" "$state/server.log"
}

start_cluster() {
  mkdir -p "$state"
  stop_cluster  # a cluster left behind by an interrupted run
  local bindir root port
  bindir=$(find_bindir)
  # As root the postgres user must be able to reach the directory, which a private TMPDIR
  # (under /root, say) would forbid; and a Unix socket path must stay under ~100 bytes.
  local parent=${TMPDIR:-/tmp}
  if [[ $(id -u) -eq 0 || ${#parent} -gt 60 ]]; then parent=/tmp; fi
  root=$(mktemp -d "$parent/socle-pg.XXXXXX")
  echo "$root" >"$state/root"
  mkdir -p "$root/data" "$root/sock"
  chmod 700 "$root/data"
  if [[ $(id -u) -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || { echo "pg_cluster: running as root needs a postgres user" >&2; exit 1; }
    chown -R postgres: "$root"
    chmod 755 "$root"
  fi

  # The port only names the socket file (.s.PGSQL.<port>) in our private socket directory,
  # so any free number works; pick one at random and make sure no socket of that name exists.
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 40000))
    [[ -e "$root/sock/.s.PGSQL.$port" ]] || break
  done

  as_owner "$bindir/initdb" -D "$root/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
    --no-sync >"$root/initdb.log" 2>&1 || { cat "$root/initdb.log" >&2; exit 1; }

  cat >>"$root/data/postgresql.conf" <<EOF
# --- socle test cluster
listen_addresses = ''
unix_socket_directories = '$root/sock'
port = $port
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 32MB
dynamic_shared_memory_type = mmap
log_min_messages = warning
log_min_error_statement = panic
EOF

  if ! as_owner "$bindir/pg_ctl" -D "$root/data" -l "$root/server.log" -w -t 60 start >/dev/null; then
    cat "$root/server.log" >&2 || true
    exit 1
  fi
  ln -sf "$root/server.log" "$state/server.log"
  echo "postgresql:///postgres?host=$root/sock&port=$port&user=postgres" >"$state/url"
  echo "pg_cluster: started on $(cat "$state/url")"
}

case "$action" in
  start) start_cluster ;;
  stop) stop_cluster; echo "pg_cluster: stopped" ;;
  *) usage ;;
esac
