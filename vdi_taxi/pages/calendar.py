"""/calendar — a day of every slot (slots as rows, time as columns) or a week of one slot
(days as columns, half hours as rows; one day at a time on a phone), with a now line."""

import reflex as rx

from components import theme
from components.booking import booking_dialog
from components.common import confirm, field_label
from components.day_picker import day_picker
from components.layout import protected_page
from services.calendar import Bar, CalendarRow, WeekDay
from state.auth import AuthState
from state.booking import BookingState
from state.calendar import CalendarState

ROW_HEIGHT = "44px"
# Slot names stay in view while the day scrolls sideways (narrower on a phone).
NAME_WIDTH = ["112px", "140px", "170px"]
STICKY_NAME = {
    "width": NAME_WIDTH,
    "min_width": NAME_WIDTH,
    "position": "sticky",
    "left": "0",
    "z_index": "3",
    "background": theme.CARD,
}
# Cells stay at least this wide, so a finger can hit one: the day grid scrolls inside its box on a phone.
CELL_MIN_PX = 40
CELL_MIN = f"{CELL_MIN_PX}px"
WEEK_ROW = "26px"
PHONE_ROW = "44px"
AXIS_WIDTH = "48px"
NOW = "#f43f5e"
# Begun half hours: hatched, so they read as closed rather than as free.
PAST = "repeating-linear-gradient(135deg, rgba(148, 163, 184, 0.16) 0 4px, transparent 4px 9px)"
BAR_COLOURS = {"mine": "#f59e0b", "booking": "#6366f1", "session": "#ef4444"}
DESKTOP = ["none", "none", "block"]
PHONE = ["block", "block", "none"]


def _colour(bar: Bar):
    return rx.match(
        bar.kind, ("mine", BAR_COLOURS["mine"]), ("session", BAR_COLOURS["session"]), BAR_COLOURS["booking"]
    )


def _may_cancel(bar: Bar):
    """Admins cancel any booking from the calendar; everyone their own."""
    return (bar.booking_id != 0) & (AuthState.is_admin | (bar.kind == "mine"))


def _bar(bar: Bar, **place) -> rx.Component:
    """A booking or session; `place` puts it in its row (day view) or its day column (week view)."""
    return rx.box(
        rx.text(bar.label, size="1", weight="medium", truncate=True, color="white"),
        position="absolute",
        background=_colour(bar),
        border_radius="6px",
        overflow="hidden",
        opacity="0.92",
        cursor=rx.cond(_may_cancel(bar), "pointer", "default"),
        on_click=rx.cond(_may_cancel(bar), CalendarState.ask_cancel(bar.booking_id), rx.noop()),
        title=bar.title,
        pointer_events="auto",
        data_testid="calendar-bar",
        data_kind=bar.kind,
        **place,
    )


def _day_bar(bar: Bar) -> rx.Component:
    return _bar(
        bar,
        top="6px",
        bottom="6px",
        left=bar.left.to_string() + "%",
        width=bar.width.to_string() + "%",
        padding_x="6px",
        display="flex",
        align_items="center",
    )


def _week_bar(bar: Bar) -> rx.Component:
    """In a day column the window runs downwards: left/width of the bar are its top/height."""
    top, height = bar.left.to_string() + "%", bar.width.to_string() + "%"
    return _bar(bar, left="3px", right="3px", top=top, height=height, padding_x="4px")


def _now_line(pct, vertical: bool) -> rx.Component:
    place = {"left": pct.to_string() + "%", "top": "0", "bottom": "0", "width": "2px"}
    if not vertical:
        place = {"top": pct.to_string() + "%", "left": "0", "right": "0", "height": "2px"}
    return rx.cond(
        pct >= 0,
        rx.box(
            position="absolute",
            background=NOW,
            box_shadow=f"0 0 6px {NOW}",
            pointer_events="none",
            z_index="2",
            data_testid="now-line",
            **place,
        ),
    )


def _past_cell(**size) -> rx.Component:
    return rx.box(background=PAST, data_testid="calendar-past", aria_hidden="true", **size)


def _free_cell(slot_id, day, time, name, **size) -> rx.Component:
    return rx.el.button(
        on_click=BookingState.open_booking_at(slot_id, day, time),
        title="Забронировать с " + time,
        aria_label="Забронировать " + name + " с " + time,
        background="transparent",
        border="none",
        cursor="pointer",
        padding="0",
        _hover={"background": "rgba(99, 102, 241, 0.18)"},
        data_testid="calendar-cell",
        **size,
    )


# ---------------------------------------------------------------- day: every slot, one day


def _day_cell(row: CalendarRow, time, index) -> rx.Component:
    size = {"flex": "1", "min_width": CELL_MIN, "height": "100%", "border_left": f"1px solid {theme.CARD_BORDER}"}
    return rx.cond(
        index < CalendarState.past_cells,
        _past_cell(**size),
        _free_cell(row.slot_id, CalendarState.day, time, row.service_name, **size),
    )


