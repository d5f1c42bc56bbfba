"""Slot cards of the dashboard: full card, favourite chip, "your session" banner."""

import reflex as rx

from components import theme
from components.common import confirm, elapsed
from services.board import SlotCard
from state.auth import AuthState
from state.booking import BookingState
from state.dashboard import DashboardState
from vdi_taxi import routes


def _is_mine(slot: SlotCard):
    return slot.busy & (slot.occupant_id == AuthState.user_id)


def _booked_by_other(slot: SlotCard):
    return (slot.booked_by_id != 0) & (slot.booked_by_id != AuthState.user_id)


def _offered_to_other(slot: SlotCard):
    return (slot.offered_to_id != 0) & (slot.offered_to_id != AuthState.user_id)


def _offered_to_me(slot: SlotCard):
    return slot.offered_to_id == AuthState.user_id


def my_queue_place(slot: SlotCard):
    return slot.queue_positions[AuthState.user_id.to_string()].to(int)


def _in_queue(slot: SlotCard):
    return my_queue_place(slot) > 0


def _unavailable(slot: SlotCard):
    """Someone else has it now: working, booked, or offered to the next in line."""
    return (slot.busy & ~_is_mine(slot)) | _booked_by_other(slot) | _offered_to_other(slot)


def _status_colour(slot: SlotCard, prefix: str = ""):
    return rx.cond(
        _is_mine(slot) | _offered_to_me(slot),
        prefix + theme.MINE,
        rx.cond(_unavailable(slot), prefix + theme.BUSY, prefix + theme.FREE),
    )


def _dot(slot: SlotCard) -> rx.Component:
    return rx.box(width="8px", height="8px", border_radius="50%", background=_status_colour(slot), flex_shrink="0")


def _status_text(slot: SlotCard) -> rx.Component:
    return rx.cond(
        _is_mine(slot),
        rx.text("Ваша сессия — ", elapsed(slot.started_at_ms, "minutes"), size="2"),
        rx.cond(
            slot.busy,
            rx.text("Занято: ", slot.occupant_name, " — ", elapsed(slot.started_at_ms, "minutes"), size="2"),
            rx.cond(
                _offered_to_me(slot),
                rx.text("Предложен вам — ещё ", elapsed(slot.offer_expires_ms, "countdown"), size="2"),
                rx.cond(
                    _offered_to_other(slot),
                    rx.text("Предложен следующему в очереди", size="2"),
                    rx.cond(
                        _booked_by_other(slot),
                        rx.text("Забронировано: ", slot.booked_by_name, " до ", slot.booked_until, size="2"),
                        rx.cond(
                            slot.booked_by_id != 0,
                            rx.text("Ваша бронь до ", slot.booked_until, size="2"),
                            rx.text("Свободен", size="2"),
                        ),
                    ),
                ),
            ),
        ),
    )


def status_line(slot: SlotCard) -> rx.Component:
    return rx.vstack(
        rx.hstack(_dot(slot), _status_text(slot), align="center", spacing="2", data_testid="slot-status"),
        rx.hstack(
            rx.cond(
                slot.queue_size > 0,
                rx.text(
                    "Очередь: ",
                    slot.queue_size,
                    rx.cond(_in_queue(slot), rx.text.span(" · вы ", my_queue_place(slot), "-й")),
                    size="1",
                    data_testid="queue-info",
                ),
            ),
            rx.cond(slot.next_booking != "", rx.text(slot.next_booking, size="1")),
            spacing="3",
        ),
        spacing="1",
        color=theme.MUTED,
    )


def _calendar_button(slot: SlotCard) -> rx.Component:
    return rx.tooltip(
        rx.icon_button(
            rx.icon("calendar-days", size=18, color=theme.MUTED),
            variant="ghost",
            size="2",
            on_click=BookingState.open_booking(slot.id),
            aria_label="Забронировать",
            data_testid="book-button",
        ),
        content="Забронировать",
    )


