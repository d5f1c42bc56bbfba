"""Paths are spelled once, in vdi_taxi/routes.py: links, redirects and HTTP routes all use it."""

from __future__ import annotations

import ast
from pathlib import Path

from vdi_taxi import routes

ROOT = Path(__file__).resolve().parent.parent
UI_CODE = ("state", "components", "vdi_taxi")


def _route_prefixes() -> set[str]:
    """The fixed start of every path routes.py defines, e.g. '/session/' for '/session/[slot]'."""
    prefixes = set()
    for name, value in vars(routes).items():
        if name.isupper() and isinstance(value, str) and value.startswith("/") and value != "/":
            prefixes.add(value.split("[", 1)[0].split("{", 1)[0])
    return prefixes


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _is_route(text: str, prefixes: set[str]) -> bool:
    for p in prefixes:
        if p.endswith("/") and text.startswith(p):
            return True
        if text == p or text.startswith((p + "/", p + "?")):
            return True
    return False


def _root_path_uses(tree: ast.AST) -> list[ast.AST]:
    """'/' passed as a link target or a redirect: the dashboard, spelled by hand."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        args = [kw.value for kw in node.keywords if kw.arg == "href"]
        name = getattr(node.func, "attr", getattr(node.func, "id", ""))
        if name == "redirect" and node.args:
            args.append(node.args[0])
        found += [a for a in args if isinstance(a, ast.Constant) and a.value == "/"]
    return found


def test_no_route_is_spelled_outside_routes_py():
    prefixes = _route_prefixes()
    assert {"/session/", "/session-end/", "/login", "/admin", "/calendar"} <= prefixes
    offenders = []
    for folder in UI_CODE:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == ROOT / "vdi_taxi" / "routes.py":
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            skip = _docstrings(tree)
            for node in ast.walk(tree):
                literal = isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
                if literal and _is_route(node.value, prefixes):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}")
            offenders += [f"{path.relative_to(ROOT)}:{n.lineno} '/'" for n in _root_path_uses(tree)]
    assert offenders == []


def test_the_path_builders_give_the_paths_the_pages_are_registered_under():
    assert routes.session_page("ppx-1") == "/session/ppx-1"
    assert routes.session_page("ppx-1", "7") == "/session/ppx-1?template=7"
    assert routes.session_end_page(42) == "/session-end/42"
    assert routes.is_session_end_page(routes.session_end_page(42))
    assert not routes.is_session_end_page(routes.session_page("ppx-1"))
    assert routes.calendar_feed("abc") == "/calendar/feed/abc.ics"


def test_the_route_arguments_are_read_back_from_the_page_paths():
    assert routes.slot_of_session_page(routes.session_page("ppx-1")) == "ppx-1"
    assert routes.slot_of_session_page(routes.session_page("ppx-1") + "/") == "ppx-1"
    assert routes.slot_of_session_page("/session/%D1%81%D0%BB%D0%BE%D1%82") == "слот"
    assert routes.session_id_of_end_page(routes.session_end_page(42)) == "42"
    # Another page has none: the handlers then answer "not found" rather than guess.
    assert routes.slot_of_session_page(routes.session_end_page(42)) == ""
    assert routes.session_id_of_end_page(routes.session_page("ppx-1")) == ""
    assert routes.slot_of_session_page(routes.CALENDAR) == ""