def _day_row(row: CalendarRow) -> rx.Component:
    return rx.hstack(
        rx.hstack(
            rx.box(width="4px", height="22px", border_radius="2px", background=row.accent, flex_shrink="0"),
            rx.text(
                row.service_name,
                size=rx.breakpoints(initial="1", sm="2"),
                line_height="1.2",
                title=row.service_name,
                style={
                    "display": "-webkit-box",
                    "-webkit-line-clamp": "2",
                    "-webkit-box-orient": "vertical",
                    "overflow": "hidden",
                },
            ),
            align="center",
            spacing="2",
            padding_x="0.5em",
            border_right=f"1px solid {theme.CARD_BORDER}",
            **STICKY_NAME,
        ),
        rx.box(
            rx.hstack(
                rx.foreach(CalendarState.cells, lambda t, i: _day_cell(row, t, i)),
                spacing="0",
                position="absolute",
                inset="0",
            ),
            rx.box(rx.foreach(row.bars, _day_bar), position="absolute", inset="0", pointer_events="none"),
            _now_line(CalendarState.now_pct, vertical=True),
            position="relative",
            flex="1",
            min_height=ROW_HEIGHT,
        ),
        width="100%",
        spacing="0",
        align="stretch",
        border_bottom=f"1px solid {theme.CARD_BORDER}",
        data_testid="calendar-row",
        data_slot=row.slot_id,
    )


def _day_view() -> rx.Component:
    return rx.box(
        rx.vstack(
            rx.hstack(
                rx.box(**STICKY_NAME),
                rx.hstack(
                    rx.foreach(CalendarState.hours, lambda h: rx.text(h, size="1", color=theme.MUTED, flex="1")),
                    flex="1",
                    spacing="0",
                ),
                width="100%",
                spacing="0",
                padding_y="0.4em",
                border_bottom=f"1px solid {theme.CARD_BORDER}",
            ),
            rx.foreach(CalendarState.rows, _day_row),
            spacing="0",
            # Wide enough for every cell at its minimum beside the widest name column: the cells,
            # the bars (placed in percent) and the hour labels then line up at any booking hours.
            min_width=(CalendarState.cells.length() * CELL_MIN_PX + 180).to_string() + "px",
        ),
        width="100%",
        overflow_x="auto",
        style=theme.card_style,
        data_testid="calendar-day-view",
    )


# ---------------------------------------------------------------- week: one slot, seven days


def _week_cell(day: WeekDay, time, index, row: str) -> rx.Component:
    size = {"height": row, "width": "100%", "border_top": f"1px solid {theme.CARD_BORDER}", "display": "block"}
    return rx.cond(
        index < day.past_cells,
        _past_cell(**size),
        _free_cell(CalendarState.week_slot, day.iso, time, CalendarState.week_slot_name, **size),
    )


def _week_column(day: WeekDay, row: str) -> rx.Component:
    return rx.box(
        rx.foreach(CalendarState.cells, lambda t, i: _week_cell(day, t, i, row)),
        rx.box(rx.foreach(day.bars, _week_bar), position="absolute", inset="0", pointer_events="none"),
        _now_line(day.now_pct, vertical=False),
        position="relative",
        flex="1",
        min_width="0",
        border_left=f"1px solid {theme.CARD_BORDER}",
        background=rx.cond(day.today, "rgba(99, 102, 241, 0.06)", "transparent"),
        data_testid="week-day",
        data_day=day.iso,
    )


def _axis(row: str) -> rx.Component:
    return rx.box(
        rx.foreach(
            CalendarState.axis,
            lambda t: rx.box(rx.text(t, size="1", color=theme.MUTED, line_height="1"), height=row),
        ),
        width=AXIS_WIDTH,
        min_width=AXIS_WIDTH,
        margin_top="-0.4em",
    )


def _week_grid(columns: rx.Component, row: str) -> rx.Component:
    """The time axis beside the day column(s)."""
    return rx.hstack(_axis(row), columns, spacing="0", width="100%", align="start")


def _week_desktop() -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.box(width=AXIS_WIDTH, min_width=AXIS_WIDTH),
            rx.foreach(
                CalendarState.week,
                # Weekday and dd.MM.yyyy; where a column is narrow the date goes under the weekday.
                lambda day: rx.text(
                    day.weekday,
                    " ",
                    rx.el.span(day.numeric, white_space="nowrap"),
                    size="2",
                    weight=rx.cond(day.today, "bold", "regular"),
                    color=rx.cond(day.today, "white", theme.MUTED),
                    flex="1",
                    text_align="center",
                    title=day.spoken,
                ),
            ),
            spacing="0",
            width="100%",
            padding_y="0.4em",
        ),
        _week_grid(rx.foreach(CalendarState.week, lambda day: _week_column(day, WEEK_ROW)), WEEK_ROW),
        display=DESKTOP,
        width="100%",
    )


