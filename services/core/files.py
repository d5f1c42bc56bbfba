"""Owner-only files and directories for what the app keeps under ``VDI_DATA_DIR``.

The data directory holds the database, the secret key and session dumps, so nothing in it
may be readable by other accounts on the host: directories are 0700, files 0600. Existing
paths that we own are tightened too, so an installation made before this rule heals itself.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

DIR_MODE = 0o700
FILE_MODE = 0o600
# Where the app serves a dump zip; the file name is the link's secret. The app's routes and the
# Telegram messages both take the path from here, so it is written once.
DUMP_DOWNLOAD_PATH = "/dumps/{name}"


def dump_download_path(name: str) -> str:
    return DUMP_DOWNLOAD_PATH.format(name=name)


def _tighten(path: Path) -> None:
    """Drop group and other permission bits from a path this process owns."""
    st = path.stat()
    mode = stat.S_IMODE(st.st_mode)
    if st.st_uid == os.getuid() and mode & 0o077:
        path.chmod(mode & 0o700)


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) as 0700, or tighten it when it exists."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    _tighten(path)
    return path


def private_file(path: Path) -> Path:
    """Make sure ``path`` exists as a 0600 file (an empty one when it is new)."""
    os.close(os.open(path, os.O_RDONLY | os.O_CREAT, FILE_MODE))
    _tighten(path)
    return path


def create_private(path: Path) -> BinaryIO:
    """Open a new file for writing, 0600 from the first byte; fails if the path exists."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE), "wb")
