import contextlib
import os

import reflex as rx
from reflex.plugins.sitemap import SitemapPlugin

from vdi_taxi.bundle import LeanRadixThemesPlugin

PORT = int(os.environ.get("VDI_PORT", "3000"))
# Backend worker processes: one unless VDI_WORKERS says otherwise (more need REFLEX_REDIS_URL, which
# the app's settings check). Reflex would start 2 x CPUs + 1 as soon as Redis answers; granian reads this.
# VDI_WORKERS wins over a GRANIAN_WORKERS inherited from a parent process that loaded this config before.
if os.environ.get("VDI_WORKERS", "").strip():
    os.environ["GRANIAN_WORKERS"] = os.environ["VDI_WORKERS"].strip()
else:
    os.environ.setdefault("GRANIAN_WORKERS", "1")
# Several workers: granian, as Reflex starts it, stops the whole app when one worker dies (even by
# SIGKILL or the kernel's OOM killer), and Reflex passes it no option to do otherwise. Have it start
# a new worker instead, so the others keep serving their tabs and a dead lease holder's jobs move
# by the lease, not by a restart of everything (tests/e2e/test_workers_e2e.py kills one).
if os.environ["GRANIAN_WORKERS"].strip() not in ("", "0", "1"):
    with contextlib.suppress(ImportError):
        from granian.server import common as _granian

        _granian_init = _granian.AbstractServer.__init__

        def _respawning_init(self, *args, **kwargs):
            kwargs.setdefault("respawn_failed_workers", True)
            _granian_init(self, *args, **kwargs)

        _granian.AbstractServer.__init__ = _respawning_init
# One process without Redis: tabs' state lives in memory and a closed tab's state is freed
# this long after its last event (open tabs are kept alive by the board publisher, see
# state/board.py). With REFLEX_REDIS_URL the state moves to Redis with Reflex's default expiry.
REDIS = bool(os.environ.get("REFLEX_REDIS_URL"))
TAB_STATE_SECONDS = int(os.environ.get("VDI_TAB_STATE_SECONDS", "120"))

config = rx.Config(
    app_name="vdi_taxi",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[
        # Radix Themes without the colour scales, CSS and components no page uses (see the module).
        LeanRadixThemesPlugin(
            theme=rx.theme(appearance="dark", accent_color="indigo", gray_color="slate", radius="large")
        ),
    ],
    disable_plugins=[SitemapPlugin],
    # The build writes .br and .gz next to each asset; the server sends the one the browser accepts.
    frontend_compression_formats=["brotli", "gzip"],
    state_manager_mode="redis" if REDIS else "memory",
    **({} if REDIS else {"redis_token_expiration": TAB_STATE_SECONDS}),
    frontend_port=PORT,
    backend_port=PORT,
    # The browser reaches the event websocket here. Behind a reverse proxy set
    # VDI_PUBLIC_URL to the address people type (e.g. https://taxi.example.com).
    api_url=os.environ.get("VDI_PUBLIC_URL") or f"http://localhost:{PORT}",
)