def _star(slot: SlotCard) -> rx.Component:
    fav = DashboardState.favourites.contains(slot.id)
    return rx.tooltip(
        rx.icon_button(
            rx.icon("star", size=18, fill=rx.cond(fav, "#facc15", "none"), color=rx.cond(fav, "#facc15", theme.MUTED)),
            variant="ghost",
            size="2",
            on_click=DashboardState.toggle_favourite(slot.id),
            aria_label=rx.cond(fav, "Убрать из избранного", "В избранное"),
            data_testid="favourite-toggle",
        ),
        content=rx.cond(fav, "Убрать из избранного", "В избранное"),
    )


def _force_release(slot: SlotCard) -> rx.Component:
    return confirm(
        rx.button("Освободить", color_scheme="red", variant="soft", size="2"),
        "Освободить слот?",
        rx.text(
            "Сессия пользователя ",
            rx.text.strong(slot.occupant_name),
            " в ",
            slot.service_name,
            " будет завершена немедленно.",
        ),
        DashboardState.force_release(slot.id),
        confirm_label="Да, освободить",
    )


def _queue_buttons(slot: SlotCard) -> rx.Component:
    return rx.cond(
        _in_queue(slot),
        rx.button(
            "Покинуть очередь",
            variant="soft",
            color_scheme="gray",
            size="2",
            on_click=BookingState.leave_queue(slot.id),
        ),
        rx.button(
            rx.cond(slot.queue_size > 0, "В очередь (" + slot.queue_size.to_string() + ")", "В очередь"),
            variant="soft",
            size="2",
            on_click=BookingState.join_queue(slot.id),
        ),
    )


def _release_mine(slot: SlotCard) -> rx.Component:
    return confirm(
        rx.button("Освободить", color_scheme="red", variant="soft", size="2", data_testid="release-mine"),
        "Завершить сессию?",
        rx.text(
            rx.text.strong(slot.service_name),
            " станет свободен для коллег. Посещённые страницы, файлы и скриншот сессии будут на странице итогов "
            "и в Telegram, если он привязан.",
        ),
        DashboardState.release_mine(slot.id),
        confirm_label="Да, завершить",
    )


def _actions(slot: SlotCard) -> rx.Component:
    return rx.cond(
        _is_mine(slot),
        rx.hstack(
            _release_mine(slot),
            rx.link(
                rx.button("Вернуться к сессии", color_scheme="amber", size="2", width="100%"),
                href=routes.session_page(slot.id),
                flex="1",
            ),
            spacing="2",
            width=["100%", "auto"],
        ),
        rx.cond(
            _unavailable(slot),
            rx.hstack(
                _queue_buttons(slot),
                rx.cond(AuthState.is_admin & slot.busy, _force_release(slot), rx.fragment()),
                spacing="2",
                wrap="wrap",
                justify="end",
            ),
            rx.button(
                "Занять",
                color_scheme=rx.cond(_offered_to_me(slot), "amber", "green"),
                size="2",
                width=["100%", "auto"],
                loading=DashboardState.taking == slot.id,
                disabled=slot.room_state != "ready",
                on_click=DashboardState.take(slot.id),
            ),
        ),
    )


def slot_card(slot: SlotCard) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.vstack(
                rx.text(slot.service_name, weight="bold", size="3"),
                rx.cond(slot.tier != "", rx.badge(slot.tier, variant="soft", color_scheme="gray", size="1")),
                spacing="1",
                align="start",
            ),
            rx.spacer(),
            _calendar_button(slot),
            _star(slot),
            width="100%",
            align="start",
        ),
        status_line(slot),
        rx.cond(
            slot.room_label != "",
            rx.badge(slot.room_label, color_scheme="amber", variant="soft", data_testid="room-state"),
        ),
        rx.box(_actions(slot), width="100%", display="flex", justify_content="flex-end"),
        spacing="3",
        padding="1em",
        style=theme.card_style,
        border_left=_status_colour(slot, "4px solid "),
        width="100%",
        data_testid="slot-card",
        data_slot=slot.id,
        data_busy=rx.cond(slot.busy, "true", "false"),
        data_available=rx.cond(_unavailable(slot), "false", "true"),
    )


