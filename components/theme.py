"""Colours and small shared styles (dark theme close to v4)."""

BG = "#0b1220"
CARD = "hsl(217, 33%, 17%)"
CARD_BORDER = "hsl(217, 30%, 26%)"
MUTED = "hsl(215, 20%, 65%)"
FREE = "#22c55e"
BUSY = "#ef4444"
MINE = "#f59e0b"

card_style = {
    "background": CARD,
    "border": f"1px solid {CARD_BORDER}",
    "border_radius": "12px",
}
