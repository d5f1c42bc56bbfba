"""Client tokens never reach the app's log.

A tab's client token (a UUID) names its server-side state; Reflex and the libraries under it
print it in some messages ("Attempting to send delta to disconnected client '<uuid>'"). Every
log record is made through one factory, whatever logger or handler it later goes to, so the
record factory redacts UUID-shaped text from the finished message before any handler sees it.
"""

from __future__ import annotations

import logging
import re

UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
REDACTED = "<client>"
_FORMATTER = logging.Formatter()


def redact(text: str) -> str:
    return UUID_RE.sub(REDACTED, text)


def install() -> None:
    """Idempotent: the app module may be imported more than once in a process."""
    current = logging.getLogRecordFactory()
    if getattr(current, "_vdi_redacts", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = current(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the logging module's to report
            return record
        if UUID_RE.search(message):
            record.msg, record.args = redact(message), None
        if record.exc_info and record.exc_text is None:
            # Formatters print exc_text when it is set: a traceback's messages are redacted too.
            record.exc_text = redact(_FORMATTER.formatException(record.exc_info))
        return record

    factory._vdi_redacts = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
