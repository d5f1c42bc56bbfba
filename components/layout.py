"""The page shell: header with greeting, profile initial, admin link and logout."""

import reflex as rx

from components import theme
from components.common import brand, loading
from state.auth import AuthState
from vdi_taxi import routes


def header() -> rx.Component:
    return rx.hstack(
        rx.link(brand("5"), href=routes.DASHBOARD, underline="none", color="white"),
        rx.spacer(),
        rx.text("Привет, ", rx.text.strong(AuthState.user_name), display=["none", "none", "block"], color=theme.MUTED),
        rx.tooltip(
            rx.link(
                rx.icon_button(
                    rx.icon("calendar-days", size=18),
                    variant="ghost",
                    color_scheme="gray",
                    size="3",
                    aria_label="Календарь",
                ),
                href=routes.CALENDAR,
            ),
            content="Календарь",
        ),
        rx.tooltip(
            rx.link(
                rx.avatar(fallback=AuthState.initial, size="2", radius="full", color_scheme="indigo"),
                href=routes.PROFILE,
                aria_label="Профиль",
            ),
            content="Профиль",
        ),
        rx.cond(
            AuthState.is_admin,
            rx.tooltip(
                rx.link(
                    rx.icon_button(
                        rx.icon("settings", size=18),
                        variant="ghost",
                        color_scheme="amber",
                        size="3",
                        aria_label="Админ-панель",
                    ),
                    href=routes.ADMIN,
                ),
                content="Админ-панель",
            ),
        ),
        rx.tooltip(
            rx.icon_button(
                rx.icon("log-out", size=18),
                variant="ghost",
                color_scheme="gray",
                on_click=AuthState.logout,
                aria_label="Выйти",
                size="3",
            ),
            content="Выйти",
        ),
        align="center",
        spacing="3",
        width="100%",
        padding_y="0.75em",
        padding_x=["1em", "1em", "1.5em"],
        border_bottom=f"1px solid {theme.CARD_BORDER}",
        position="sticky",
        top="0",
        z_index="10",
        background="rgba(11, 18, 32, 0.85)",
        backdrop_filter="blur(8px)",
    )


def protected_page(*children: rx.Component) -> rx.Component:
    """Shell for pages behind login; renders nothing private until the guard passed."""
    return rx.box(
        header(),
        rx.cond(
            AuthState.auth_ready,
            rx.box(*children, max_width="1200px", margin_x="auto", padding=["1em", "1em", "1.5em"]),
            loading(),
        ),
        min_height="100vh",
        background=theme.BG,
    )
