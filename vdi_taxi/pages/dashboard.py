"""/ — the live dashboard."""

import reflex as rx

from components import theme
from components.booking import booking_dialog, my_bookings
from components.common import loading
from components.layout import protected_page
from components.slot_card import active_session_banner, favourite_chip, offer_banner, slot_card
from components.templates import template_cards
from services.board import CategoryGroup
from state.auth import AuthState
from state.board import SlotBoard
from state.dashboard import DashboardState


def _favourites() -> rx.Component:
    return rx.vstack(
        rx.heading("★ Мои избранные", size="4"),
        rx.cond(
            DashboardState.favourites.length() > 0,
            rx.hstack(
                rx.foreach(SlotBoard.all_slots, favourite_chip),
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


def _group(group: CategoryGroup) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.box(width="10px", height="10px", border_radius="3px", background=group.accent),
            rx.heading(group.category, size="3", color=group.accent, letter_spacing="0.05em"),
            align="center",
            spacing="2",
        ),
        rx.grid(
            rx.foreach(group.slots, slot_card),
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
                AuthState.is_admin & (SlotBoard.engine_problem != ""),
                rx.callout(
                    SlotBoard.engine_problem,
                    icon="server-crash",
                    color_scheme="red",
                    width="100%",
                    data_testid="engine-problem",
                ),
            ),
            rx.foreach(SlotBoard.all_slots, active_session_banner),
            rx.foreach(SlotBoard.all_slots, offer_banner),
            _favourites(),
            template_cards(),
            my_bookings(),
            rx.heading("Все сервисы", size="5", margin_top="0.5em"),
            rx.cond(
                SlotBoard.loaded,
                rx.vstack(rx.foreach(SlotBoard.groups, _group), spacing="6", width="100%"),
                loading("Загрузка слотов..."),
            ),
            booking_dialog(),
            spacing="5",
            width="100%",
        )
    )
