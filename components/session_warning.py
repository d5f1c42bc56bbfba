"""The session page's "ends soon" warning (countdown, «Продлить» or why not) and the ended overlay's reason."""

import reflex as rx

from components import theme
from components.common import elapsed, warning_bar
from state.board import card
from state.session import SessionPageState


def session_warning(ended: rx.Var) -> rx.Component:
    """Shown while the session is inside its warning window, until it ends or is extended.

    What it shows comes from the board feed, computed on the server from the session's
    deadline and the warning window, so it appears live and again after a reload."""
    slot = card(SessionPageState.slot_id)
    return rx.cond(
        slot.ending_soon & ~ended,
        warning_bar(
            rx.icon("timer", size=18, flex_shrink="0"),
            rx.text(
                "Сессия закончится через ",
                elapsed(slot.deadline_ms, "countdown", class_name="mono", data_testid="ending-countdown"),
                ". Сохраните работу.",
                size="2",
                # Grows and wraps inside itself, so on a phone the icon, the text and the button
                # keep one row instead of three.
                flex="1 1 10em",
                min_width="0",
            ),
            rx.cond(
                slot.extend_refusal == "",
                rx.button(
                    "Продлить",
                    size="2",
                    variant="soft",
                    color_scheme="amber",
                    min_height="40px",
                    on_click=SessionPageState.extend,
                ),
                rx.text(slot.extend_refusal, size="2", weight="medium", data_testid="extend-refusal"),
            ),
            data_testid="ending-banner",
            wrap="wrap",
            background="rgba(245, 158, 11, 0.15)",
        ),
    )


def ended_reason() -> rx.Component:
    """Why the session ended, as the server tells it, while the page moves on to the summary."""
    return rx.text(
        rx.cond(SessionPageState.end_reason != "", SessionPageState.end_reason + ". ", ""),
        "Переходим к итогам сессии…",
        color=theme.MUTED,
        text_align="center",
        data_testid="ended-reason",
    )
