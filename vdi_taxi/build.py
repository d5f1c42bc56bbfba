"""The build id: a short hash of everything that shapes what the browser runs.

Static files are linked as ``/clock.js?v=<build id>`` and the service worker is registered as
``/sw.js?v=<build id>``, which names its cache after the build and stores only URLs of that
build. A deploy that changes any of these sources changes the id, so an installed app picks
up the new files on its next start and the new worker deletes the old build's cache.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# What the frontend is built from: static files, pages, components, state, the Reflex set-up.
SOURCES = ("assets", "components", "state", "vdi_taxi", "rxconfig.py", "requirements.txt")
# Written during a build or by Python itself, so never part of the id (it must be the same
# when the app is compiled and when it serves).
GENERATED = {"__pycache__", "external"}


def _files(root: Path) -> list[Path]:
    found = []
    for name in SOURCES:
        path = root / name
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found += [
                p
                for p in path.rglob("*")
                if p.is_file()
                and not any(part in GENERATED or part.startswith(".") for part in p.relative_to(root).parts)
            ]
    return sorted(found)


def compute_build_id(root: Path = ROOT) -> str:
    digest = hashlib.sha256()
    for path in _files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


@lru_cache(maxsize=1)
def build_id() -> str:
    return compute_build_id()


def versioned(path: str) -> str:
    """A static file's URL for this build: a new build is a new URL, never a stale cached copy."""
    return f"{path}?v={build_id()}"
