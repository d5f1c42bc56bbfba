"""The shape of the code: imports at the top of each module, never hidden in a function.

The direction of imports itself is checked by import-linter (contracts in pyproject.toml,
run by deploy/test.sh). An import inside a function is how a cycle used to be hidden,
so each one that remains is listed here with the reason it is there.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("services", "state", "components", "vdi_taxi")

# (module file, imported module) -> why the import sits inside a function.
# Heavy libraries the served app needs only on some paths: loading them at start-up costs every
# app process memory for its whole life (README Benchmarks, "app memory").
_ONLY_WHEN_MIGRATING = "Alembic is needed only by migrate (CLI, start-up of a fresh database), not by a serving worker"
_ONLY_WITH_TELEGRAM = "python-telegram-bot is loaded only once Telegram is configured and the bot runs"
ALLOWED_LOCAL_IMPORTS: dict[tuple[str, str], str] = {
    ("services/core/db.py", "alembic"): _ONLY_WHEN_MIGRATING,
    ("services/core/db.py", "alembic.config"): _ONLY_WHEN_MIGRATING,
    ("services/telegram/delivery.py", "telegram"): _ONLY_WITH_TELEGRAM,
    ("services/telegram/delivery.py", "telegram.error"): _ONLY_WITH_TELEGRAM,
    ("services/telegram/worker.py", "telegram"): _ONLY_WITH_TELEGRAM,
    ("services/telegram/worker.py", "telegram.warnings"): _ONLY_WITH_TELEGRAM,
}


def _local_imports() -> set[tuple[str, str]]:
    found = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for func in ast.walk(tree):
                if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                for node in ast.walk(func):
                    if isinstance(node, ast.Import):
                        names = [alias.name for alias in node.names]
                    elif isinstance(node, ast.ImportFrom):
                        names = [node.module or ""]
                    else:
                        continue
                    for name in names:
                        found.add((str(path.relative_to(ROOT)), name))
    return found


def test_no_import_hides_inside_a_function_unless_listed_with_its_reason():
    found = _local_imports()
    unexplained = sorted(found - ALLOWED_LOCAL_IMPORTS.keys())
    assert not unexplained, (
        f"imports inside functions (move them to the top, or list them with a reason): {unexplained}"
    )
    stale = sorted(ALLOWED_LOCAL_IMPORTS.keys() - found)
    assert not stale, f"listed local imports that no longer exist: {stale}"
