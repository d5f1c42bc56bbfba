"""Giving freed heap memory back to the system.

The app runs on glibc malloc (``vdi_taxi.manage serve``), which keeps pages it has freed for
reuse; ``malloc_trim`` hands them back. Elsewhere (other libc, PyPy) this is a no-op.
"""

from __future__ import annotations

import contextlib
import ctypes


def trim() -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
