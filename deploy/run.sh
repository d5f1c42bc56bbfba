#!/usr/bin/env bash
# Install everything and run VDI Taxi on its embedded defaults:
# SQLite under ./data, demo slots and accounts, demo rooms (no Docker needed).
# Open http://localhost:${VDI_PORT:-3000} when it says "App running".
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/common.sh

install_app requirements.txt
python -m vdi_taxi.manage migrate
if [ "${VDI_ENV:-development}" != production ] && [ "${VDI_DEMO_DATA:-1}" != 0 ]; then
  python -m vdi_taxi.manage seed-demo
fi
log "starting on http://localhost:${VDI_PORT:-3000}"
exec python -m vdi_taxi.manage serve
