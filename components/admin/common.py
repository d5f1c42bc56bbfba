"""Pieces the admin tabs share: a small confirm button and a labelled field of the service form."""

import reflex as rx

from components.common import confirm, labelled_input
from state.admin import AdminState


def small_confirm(label: str, title: str, text, on_confirm, colour: str = "red") -> rx.Component:
    return confirm(
        rx.button(label, size="1", variant="soft", color_scheme=colour), title, text, on_confirm, colour=colour
    )


def field(label: str, name: str, placeholder: str = "", type_: str = "text", *, form: str, **props) -> rx.Component:
    """A labelled input of an admin form; its id is `form-name`, so the label names it for screen readers."""
    return rx.vstack(
        labelled_input(
            label,
            f"{form}-{name}",
            name=name,
            placeholder=placeholder,
            type=type_,
            default_value=AdminState.form.get(name, ""),
            **props,
        ),
        spacing="1",
        width="100%",
    )
