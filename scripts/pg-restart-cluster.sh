#!/usr/bin/env bash
# A PostgreSQL 15 cluster of its own ("mimicrestart", port 5441) for the test that restarts
# PostgreSQL under load: the shared cluster 15/main stays up for every other test.
#
#   pg-restart-cluster.sh [setup]   create the cluster if missing, start it, make sure the
#                                   superuser role "mimic" (password "mimic") exists, print its URL
#   pg-restart-cluster.sh stop      stop it (fast shutdown: every client connection is cut)
#   pg-restart-cluster.sh start     start it and wait until it accepts connections
#
# Safe to run repeatedly, and it repairs a cluster left unusable by an earlier run (dropped and
# created again). Needs root (it acts as the postgres OS user), as scripts/pg-setup.sh does.
set -euo pipefail

VERSION=15
CLUSTER=mimicrestart
PORT=5441
URL="postgres://mimic:mimic@127.0.0.1:$PORT/postgres"

log() { echo "pg-restart-cluster: $*" >&2; }

if [[ $(id -u) -ne 0 ]]; then
  log "must run as root"
  exit 1
fi

as_postgres() { runuser -u postgres -- "$@"; }

wait_ready() {
  for _ in $(seq 1 120); do
    if pg_isready -q -h 127.0.0.1 -p "$PORT"; then return 0; fi
    sleep 0.25
  done
  log "cluster $VERSION/$CLUSTER did not accept connections within 30 s"
  return 1
}

exists() { pg_lsclusters -h 2>/dev/null | awk -v v="$VERSION" -v c="$CLUSTER" '$1 == v && $2 == c { found = 1 } END { exit !found }'; }
running() { pg_ctlcluster "$VERSION" "$CLUSTER" status >/dev/null 2>&1; }

# 9>&-: the server must not inherit (and so keep holding) the lock below.
start() { running || pg_ctlcluster "$VERSION" "$CLUSTER" start >&2 9>&-; }

create() {
  log "creating cluster $VERSION/$CLUSTER on port $PORT"
  pg_createcluster "$VERSION" "$CLUSTER" --port "$PORT" --start-conf manual >&2 9>&-
}

# One caller at a time (tests may run several copies at once).
exec 9>/tmp/mimic-pg-restart-cluster.lock
flock -w 120 9 || { log "timed out waiting for /tmp/mimic-pg-restart-cluster.lock"; exit 1; }
# Run from / so psql does not complain about an unreadable working directory.
cd /

case "${1:-setup}" in
  setup)
    exists || create
    if ! start; then
      log "cluster $VERSION/$CLUSTER does not start; dropping and creating it again"
      pg_dropcluster --stop "$VERSION" "$CLUSTER" >&2 9>&- || true
      create
      start
    fi
    wait_ready
    role=$(as_postgres psql -X -p "$PORT" -v ON_ERROR_STOP=1 -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'mimic'")
    if [[ "$role" != "1" ]]; then
      log "creating role mimic"
      as_postgres psql -X -q -p "$PORT" -v ON_ERROR_STOP=1 -c "CREATE ROLE mimic LOGIN SUPERUSER PASSWORD 'mimic'" >&2
    fi
    echo "$URL"
    ;;
  stop)
    if running; then pg_ctlcluster "$VERSION" "$CLUSTER" stop -m fast >&2 9>&-; fi
    ;;
  start)
    start
    wait_ready
    ;;
  *)
    log "usage: $0 [setup|stop|start]"
    exit 2
    ;;
esac
