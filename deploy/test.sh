#!/usr/bin/env bash
# Install test dependencies (Chromium from apt, Python packages, bun) and run every test.
# Services the tests talk to (PostgreSQL) are started here if they are not running.
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/common.sh

# Chromium (with an emoji font, as users' browsers have, for the screenshots) for the browser
# tests; a Docker engine and debootstrap for the room tests; sshd and the ssh client for a room
# host reached over ssh://.
apt_install chromium fonts-noto-color-emoji docker.io debootstrap iproute2 openssh-server openssh-client
install_app tests/requirements.txt

if command -v pg_ctlcluster >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  log "starting PostgreSQL"
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
fi
if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  export VDI_TEST_POSTGRES_URL="${VDI_TEST_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres}"
else
  log "PostgreSQL is not available: the PostgreSQL variants of the tests will be skipped"
fi
# Redis backs the test of several app workers.
if command -v redis-server >/dev/null && ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  log "starting Redis"
  redis-server --bind 127.0.0.1 --port 6379 --save '' --appendonly no --daemonize yes >/dev/null || true
fi
if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  export VDI_TEST_REDIS_URL="${VDI_TEST_REDIS_URL:-redis://127.0.0.1:6379}"
else
  log "Redis is not available: the several-workers test will be skipped"
fi

log "ruff"
ruff check .
ruff format --check .
log "import contracts"
lint-imports --no-cache
log "pytest"
# A private base directory: a concurrent pytest (another checkout) prunes old pytest-of-<user>
# directories, and with them the sockets of the dockerd this run started.
exec python -m pytest tests --basetemp="$(mktemp -d /tmp/vdi-taxi-pytest.XXXXXX)" "$@"
