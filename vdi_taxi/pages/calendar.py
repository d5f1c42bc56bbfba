"""/calendar — a day view: slots as rows, time as columns, bookings and sessions as bars."""

import reflex as rx

from components import theme
from components.booking import booking_dialog
from components.common import confirm
from components.layout import protected_page
from services.calendar import Bar, CalendarRow
from state.auth import AuthState
from state.booking import BookingState
from state.calendar import CalendarState

ROW_HEIGHT = "44px"
NAME_WIDTH = "190px"
BAR_COLOURS = {"mine": "#f59e0b", "booking": "#6366f1", "session": "#ef4444"}


def _bar(bar: Bar) -> rx.Component:
    return rx.tooltip(
        rx.box(
            rx.text(bar.label, size="1", weight="medium", truncate=True, color="white"),
            position="absolute",
            top="6px",
            bottom="6px",
            left=bar.left.to_string() + "%",
            width=bar.width.to_string() + "%",
            background=rx.match(
                bar.kind, ("mine", BAR_COLOURS["mine"]), ("session", BAR_COLOURS["session"]), BAR_COLOURS["booking"]
            ),
            border_radius="6px",
            padding_x="6px",
            display="flex",
            align_items="center",
            overflow="hidden",
            pointer_events="auto",
            opacity="0.92",
            data_testid="calendar-bar",
            data_kind=bar.kind,
            cursor=rx.cond(_may_cancel(bar), "pointer", "default"),
            on_click=rx.cond(_may_cancel(bar), CalendarState.ask_cancel(bar.booking_id, bar.title), rx.noop()),
        ),
        content=bar.title,
    )


def _may_cancel(bar: Bar):
    """Admins cancel any booking from the calendar; everyone their own."""
    return (bar.booking_id != 0) & (AuthState.is_admin | (bar.kind == "mine"))


def _cancel_dialog() -> rx.Component:
    return confirm(
        None,
        "Отменить бронь?",
        CalendarState.cancel_title,
        CalendarState.confirm_cancel,
        confirm_label="Отменить бронь",
        cancel_label="Не отменять",
        open=CalendarState.cancel_id != 0,
        on_open_change=CalendarState.close_cancel,
    )


def _cell(slot_id, time) -> rx.Component:
    return rx.box(
        flex="1",
        height="100%",
        border_left=f"1px solid {theme.CARD_BORDER}",
        cursor="pointer",
        _hover={"background": "rgba(99, 102, 241, 0.18)"},
        on_click=BookingState.open_booking_at(slot_id, CalendarState.day, time),
        title="Забронировать с " + time,
        data_testid="calendar-cell",
    )


def _row(row: CalendarRow) -> rx.Component:
    return rx.hstack(
        rx.hstack(
            rx.box(width="4px", height="22px", border_radius="2px", background=row.accent),
            rx.text(row.service_name, size="2", truncate=True),
            width=NAME_WIDTH,
            min_width=NAME_WIDTH,
            align="center",
            spacing="2",
            padding_x="0.5em",
        ),
        rx.box(
            rx.hstack(
                rx.foreach(CalendarState.cells, lambda t: _cell(row.slot_id, t)),
                spacing="0",
                height="100%",
                width="100%",
            ),
            rx.box(rx.foreach(row.bars, _bar), position="absolute", inset="0", pointer_events="none"),
            position="relative",
            flex="1",
            height=ROW_HEIGHT,
        ),
        width="100%",
        spacing="0",
        border_bottom=f"1px solid {theme.CARD_BORDER}",
        data_testid="calendar-row",
        data_slot=row.slot_id,
    )


def _legend() -> rx.Component:
    def item(colour: str, text: str) -> rx.Component:
        return rx.hstack(
            rx.box(width="12px", height="12px", border_radius="3px", background=colour),
            rx.text(text, size="1", color=theme.MUTED),
            align="center",
            spacing="1",
        )

    return rx.hstack(
        item(BAR_COLOURS["mine"], "мои"),
        item(BAR_COLOURS["booking"], "брони"),
        item(BAR_COLOURS["session"], "идущие и прошедшие сессии"),
        spacing="4",
        wrap="wrap",
    )


def _toolbar() -> rx.Component:
    return rx.hstack(
        rx.button(
            rx.icon("chevrons-left", size=16), "Неделя", variant="soft", size="2", on_click=CalendarState.shift(-7)
        ),
        rx.button(rx.icon("chevron-left", size=16), "День", variant="soft", size="2", on_click=CalendarState.shift(-1)),
        rx.button("Сегодня", variant="outline", size="2", on_click=CalendarState.today),
        rx.button("День", rx.icon("chevron-right", size=16), variant="soft", size="2", on_click=CalendarState.shift(1)),
        rx.button(
            "Неделя", rx.icon("chevrons-right", size=16), variant="soft", size="2", on_click=CalendarState.shift(7)
        ),
        rx.input(
            type="date", value=CalendarState.day, on_change=CalendarState.set_day, width="160px", aria_label="Дата"
        ),
        spacing="2",
        wrap="wrap",
        align="center",
    )


def calendar_page() -> rx.Component:
    return protected_page(
        rx.vstack(
            rx.hstack(
                rx.heading("Календарь", size="6"),
                rx.text(CalendarState.day_label, color=theme.MUTED, data_testid="calendar-day"),
                align="baseline",
                spacing="3",
                wrap="wrap",
            ),
            _toolbar(),
            _legend(),
            rx.box(
                rx.vstack(
                    rx.hstack(
                        rx.box(width=NAME_WIDTH, min_width=NAME_WIDTH),
                        rx.hstack(
                            rx.foreach(
                                CalendarState.hours, lambda h: rx.text(h, size="1", color=theme.MUTED, flex="1")
                            ),
                            flex="1",
                            spacing="0",
                        ),
                        width="100%",
                        spacing="0",
                        padding_y="0.4em",
                        border_bottom=f"1px solid {theme.CARD_BORDER}",
                    ),
                    rx.foreach(CalendarState.rows, _row),
                    spacing="0",
                    min_width="900px",
                ),
                width="100%",
                overflow_x="auto",
                style=theme.card_style,
            ),
            rx.text("Нажмите на свободное время, чтобы забронировать.", size="1", color=theme.MUTED),
            rx.hstack(
                rx.icon("calendar-plus", size=16, color=theme.MUTED),
                rx.text("Подписка на мои брони в календаре (iCal): ", size="2", color=theme.MUTED),
                rx.link("ссылка .ics", href=CalendarState.feed_url, is_external=True, size="2", data_testid="ics-link"),
                align="center",
                spacing="2",
            ),
            booking_dialog(),
            _cancel_dialog(),
            spacing="4",
            width="100%",
        )
    )
