"""State decides on codes from the services, never on the Russian text shown to people."""

from __future__ import annotations

import ast
import re
from pathlib import Path

STATE = Path(__file__).resolve().parent.parent / "state"
CYRILLIC = re.compile(r"[А-Яа-яЁё]")


def _russian_literals_compared(tree: ast.AST) -> list[ast.Constant]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            # `x in {"а", "б"}` compares against every element of the literal collection.
            for op in list(operands):
                if isinstance(op, ast.Set | ast.List | ast.Tuple):
                    operands += op.elts
            found += [
                o
                for o in operands
                if isinstance(o, ast.Constant) and isinstance(o.value, str) and CYRILLIC.search(o.value)
            ]
        elif isinstance(node, ast.match_case) and isinstance(node.pattern, ast.MatchValue):
            value = node.pattern.value
            if isinstance(value, ast.Constant) and isinstance(value.value, str) and CYRILLIC.search(value.value):
                found.append(value)
    return found


def test_no_state_module_compares_against_a_russian_display_string():
    offenders = []
    for path in sorted(STATE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        offenders += [f"{path.name}:{c.lineno} {c.value!r}" for c in _russian_literals_compared(tree)]
    assert offenders == []


def test_the_check_catches_a_comparison_with_a_label():
    tree = ast.parse('if status == "Ожидает отправки":\n    pass\nok = kind in ("все", "x")\n')
    assert [c.value for c in _russian_literals_compared(tree)] == ["Ожидает отправки", "все"]
