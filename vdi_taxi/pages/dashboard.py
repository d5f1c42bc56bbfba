"""/ — the live dashboard."""

import reflex as rx

from components import theme
from components.booking import booking_dialog, my_bookings
from components.common import loading
from components.layout import protected_page
from components.slot_card import active_session_banner, favourite_chip, offer_banner, slot_card
from components.templates import template_cards
from services.analytics import CategoryLoad
from state.auth import AuthState
from state.board import LayoutGroup, card, feed_ids, feed_layout, feed_loaded, feed_problem
from state.dashboard import DashboardState


def _favourites() -> rx.Component:
    return rx.vstack(
        rx.heading("★ Мои избранные", size="4"),
        rx.cond(
            DashboardState.favourites.length() > 0,
            rx.hstack(
                rx.foreach(feed_ids, lambda slot_id: favourite_chip(card(slot_id))),
                overflow_x="auto",
                width="100%",
                spacing="3",
                padding_bottom="0.25em",
            ),
            rx.text("Добавьте избранные сервисы, нажав ★ на карточке", color=theme.MUTED, size="2"),
        ),
        width="100%",
        spacing="3",
    )


def _load_chip(load: CategoryLoad) -> rx.Component:
    colour = rx.match(load.level, ("high", theme.BUSY), ("mid", theme.MINE), theme.FREE)
    return rx.hstack(
        rx.text(load.category, size="1", weight="bold", color=theme.readable(load.accent), letter_spacing="0.04em"),
        rx.box(
            rx.box(width=load.pct.to_string() + "%", height="100%", background=colour, border_radius="3px"),
            width="56px",
            height="6px",
            background="rgba(148, 163, 184, 0.18)",
            border_radius="3px",
            overflow="hidden",
            aria_hidden="true",
        ),
        rx.text(load.pct, "%", size="1", color=theme.MUTED),
        align="center",
        spacing="2",
        data_testid="load-chip",
    )


def _today_load() -> rx.Component:
    """v4's stats bar, now about today: how busy each category has been since opening time."""
    return rx.cond(
        DashboardState.today_load.length() > 0,
        rx.hstack(
            rx.text("Загрузка сегодня:", size="2", color=theme.MUTED),
            rx.foreach(DashboardState.today_load, _load_chip),
            wrap="wrap",
            spacing="4",
            align="center",
            padding="0.6em 0.9em",
            style=theme.card_style,
            width="100%",
            data_testid="today-load",
        ),
    )


def _group(group: LayoutGroup) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.box(width="10px", height="10px", border_radius="3px", background=group.accent),
            rx.heading(group.category, size="3", color=theme.readable(group.accent), letter_spacing="0.05em"),
            align="center",
            spacing="2",
        ),
        rx.grid(
            rx.foreach(group.slots, lambda slot_id: slot_card(card(slot_id))),
            columns=rx.breakpoints(initial="1", sm="2", lg="3"),
            spacing="4",
            width="100%",
        ),
        width="100%",
        spacing="3",
        data_testid="category-group",
    )


def dashboard_page() -> rx.Component:
    return protected_page(
        rx.vstack(
            rx.cond(
                AuthState.is_admin & (feed_problem != ""),
                rx.callout(
                    feed_problem,
                    icon="server-crash",
                    color_scheme="red",
                    width="100%",
                    data_testid="engine-problem",
                ),
            ),
            rx.foreach(feed_ids, lambda slot_id: active_session_banner(card(slot_id))),
            rx.foreach(feed_ids, lambda slot_id: offer_banner(card(slot_id))),
            _favourites(),
            template_cards(),
            my_bookings(),
            rx.heading("Все сервисы", size="5", margin_top="0.5em"),
            _today_load(),
            rx.cond(
                feed_loaded,
                rx.vstack(rx.foreach(feed_layout, _group), spacing="6", width="100%"),
                loading("Загрузка слотов..."),
            ),
            booking_dialog(),
            spacing="5",
            width="100%",
        )
    )
