"""Pieces the admin tabs share: a small confirm button and a labelled field of the service form."""

import reflex as rx

from components.common import confirm
from state.admin import AdminState


def small_confirm(label: str, title: str, text, on_confirm, colour: str = "red") -> rx.Component:
    return confirm(
        rx.button(label, size="1", variant="soft", color_scheme=colour), title, text, on_confirm, colour=colour
    )


def field(label: str, name: str, placeholder: str = "", type_: str = "text", **props) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        rx.input(
            name=name,
            placeholder=placeholder,
            type=type_,
            default_value=AdminState.form.get(name, ""),
            width="100%",
            **props,
        ),
        spacing="1",
        width="100%",
    )
