"""Building blocks used by several pages."""

import reflex as rx

from components import theme


def brand(size: str = "6") -> rx.Component:
    return rx.hstack(
        rx.icon("car-taxi-front", size=28, color="#facc15"),
        rx.heading("VDI Такси", size=size, weight="bold"),
        align="center",
        spacing="2",
    )


def loading(text: str = "Загрузка…") -> rx.Component:
    return rx.center(
        rx.hstack(rx.spinner(size="3"), rx.text(text, color=theme.MUTED), align="center", spacing="3"),
        padding_y="4em",
        width="100%",
    )


def error_box(message) -> rx.Component:
    return rx.callout(message, icon="triangle-alert", color_scheme="red", role="alert", width="100%")


def elapsed(since_ms, mode: str = "clock", **props) -> rx.Component:
    """Text filled and ticked in the browser by /clock.js (no server round-trips)."""
    return rx.el.span(data_since=since_ms, data_mode=mode, **props)
