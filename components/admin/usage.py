"""The admin «Загрузка» tab: per-slot charts, a weekday x hour heat map, advice and a table."""

import reflex as rx

from components import theme
from components.common import data_table
from state.usage import HeatCell, HeatRow, UsageRow, UsageState

# SVG text takes camelCase props: a snake_case key here is dropped and the ticks fall back to the page's 16 px.
AXIS = {"fill": theme.MUTED, "fontSize": 12}
# Room for a slot name on one line of axis text; a longer one wraps onto a second.
NAME_AXIS_PX = 130


def _bar_chart(title: str, bars: list[tuple[str, str, str]], marks: tuple[int, ...] = ()) -> rx.Component:
    """Horizontal bars, one row per slot, so long service names stay readable."""
    return rx.vstack(
        rx.text(title, weight="medium"),
        rx.recharts.bar_chart(
            rx.recharts.cartesian_grid(stroke_dasharray="3 3", stroke=theme.CARD_BORDER, horizontal=False),
            rx.recharts.x_axis(type_="number", tick=AXIS, allow_decimals=False),
            rx.recharts.y_axis(data_key="name", type_="category", tick=AXIS, width=NAME_AXIS_PX, interval=0),
            rx.recharts.graphing_tooltip(
                content_style={"background": theme.CARD, "border": f"1px solid {theme.CARD_BORDER}"},
                cursor={"fill": "rgba(148, 163, 184, 0.1)"},
            ),
            *(rx.recharts.reference_line(x=m, stroke=theme.MUTED, stroke_dasharray="4 4") for m in marks),
            *(
                rx.recharts.bar(
                    data_key=key,
                    name=label,
                    fill=colour,
                    radius=[0, 4, 4, 0],
                    is_animation_active=False,
                    max_bar_size=14,
                )
                for key, label, colour in bars
            ),
            *([rx.recharts.legend()] if len(bars) > 1 else []),
            data=UsageState.chart,
            layout="vertical",
            width="100%",
            height=UsageState.chart_height,
        ),
        padding=["0.75em", "0.75em", "1em"],
        style=theme.card_style,
        width="100%",
        spacing="2",
    )


def _heat_cell(cell: HeatCell) -> rx.Component:
    return rx.box(
        title=cell.title,
        background=cell.background,
        border_radius="3px",
        height="20px",
        min_width="0",
    )


def _heat_row(row: HeatRow) -> rx.Component:
    return rx.fragment(
        rx.text(row.weekday, size="1", color=theme.MUTED, align="right", padding_right="4px"),
        rx.foreach(row.cells, _heat_cell),
    )


def _heat_map() -> rx.Component:
    return rx.vstack(
        rx.text("Когда заняты слоты (доля занятых слотов по дням недели и часам)", weight="medium"),
        rx.box(
            rx.grid(
                rx.box(),
                *(
                    rx.text(
                        f"{h:02d}" if h % 3 == 0 else "",
                        size="1",
                        color=theme.MUTED,
                        white_space="nowrap",
                        overflow="visible",
                        font_size="10px",
                    )
                    for h in range(24)
                ),
                rx.foreach(UsageState.heat, _heat_row),
                grid_template_columns="28px repeat(24, minmax(10px, 1fr))",
                gap="2px",
                min_width="340px",
                width="100%",
            ),
            overflow_x="auto",
            width="100%",
        ),
        rx.hstack(
            rx.text("0%", size="1", color=theme.MUTED),
            rx.box(
                width="120px",
                height="10px",
                border_radius="3px",
                background="linear-gradient(90deg, rgba(245,158,11,0.15), rgba(245,158,11,1))",
            ),
            rx.text("100%", size="1", color=theme.MUTED),
            align="center",
            spacing="2",
        ),
        padding="1em",
        style=theme.card_style,
        width="100%",
        spacing="2",
        data_testid="heat-map",
    )


def _row(r: UsageRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(r.service_name, weight="medium"), rx.text(r.slot_id, size="1", color=theme.MUTED)),
        rx.table.cell(r.sessions),
        rx.table.cell(r.hours),
        rx.table.cell(
            rx.badge(
                r.work_pct,
                "%",
                color_scheme=rx.match(r.verdict, ("busy", "red"), ("idle", "gray"), ("unknown", "gray"), "green"),
                variant=rx.cond(r.verdict == "unknown", "outline", "soft"),
            )
        ),
        rx.table.cell(rx.cond(r.waits > 0, rx.text(r.waits, " / ", r.avg_wait, " мин"), "—")),
        rx.table.cell(r.no_shows),
        rx.table.cell(r.monthly_cost),
        rx.table.cell(r.cost_per_hour),
        data_testid="usage-row",
    )


def _table() -> rx.Component:
    return data_table(
        (
            "Сервис",
            "Сессий",
            "Часов",
            "Рабочее время",
            "Очередь: раз / ожидание",
            "Неявки",
            "$/мес",
            "$ за час",
        ),
        UsageState.usage,
        _row,
        "760px",
    )


def _history_note() -> rx.Component:
    return rx.cond(
        UsageState.history_note != "",
        rx.callout(
            UsageState.history_note, icon="hourglass", color_scheme="gray", width="100%", data_testid="usage-history"
        ),
    )


def _advice() -> rx.Component:
    return rx.cond(
        UsageState.advice.length() > 0,
        rx.vstack(
            rx.text("Рекомендации", weight="medium"),
            rx.foreach(
                UsageState.advice,
                lambda line: rx.hstack(
                    rx.icon("lightbulb", size=16, color=theme.MINE, flex_shrink="0"),
                    rx.text(line, size="2"),
                    align="start",
                    spacing="2",
                ),
            ),
            padding="1em",
            style=theme.card_style,
            width="100%",
            spacing="2",
            data_testid="usage-advice",
        ),
        rx.cond(
            UsageState.history_note == "",
            rx.callout("Загрузка в норме: рекомендаций нет.", icon="check", color_scheme="green", width="100%"),
        ),
    )


def usage_tab() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.segmented_control.root(
                rx.segmented_control.item("Сегодня", value="day"),
                rx.segmented_control.item("7 дней", value="week"),
                rx.segmented_control.item("30 дней", value="month"),
                value=UsageState.period,
                on_change=UsageState.set_period,
                aria_label="Период",
            ),
            rx.cond(UsageState.loading, rx.spinner(size="2")),
            rx.spacer(),
            rx.button(rx.icon("download", size=16), "CSV", variant="outline", on_click=UsageState.export_csv),
            width="100%",
            align="center",
            wrap="wrap",
            spacing="3",
        ),
        rx.cond(
            UsageState.error != "",
            rx.callout(UsageState.error, icon="triangle-alert", color_scheme="red", width="100%"),
        ),
        rx.text(
            "Рабочих часов в периоде: ",
            UsageState.work_hours,
            " · Использовано часов всего: ",
            UsageState.total_hours,
            size="2",
            color=theme.MUTED,
        ),
        _history_note(),
        _advice(),
        rx.grid(
            _bar_chart("Часы использования", [("hours", "Часов", "#3b82f6")]),
            _bar_chart(
                "Доля рабочего времени, % (пороги 10 и 70)", [("pct", "% рабочего времени", theme.MINE)], (10, 70)
            ),
            _bar_chart(
                "Очередь и неявки",
                [("wait", "Среднее ожидание, мин", "#a855f7"), ("no_shows", "Неявки по броням", theme.BUSY)],
            ),
            columns=rx.breakpoints(initial="1", md="2", xl="3"),
            spacing="3",
            width="100%",
        ),
        _heat_map(),
        _table(),
        width="100%",
        spacing="3",
    )
