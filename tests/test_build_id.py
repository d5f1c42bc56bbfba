"""Static files and the service worker carry the build id, so a deploy reaches installed apps."""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

from vdi_taxi import build

ROOT = Path(__file__).resolve().parents[1]


def _tree(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    shutil.copytree(ROOT / "assets", root / "assets", ignore=shutil.ignore_patterns("external"))
    (root / "components").mkdir()
    (root / "components" / "x.py").write_text("A = 1\n")
    return root


def test_the_build_id_changes_with_any_shipped_file_and_only_with_them(tmp_path):
    root = _tree(tmp_path)
    first = build.compute_build_id(root)
    assert len(first) == 12 and build.compute_build_id(root) == first
    # What Python or the build writes itself is no part of the id.
    (root / "components" / "__pycache__").mkdir()
    (root / "components" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    (root / "assets" / "external").mkdir()
    (root / "assets" / "external" / "lib.js").write_text("x")
    assert build.compute_build_id(root) == first
    (root / "assets" / "clock.js").write_text((root / "assets" / "clock.js").read_text() + "// v2\n")
    second = build.compute_build_id(root)
    assert second != first
    (root / "components" / "x.py").write_text("A = 2\n")
    assert build.compute_build_id(root) not in {first, second}


def test_the_page_head_links_this_builds_static_files():
    app = importlib.import_module("vdi_taxi.vdi_taxi").app
    rendered = repr([c.render() for c in app.head_components])
    for path in ("/clock.js", "/presence.js", "/pwa.js", "/app.css"):
        assert f"{path}?v={build.build_id()}" in rendered


def test_the_worker_names_its_cache_and_its_urls_after_the_build_it_was_registered_with():
    sw = (ROOT / "assets" / "sw.js").read_text()
    pwa = (ROOT / "assets" / "pwa.js").read_text()
    assert 'searchParams.get("v")' in pwa and '"/sw.js" + (build ? "?v="' in pwa
    assert 'const CACHE = "vdi-taxi-" + BUILD;' in sw
    assert "keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))" in sw
    assert 'path + "?v=" + encodeURIComponent(BUILD)' in sw
