"""A Russian date picker: a button showing dd.MM.yyyy that opens a month grid (Пн…Вс).

The browser's own date input follows the browser's language (11/26/2026); this one is ours.
Its label is a real <label for>, and each day button is named by its spoken date.
"""

import reflex as rx

from components import theme
from components.common import field_label
from services.dates import WEEKDAYS_SHORT, DayCell

CELL = "40px"


def _day(state, cell: DayCell) -> rx.Component:
    return rx.cond(
        cell.in_month,
        rx.button(
            cell.label,
            variant=rx.cond(cell.selected, "solid", rx.cond(cell.today, "soft", "ghost")),
            color_scheme=rx.cond(cell.selected | cell.today, "indigo", "gray"),
            disabled=~cell.enabled,
            on_click=state.picker_pick(cell.iso),
            aria_label=cell.aria,
            aria_pressed=cell.selected,
            width=CELL,
            height=CELL,
            padding="0",
            margin="0",
            data_testid="picker-day",
            data_day=cell.iso,
        ),
        rx.box(width=CELL, height=CELL),
    )


def _month(state) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.icon_button(
                rx.icon("chevron-left", size=18),
                variant="ghost",
                size="3",
                disabled=~state.picker.can_prev,
                on_click=state.picker_shift(-1),
                aria_label="Предыдущий месяц",
            ),
            rx.text(state.picker.title, weight="bold", data_testid="picker-month"),
            rx.icon_button(
                rx.icon("chevron-right", size=18),
                variant="ghost",
                size="3",
                disabled=~state.picker.can_next,
                on_click=state.picker_shift(1),
                aria_label="Следующий месяц",
            ),
            justify="between",
            align="center",
            width="100%",
        ),
        rx.grid(
            *(
                rx.text(name, size="1", color=theme.MUTED, text_align="center", aria_hidden="true")
                for name in WEEKDAYS_SHORT
            ),
            rx.foreach(state.picker.cells, lambda cell: _day(state, cell)),
            grid_template_columns=f"repeat(7, {CELL})",
            gap="2px",
        ),
        spacing="2",
        align="center",
    )


def day_picker(state, *, input_id: str, label: str) -> rx.Component:
    """Label and picker for `state` (a state with the DayPicker mixin)."""
    return rx.vstack(
        field_label(label, input_id),
        rx.popover.root(
            rx.popover.trigger(
                rx.button(
                    rx.icon("calendar-days", size=16),
                    rx.cond(state.day_text != "", state.day_text, "Выберите дату"),
                    id=input_id,
                    type="button",
                    variant="surface",
                    color_scheme="gray",
                    size="3",
                    width="100%",
                    justify_content="flex-start",
                    aria_label=label + ": " + state.day_text,
                    data_testid="day-picker",
                ),
            ),
            rx.popover.content(
                _month(state),
                aria_label="Выбор даты",
                padding="0.75em",
            ),
            open=state.picker_open,
            on_open_change=state.set_picker_open,
        ),
        spacing="1",
        width="100%",
    )
