"""Our own connection-lost banner, in place of Reflex's English toast about the websocket.

It sits at the bottom of the screen so it never covers the header's controls (while it is up, the
page gets room at its end, assets/app.css, so its last controls scroll clear of it), and it says what
is happening in words people use: the page lost the server and is reconnecting by itself.
"""

import reflex as rx
from reflex.components.core.banner import has_connection_errors, has_too_many_connection_errors


def connection_banner() -> rx.Component:
    return rx.cond(
        has_connection_errors,
        rx.hstack(
            rx.spinner(size="2"),
            rx.text(
                rx.cond(
                    has_too_many_connection_errors,
                    "Нет связи с сервером. Проверьте интернет — страница переподключится сама, "
                    "как только связь вернётся.",
                    "Связь с сервером прервалась. Переподключаемся…",
                ),
                size="2",
                weight="medium",
            ),
            role="status",
            aria_live="polite",
            align="center",
            justify="center",
            spacing="3",
            position="fixed",
            bottom="0",
            left="0",
            right="0",
            z_index="1000",
            padding="0.6em 1em",
            background="#7f1d1d",
            color="white",
            class_name="connection-banner",
            data_testid="connection-banner",
        ),
    )


def overlay(stateful: bool) -> rx.Component | None:
    """The app wrap that replaces Reflex's default overlay (its toast and pulsing wifi icon)."""
    return connection_banner() if stateful else None