def _week_phone() -> rx.Component:
    day = CalendarState.week[CalendarState.phone_day]
    return rx.box(
        rx.hstack(
            rx.foreach(
                CalendarState.week,
                lambda d, i: rx.button(
                    rx.text(d.weekday, size="1", as_="span"),
                    rx.text(d.number, size="2", weight="bold", as_="span"),
                    size="2",
                    flex_direction="column",
                    gap="0",
                    variant=rx.cond(i == CalendarState.phone_day, "solid", rx.cond(d.today, "soft", "ghost")),
                    color_scheme=rx.cond(d.today | (i == CalendarState.phone_day), "indigo", "gray"),
                    on_click=CalendarState.show_phone_day(i),
                    aria_label=d.spoken,
                    aria_pressed=i == CalendarState.phone_day,
                    flex="1",
                    min_width="0",
                    height="44px",
                    padding="0",
                    line_height="1.1",
                    data_testid="phone-day",
                ),
            ),
            spacing="1",
            width="100%",
            padding_bottom="0.5em",
        ),
        # The strip names days by their number; the day shown gets its whole date, as a desktop column head.
        rx.text(
            day.label,
            size="2",
            weight="medium",
            text_align="center",
            padding_bottom="0.4em",
            title=day.spoken,
            data_testid="phone-day-date",
        ),
        _week_grid(_week_column(day, PHONE_ROW), PHONE_ROW),
        display=PHONE,
        width="100%",
    )


def _week_view() -> rx.Component:
    return rx.vstack(
        rx.box(
            field_label("Слот", "calendar-slot"),
            rx.select.root(
                rx.select.trigger(id="calendar-slot", width="100%", aria_label="Слот"),
                rx.select.content(
                    rx.foreach(
                        CalendarState.slot_options,
                        lambda o: rx.select.item(o.name, value=o.id),
                    ),
                ),
                value=CalendarState.week_slot,
                on_change=CalendarState.set_week_slot,
            ),
            width=["100%", "100%", "360px"],
        ),
        rx.box(
            rx.cond(
                CalendarState.week.length() > 0,
                rx.fragment(_week_desktop(), _week_phone()),
                rx.text("Нет активных слотов.", color=theme.MUTED),
            ),
            width="100%",
            padding="0.75em",
            style=theme.card_style,
            data_testid="calendar-week-view",
        ),
        width="100%",
        spacing="3",
    )


# ---------------------------------------------------------------- page


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
        item(NOW, "сейчас"),
        item(PAST, "прошло"),
        spacing="4",
        wrap="wrap",
    )


def _toolbar() -> rx.Component:
    week = CalendarState.mode == "week"
    step = rx.cond(week, 7, 1)
    return rx.hstack(
        rx.segmented_control.root(
            rx.segmented_control.item("День", value="day"),
            rx.segmented_control.item("Неделя", value="week"),
            value=CalendarState.mode,
            on_change=CalendarState.set_mode,
            aria_label="Вид календаря",
            size="3",
        ),
        rx.hstack(
            rx.icon_button(
                rx.icon("chevron-left", size=18),
                variant="soft",
                size="3",
                on_click=CalendarState.shift(-step),
                aria_label=rx.cond(week, "Предыдущая неделя", "Предыдущий день"),
            ),
            rx.button("Сегодня", variant="outline", size="3", on_click=CalendarState.today),
            rx.icon_button(
                rx.icon("chevron-right", size=18),
                variant="soft",
                size="3",
                on_click=CalendarState.shift(step),
                aria_label=rx.cond(week, "Следующая неделя", "Следующий день"),
            ),
            spacing="2",
            align="center",
        ),
        rx.box(day_picker(CalendarState, input_id="calendar-day-picker", label="Дата"), width="200px"),
        spacing="3",
        wrap="wrap",
        align="end",
    )


def calendar_page() -> rx.Component:
    return protected_page(
        rx.vstack(
            rx.hstack(
                rx.heading("Календарь", size="6"),
                rx.text(
                    rx.cond(
                        CalendarState.mode == "week",
                        "неделя " + CalendarState.week_label,
                        CalendarState.day_label,
                    ),
                    color=theme.MUTED,
                    data_testid="calendar-day",
                ),
                align="baseline",
                spacing="3",
                wrap="wrap",
            ),
            _toolbar(),
            _legend(),
            rx.cond(CalendarState.mode == "week", _week_view(), _day_view()),
            rx.text("Нажмите на свободное время, чтобы забронировать.", size="1", color=theme.MUTED),
            rx.hstack(
                rx.icon("calendar-plus", size=16, color=theme.MUTED),
                rx.text("Подписка на мои брони в календаре (iCal): ", size="2", color=theme.MUTED),
                rx.link("ссылка .ics", href=CalendarState.feed_url, is_external=True, size="2", data_testid="ics-link"),
                align="center",
                spacing="2",
                wrap="wrap",
            ),
            booking_dialog(),
            _cancel_dialog(),
            spacing="4",
            width="100%",
        )
    )
