"""Our own 404: in Russian, with a way home."""

import reflex as rx

from components import theme
from components.common import brand
from vdi_taxi import routes


def not_found_page() -> rx.Component:
    return rx.center(
        rx.vstack(
            brand("7"),
            rx.heading("Страница не найдена", size="6", as_="h1"),
            rx.text(
                "Такой страницы нет — возможно, ссылка устарела или в адресе опечатка.",
                color=theme.MUTED,
                text_align="center",
            ),
            rx.link(rx.button(rx.icon("house", size=16), "На главную", size="3"), href=routes.DASHBOARD),
            align="center",
            spacing="4",
            max_width="420px",
        ),
        min_height="100vh",
        padding="1em",
        background=theme.BG,
    )
