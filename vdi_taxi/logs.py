"""The app's own log: one line per record on stderr, at VDI_LOG_LEVEL.

Reflex prints its own messages itself; without a handler here Python drops every INFO record of
ours (its last-resort handler prints warnings only), so an operator never saw a login, a session
or a room change. Client tokens are redacted from every record first (vdi_taxi.log_privacy).
"""

from __future__ import annotations

import logging
import sys

from vdi_taxi import log_privacy

# The packages whose records this handler prints; libraries keep their own defaults.
OWN_LOGGERS = ("services", "state", "vdi_taxi")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_MARK = "_vdi_taxi_handler"


def configure(level: str) -> None:
    """Idempotent: the app module may be imported more than once in a process."""
    log_privacy.install()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    setattr(handler, _MARK, True)
    for name in OWN_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(level)
        # One handler of ours per logger; records still propagate (pytest's capture reads them at
        # the root), and a process that configured the root already prints them there.
        logger.handlers = [h for h in logger.handlers if not getattr(h, _MARK, False)]
        if not logging.getLogger().handlers:
            logger.addHandler(handler)
