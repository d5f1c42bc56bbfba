"""Russian plural forms: «1 сессия», «4 сессии», «11 сессий», «21 сессия».

The one rule every count shown to people goes through.
"""

from __future__ import annotations


def form(n: int, one: str, few: str, many: str) -> str:
    """The word for n: `one` for 1, 21, 101…; `few` for 2–4, 22–24…; `many` for 0, 5–20, 25–30…"""
    n = abs(int(n))
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def plural(n: int, one: str, few: str, many: str) -> str:
    """The count and its word: plural(4, "сессия", "сессии", "сессий") == "4 сессии"."""
    return f"{n} {form(n, one, few, many)}"
