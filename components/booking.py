"""The booking dialog and the "my bookings" list (v4 texts)."""

import reflex as rx

from components import theme
from components.common import confirm, error_box, field_label
from components.day_picker import day_picker
from state.booking import BookingState, MyBooking


def booking_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Забронировать ", BookingState.slot_name),
            rx.vstack(
                rx.cond(BookingState.error != "", error_box(BookingState.error)),
                day_picker(BookingState, input_id="booking-day", label="Дата"),
                field_label("Время начала", "booking-start"),
                rx.cond(
                    BookingState.start_options.length() > 0,
                    rx.select(
                        BookingState.start_options,
                        value=BookingState.start,
                        on_change=BookingState.set_start,
                        width="100%",
                        id="booking-start",
                        aria_label="Время начала",
                    ),
                    rx.text(
                        "На этот день свободного времени больше нет — выберите другой день.",
                        id="booking-start",
                        size="2",
                        color=theme.MUTED,
                    ),
                ),
                rx.text("Длительность", size="2", weight="medium"),
                rx.radio_group.root(
                    rx.hstack(
                        rx.foreach(
                            BookingState.duration_options,
                            lambda opt: rx.radio_group.item(opt[1], value=opt[0]),
                        ),
                        spacing="4",
                    ),
                    value=BookingState.minutes,
                    on_change=BookingState.set_minutes,
                    aria_label="Длительность",
                ),
                rx.text(
                    "Бронь гарантирует слот на выбранное время. Если не подключитесь за ",
                    BookingState.checkin_minutes,
                    " мин — бронь снимется.",
                    size="1",
                    color=theme.MUTED,
                ),
                rx.hstack(
                    rx.dialog.close(rx.button("Отмена", variant="soft", color_scheme="gray")),
                    rx.button("Забронировать", on_click=BookingState.submit, data_testid="booking-submit"),
                    justify="end",
                    spacing="3",
                    width="100%",
                    margin_top="0.5em",
                ),
                spacing="2",
                width="100%",
            ),
            max_width="420px",
        ),
        open=BookingState.dialog_open,
        on_open_change=BookingState.set_dialog_open,
    )


def _my_booking_row(b: MyBooking) -> rx.Component:
    return rx.hstack(
        rx.icon("calendar-check", size=16, color=theme.MUTED),
        rx.text(b.service_name, " • ", b.label, " • ", b.duration, size="2"),
        rx.spacer(),
        confirm(
            rx.icon_button(
                rx.icon("trash-2", size=16), variant="ghost", color_scheme="red", aria_label="Отменить бронь"
            ),
            "Отменить бронь?",
            rx.text(b.service_name, ", ", b.label),
            BookingState.cancel(b.id),
            confirm_label="Отменить бронь",
            cancel_label="Не отменять",
        ),
        width="100%",
        align="center",
        padding="0.5em 0.75em",
        style=theme.card_style,
        data_testid="my-booking",
    )


def my_bookings() -> rx.Component:
    return rx.cond(
        BookingState.mine.length() > 0,
        rx.vstack(
            rx.hstack(
                rx.icon("calendar-days", size=20), rx.heading("Мои бронирования", size="4"), align="center", spacing="2"
            ),
            rx.foreach(BookingState.mine, _my_booking_row),
            width="100%",
            spacing="2",
        ),
    )
