"""The lean Radix set-up: every colour the UI names has its scale, and pruning keeps used CSS."""

from __future__ import annotations

import ast
from pathlib import Path

from vdi_taxi.bundle import RADIX_COLOURS, prune_css

ROOT = Path(__file__).resolve().parents[1]
# Radix Themes' colour scales (accent and gray), as named in color_scheme / accent_color.
RADIX_SCALES = {
    "gray", "gold", "bronze", "brown", "yellow", "amber", "orange", "tomato", "red", "ruby", "crimson",
    "pink", "plum", "purple", "violet", "iris", "indigo", "blue", "cyan", "teal", "jade", "green",
    "grass", "lime", "mint", "sky", "mauve", "slate", "sage", "olive", "sand",
}  # fmt: skip


def _colour_names_in_ui() -> set[str]:
    found = set()
    for package in ("components", "vdi_taxi", "state"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and node.value in RADIX_SCALES:
                    found.add(node.value)
    return found | {"indigo", "slate"}  # the theme's accent and gray (rxconfig.py)


def test_every_radix_colour_the_ui_names_ships_its_scale():
    missing = _colour_names_in_ui() - set(RADIX_COLOURS)
    assert not missing, f"add these to RADIX_COLOURS in vdi_taxi/bundle.py, or they render colourless: {missing}"


def test_pruning_drops_only_rules_of_components_no_script_uses():
    css = (
        "@layer base{*{margin:0}}"
        ".rt-Button{color:red}"
        ".rt-Slider,.rt-Button:hover{color:blue}"
        ".rt-SliderRoot{width:1px}"
        "@media (min-width:520px){.rt-SliderThumb{x:1}.xs\\:rt-r-p-1{padding:1px}}"
        "@media (min-width:768px){.rt-SliderThumb{x:1}}"
        "@keyframes spin{from{opacity:0}to{opacity:1}}"
        ".rt-r-size-2 .rt-SliderRange{a:b}"
        '.radix-themes{--quote:"}{"}'
    )
    pruned = prune_css(css, {"rt-Button"})
    assert pruned == (
        "@layer base{*{margin:0}}"
        ".rt-Button{color:red}"
        ".rt-Button:hover{color:blue}"
        "@media (min-width:520px){.xs\\:rt-r-p-1{padding:1px}}"
        "@keyframes spin{from{opacity:0}to{opacity:1}}"
        '.radix-themes{--quote:"}{"}'
    )


def test_pruning_drops_responsive_classes_of_breakpoints_no_page_uses():
    css = "@media (min-width:520px){.xs\\:rt-r-gap-2{gap:1px}}@media (min-width:1024px){.md\\:rt-r-gap-2{gap:1px}}"
    assert prune_css(css, set(), ("xs",)) == "@media (min-width:1024px){.md\\:rt-r-gap-2{gap:1px}}"
