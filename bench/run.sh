#!/usr/bin/env bash
# Measurements with their commands; results also land in bench-results/*.json.
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/common.sh
apt_install chromium
install_app tests/requirements.txt
python -m bench.startup
python -m bench.board_latency --tabs 2 20 --rounds 5
python -m bench.board_scale
# Needs VDI_TEST_POSTGRES_URL and VDI_TEST_REDIS_URL (as deploy/test.sh sets them); skipped without.
if [[ -n "${VDI_TEST_POSTGRES_URL:-}" && -n "${VDI_TEST_REDIS_URL:-}" ]]; then python -m bench.scale_out; fi
python -m bench.rooms
python -m bench.hosts
python -m bench.bookings
python -m bench.dumps
python -m bench.usage
python -m bench.page_weight

