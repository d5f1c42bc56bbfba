"""What the browser downloads: the Radix Themes set-up and the pruning of its CSS after a build.

Imported by rxconfig.py, so it stays free of the app (no state, services or components).
Compression itself is Reflex's: `frontend_compression_formats` in rxconfig.py makes the build
write .br and .gz next to every asset, and the production server picks one by Accept-Encoding.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import reflex as rx

# Radix colour scales the UI names: the theme's accent and gray, plus every `color_scheme` used in
# components/ and vdi_taxi/ (tests/test_page_weight.py fails when a new one is missing here).
RADIX_COLOURS = ("indigo", "slate", "amber", "gray", "green", "red")

# A Radix component's own class, e.g. rt-Button or rt-SelectTrigger (utilities are rt-r-*).
_COMPONENT_CLASS = re.compile(r"\.(rt-[A-Z][A-Za-z]*)")
# Radix's breakpoints: a responsive prop value {"md": "2"} gets the class md:rt-r-...-2.
BREAKPOINTS = ("xs", "sm", "md", "lg", "xl")


def _blocks(css: str) -> list[tuple[str, str | None]]:
    """Split a stylesheet into top-level (prelude, body) pairs; a statement has body None."""
    out: list[tuple[str, str | None]] = []
    i, start, depth, quote = 0, 0, 0, ""
    prelude_end = -1
    while i < len(css):
        ch = css[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "{":
            if depth == 0:
                prelude_end = i
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                out.append((css[start:prelude_end].strip(), css[prelude_end + 1 : i]))
                start = i + 1
        elif ch == ";" and depth == 0:
            out.append((css[start:i].strip(), None))
            start = i + 1
        i += 1
    if css[start:].strip():
        out.append((css[start:].strip(), None))
    return out


def _split_selectors(prelude: str) -> list[str]:
    parts, depth, current = [], 0, []
    for ch in prelude:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def prune_css(css: str, used: set[str], unused_breakpoints: tuple[str, ...] = ()) -> str:
    """Drop the rules that style only Radix components absent from the built JS.

    A selector is dead when it names a component class (rt-Slider...) that no script uses, or a
    responsive class of a breakpoint no prop of ours uses (xs:rt-r-p-2); a rule goes when all its
    selectors are dead. At-rules (@media, @supports, @layer) are pruned inside and dropped when
    emptied; everything else (tokens, the reset, other utilities) is kept as it was.
    """
    dead_prefixes = tuple(f".{bp}\\:" for bp in unused_breakpoints)
    out = []
    for prelude, body in _blocks(css):
        if body is None:
            out.append(prelude + ";")
        elif prelude.startswith("@"):
            if prelude.startswith(("@media", "@supports", "@layer", "@container")):
                inner = prune_css(body, used, unused_breakpoints)
                if inner.strip() or not body.strip():
                    out.append(f"{prelude}{{{inner}}}")
            else:  # @keyframes, @font-face, @property...: not selectors
                out.append(f"{prelude}{{{body}}}")
        else:
            alive = [
                s
                for s in _split_selectors(prelude)
                if set(_COMPONENT_CLASS.findall(s)) <= used and not any(p in s for p in dead_prefixes)
            ]
            if alive:
                out.append(f"{','.join(alive)}{{{body}}}")
    return "".join(out)


def prune_built_css(static_dir: Path) -> None:
    """Rewrite the built stylesheets without the CSS of Radix components no page imports.

    Radix spells each component's class out in its JS (className: "rt-Button"), and every page's
    JS chunk carries only the components it imports, so the class names in all built scripts are
    exactly the components the app can render. Responsive values are written by Reflex into the
    generated pages as objects ({["md"] : "2"}); a breakpoint no generated page names is unused.
    """
    assets = static_dir / "assets"
    used: set[str] = set()
    for script in assets.glob("*.js"):
        used.update(re.findall(r"rt-[A-Z][A-Za-z]*", script.read_text(encoding="utf-8", errors="replace")))
    web_dir = static_dir.parents[1]  # .web/build/client -> .web
    generated = "".join(
        path.read_text(encoding="utf-8", errors="replace")
        for folder in ("app", "app_components")
        for path in (web_dir / folder).rglob("*.js*")
    )
    unused = tuple(bp for bp in BREAKPOINTS if f'"{bp}"' not in generated)
    for sheet in assets.glob("*.css"):
        css = sheet.read_text(encoding="utf-8")
        if "rt-" in css:
            sheet.write_text(prune_css(css, used, unused), encoding="utf-8")


@dataclasses.dataclass
class LeanRadixThemesPlugin(rx.plugins.RadixThemesPlugin):
    """Radix Themes as the stock plugin sets it up, minus what no page of ours uses.

    - CSS: styles.css carries all 30 colour scales (tokens.css: 35 KiB gzip); the pieces below are
      the same CSS in the same order (tokens, components, utilities) without the unused scales, and
      after the build the rules of components no page renders are cut (prune_built_css).
    - JS: the stock plugin also registers the package for dynamic (eval'd) components, which makes
      the app root import the whole library, so every page downloaded every Radix component. We
      render no dynamic components; each page now bundles only the components it imports. (The npm
      package is still installed: every Radix component names it as its library.)
    """

    def get_frontend_dependencies(self, **context: Any) -> tuple[str, ...]:
        return ()

    def get_stylesheet_paths(self, **context: Any) -> tuple[str, ...]:
        if not self.enabled:
            return ()
        return (
            "@radix-ui/themes/tokens/base.css",
            *(f"@radix-ui/themes/tokens/colors/{colour}.css" for colour in RADIX_COLOURS),
            "@radix-ui/themes/components.css",
            "@radix-ui/themes/utilities.css",
        )

    def post_build(self, **context: Any) -> None:
        # Runs before Reflex writes the .br/.gz copies, so they are made from the pruned files.
        prune_built_css(Path(context["static_dir"]))
