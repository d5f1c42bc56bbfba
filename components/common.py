"""Building blocks used by several pages."""

import reflex as rx

from components import theme


def brand(size: str = "6") -> rx.Component:
    return rx.hstack(
        rx.icon("car-taxi-front", size=28, color="#facc15"),
        rx.heading("VDI Такси", size=size, weight="bold"),
        align="center",
        spacing="2",
    )


def loading(text: str = "Загрузка…") -> rx.Component:
    return rx.center(
        rx.hstack(rx.spinner(size="3"), rx.text(text, color=theme.MUTED), align="center", spacing="3"),
        padding_y="4em",
        width="100%",
    )


def field_label(text, html_for: str) -> rx.Component:
    """A real <label for>: screen readers and tests name the field by it."""
    return rx.el.label(text, html_for=html_for, font_size="var(--font-size-2)", font_weight="500")


def labelled_input(label, input_id: str, **props) -> rx.Component:
    """An input named by a real <label for> above it. No browser validation (required, minlength):
    its bubbles speak the browser's language; the server checks and answers in Russian."""
    return rx.fragment(field_label(label, input_id), rx.input(id=input_id, width="100%", **props))


def error_box(message) -> rx.Component:
    return rx.callout(message, icon="triangle-alert", color_scheme="red", role="alert", width="100%")


def elapsed(since_ms, mode: str = "clock", **props) -> rx.Component:
    """Text filled and ticked in the browser by /clock.js (no server round-trips)."""
    return rx.el.span(data_since=since_ms, data_mode=mode, **props)


def warning_bar(*children: rx.Component, data_testid: str, **props) -> rx.Component:
    """An amber bar across the session page asking for the person's attention (an alert)."""
    defaults = {
        "align": "center",
        "width": "100%",
        "padding": "0.4em 1em",
        "background": "rgba(245, 158, 11, 0.2)",
        "color": "#fbbf24",
        "role": "alert",
    }
    return rx.hstack(*children, data_testid=data_testid, **{**defaults, **props})


def confirm(
    trigger: rx.Component | None,
    title,
    text,
    on_confirm,
    *,
    confirm_label: str = "Да",
    cancel_label: str = "Отмена",
    colour: str = "red",
    **root_props,
) -> rx.Component:
    """An "are you sure?" dialog: opened by its trigger, or controlled with open/on_open_change."""
    parts = [rx.alert_dialog.trigger(trigger)] if trigger is not None else []
    return rx.alert_dialog.root(
        *parts,
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(text),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button(cancel_label, variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(rx.button(confirm_label, color_scheme=colour, on_click=on_confirm)),
                justify="end",
                spacing="3",
                wrap="wrap",
                margin_top="1em",
            ),
        ),
        **root_props,
    )


def form_dialog(
    title, error, *fields: rx.Component, on_submit, submit_label="Сохранить", open, on_open_change, max_width="520px"
) -> rx.Component:
    """A dialog around a form: the server's error above the fields, Cancel and submit below."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(title),
            rx.form(
                rx.vstack(
                    rx.cond(error != "", error_box(error)),
                    *fields,
                    rx.hstack(
                        rx.dialog.close(rx.button("Отмена", type="button", variant="soft", color_scheme="gray")),
                        rx.button(submit_label, type="submit"),
                        justify="end",
                        spacing="3",
                        width="100%",
                    ),
                    spacing="3",
                    width="100%",
                ),
                on_submit=on_submit,
                reset_on_submit=False,
            ),
            max_width=max_width,
        ),
        open=open,
        on_open_change=on_open_change,
    )


def _labelled(row: rx.Component, headers: tuple[str, ...]) -> rx.Component:
    """Each cell carries its column's name, which app.css shows above it when the row is a card."""
    for cell, header in zip(row.children, headers, strict=False):
        cell.custom_attrs["data-label"] = header
    return row


def data_table(headers: tuple[str, ...], rows, render, min_width: str = "0") -> rx.Component:
    """A table of rows with a header; on a phone each row becomes a card (app.css), wider screens scroll its box."""
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(*(rx.table.column_header_cell(h) for h in headers))),
            rx.table.body(rx.foreach(rows, lambda row: _labelled(render(row), headers))),
            width="100%",
            min_width=min_width,
        ),
        overflow_x="auto",
        width="100%",
        class_name="data-table",
    )
