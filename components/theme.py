"""Colours and small shared styles (dark theme close to v4)."""

BG = "#0b1220"
CARD = "hsl(217, 33%, 17%)"
CARD_BORDER = "hsl(217, 30%, 26%)"
MUTED = "hsl(215, 20%, 65%)"
FREE = "#22c55e"
BUSY = "#ef4444"
MINE = "#f59e0b"


def readable(accent) -> str:
    """A category's accent colour as text on the dark theme: mixed with white, it keeps its hue and stays
    above WCAG's 4.5:1 for all but near-black picks (#8b5cf6 itself is 4.4:1 on our background)."""
    return f"color-mix(in srgb, {accent} 45%, white)"


card_style = {
    "background": CARD,
    "border": f"1px solid {CARD_BORDER}",
    "border_radius": "12px",
}
