"""Reading files a room wrote, without letting the room point us at anything else.

A room runs arbitrary web pages and can plant symlinks, FIFOs or hard links in its
mounted directories. Every path component is opened with O_NOFOLLOW relative to the
previous one, only regular files with a single link are read, and they are copied
into an app-owned staging directory at once, so swapping a file for a link after the
check gains nothing.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK


def _safe_component(name: str) -> bool:
    return bool(name) and name not in {".", ".."} and "/" not in name and "\0" not in name


def open_dir(base: Path, *parts: str) -> int:
    """A descriptor for base/parts..., refusing symlinks in parts (base itself is app-side)."""
    fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in parts:
            if not _safe_component(part):
                raise OSError(f"unsafe path component {part!r}")
            child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def copy_regular(dir_fd: int, name: str, dest: Path, min_mtime: float | None = None) -> bool:
    """Copy dir/name to dest if it is a regular, singly linked file (newer than min_mtime)."""
    if not _safe_component(name):
        return False
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
    except OSError:  # a symlink (ELOOP), a vanished file, no permission
        return False
    with os.fdopen(fd, "rb") as src:
        st = os.fstat(src.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1:
            return False
        if min_mtime is not None and st.st_mtime < min_mtime:
            return False
        with open(os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            while chunk := src.read(1 << 20):
                out.write(chunk)
    return True


def list_names(dir_fd: int) -> list[str]:
    return sorted(n for n in os.listdir(dir_fd) if _safe_component(n))


def archive_name(name: str) -> str:
    """A name safe to put inside a zip: no separators, no control characters, no leading dots."""
    cleaned = re.sub(r"[\\/\x00-\x1f\x7f]", "_", name).lstrip(". ") or "file"
    return cleaned[:200]