def _chip_status(slot: SlotCard):
    return rx.cond(
        _is_mine(slot),
        "Ваша сессия",
        rx.cond(
            _in_queue(slot),
            "Вы " + my_queue_place(slot).to_string() + "-й в очереди",
            rx.cond(_unavailable(slot), "Занят — в очередь", "Свободен"),
        ),
    )


def favourite_chip(slot: SlotCard) -> rx.Component:
    """A favourite at a glance; tapping it takes the slot, or queues you when someone else has it (as in v4)."""
    return rx.cond(
        DashboardState.favourites.contains(slot.id),
        rx.el.button(
            rx.text(
                slot.service_name,
                size="2",
                weight="medium",
                style={
                    "display": "-webkit-box",
                    "-webkit-line-clamp": "2",
                    "-webkit-box-orient": "vertical",
                    "overflow": "hidden",
                },
            ),
            rx.hstack(
                _dot(slot),
                rx.text(_chip_status(slot), size="1", color=theme.MUTED),
                align="center",
                spacing="1",
            ),
            type="button",
            on_click=rx.cond(
                _is_mine(slot),
                rx.redirect(routes.session_page(slot.id)),
                rx.cond(
                    _unavailable(slot),
                    BookingState.join_queue(slot.id),
                    DashboardState.take(slot.id),
                ),
            ),
            aria_label=slot.service_name + ": " + _chip_status(slot),
            cursor="pointer",
            color="inherit",
            text_align="left",
            font="inherit",
            min_width="168px",
            max_width="168px",
            min_height="84px",
            padding="0.6em 0.75em",
            display="flex",
            flex_direction="column",
            justify_content="space-between",
            gap="0.4em",
            style=theme.card_style,
            border_left=_status_colour(slot, "4px solid "),
            flex_shrink="0",
            data_testid="favourite-chip",
            data_slot=slot.id,
        ),
    )


def active_session_banner(slot: SlotCard) -> rx.Component:
    return rx.cond(
        _is_mine(slot),
        rx.callout.root(
            rx.hstack(
                rx.callout.icon(rx.icon("monitor-play")),
                rx.text(
                    "Ваша активная сессия: ",
                    rx.text.strong(slot.service_name),
                    " — ",
                    elapsed(slot.started_at_ms, "clock"),
                ),
                rx.spacer(),
                rx.link(
                    rx.button("Вернуться к сессии", color_scheme="amber", size="2"), href=routes.session_page(slot.id)
                ),
                align="center",
                width="100%",
                wrap="wrap",
                spacing="3",
            ),
            color_scheme="amber",
            width="100%",
            data_testid="active-session-banner",
        ),
    )


def offer_banner(slot: SlotCard) -> rx.Component:
    """The first in line sees their exclusive offer with the time left to claim it."""
    return rx.cond(
        _offered_to_me(slot) & ~slot.busy,
        rx.callout.root(
            rx.hstack(
                rx.callout.icon(rx.icon("bell-ring")),
                rx.text(
                    "Ваша очередь: ",
                    rx.text.strong(slot.service_name),
                    " свободен для вас ещё ",
                    elapsed(slot.offer_expires_ms, "countdown", class_name="mono"),
                ),
                rx.spacer(),
                rx.button(
                    "Занять",
                    color_scheme="amber",
                    size="2",
                    on_click=DashboardState.take(slot.id),
                    loading=DashboardState.taking == slot.id,
                ),
                align="center",
                width="100%",
                wrap="wrap",
                spacing="3",
            ),
            color_scheme="amber",
            width="100%",
            data_testid="offer-banner",
        ),
    )
