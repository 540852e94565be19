#!/usr/bin/env bash
# Starts the local PostgreSQL 15 cluster and makes sure a superuser role "mimic"
# (password "mimic") exists, then prints the admin URL as the only stdout line.
# Safe to run repeatedly. Needs root (it acts as the postgres OS user).
set -euo pipefail

VERSION=15
CLUSTER=main
URL='postgres://mimic:mimic@127.0.0.1:5432/postgres'

log() { echo "pg-setup: $*" >&2; }

if [[ $(id -u) -ne 0 ]]; then
  log "must run as root"
  exit 1
fi

as_postgres() { runuser -u postgres -- "$@"; }

# Test runners may start several copies at once; let one finish before the next looks.
exec 9>/tmp/mimic-pg-setup.lock
flock -w 120 9 || { log "timed out waiting for /tmp/mimic-pg-setup.lock"; exit 1; }

if ! pg_ctlcluster "$VERSION" "$CLUSTER" status >/dev/null 2>&1; then
  log "starting cluster $VERSION/$CLUSTER"
  # 9>&-: the server must not inherit (and so keep holding) the setup lock.
  pg_ctlcluster "$VERSION" "$CLUSTER" start >&2 9>&-
fi

ready=0
for _ in $(seq 1 60); do
  if pg_isready -q -h 127.0.0.1 -p 5432; then
    ready=1
    break
  fi
  sleep 0.5
done
if [[ $ready -ne 1 ]]; then
  log "PostgreSQL did not accept connections within 30 s"
  exit 1
fi

# Run from / so psql does not complain about an unreadable working directory.
cd /
exists=$(as_postgres psql -X -v ON_ERROR_STOP=1 -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'mimic'")
if [[ "$exists" != "1" ]]; then
  log "creating role mimic"
  as_postgres psql -X -q -v ON_ERROR_STOP=1 -c "CREATE ROLE mimic LOGIN SUPERUSER PASSWORD 'mimic'" >&2
fi

echo "$URL"
