"""What a page shows when it fails to render in the browser, in place of Reflex's English screen.

It says what happened in plain Russian, offers to reload (the session and the data live on the
server, so nothing is lost) and a way home. Plain elements with inline styles: the theme itself
may be what failed.
"""

import reflex as rx
from reflex_components_core.base.error_boundary import ErrorBoundary

from vdi_taxi import routes

_LINK = {
    "display": "inline-flex",
    "align_items": "center",
    "min_height": "44px",
    "padding": "0 1.2em",
    "border_radius": "8px",
    "font_weight": "600",
    "text_decoration": "none",
}


def _fallback() -> rx.Component:
    return rx.el.main(
        rx.el.div(
            rx.el.h1("Страница не смогла открыться", style={"font_size": "1.5rem", "margin": "0 0 0.5em"}),
            rx.el.p(
                "Это ошибка портала, а не ваша. Ваша сессия и данные на сервере не пострадали — "
                "обновите страницу. Если ошибка повторяется, напишите администратору.",
                style={"line_height": "1.5", "margin": "0 0 1.2em"},
            ),
            rx.el.div(
                # An empty href reloads this very address.
                rx.el.a("Обновить страницу", href="", style={**_LINK, "background": "#3b5bdb", "color": "#fff"}),
                rx.el.a(
                    "На главную",
                    href=routes.DASHBOARD,
                    style={**_LINK, "color": "#c5d0ff", "border": "1px solid #4c5a8a"},
                ),
                style={"display": "flex", "gap": "0.75em", "flex_wrap": "wrap"},
            ),
            style={"max_width": "32rem", "padding": "1.5rem"},
        ),
        role="alert",
        data_testid="render-error",
        style={
            "position": "fixed",
            "inset": "0",
            "display": "flex",
            "align_items": "center",
            "justify_content": "center",
            "background": "#0b1220",
            "color": "#e6e9f2",
            "font_family": "Inter, system-ui, sans-serif",
        },
    )


def error_boundary(stateful: bool) -> rx.Component:
    """The app wrap that replaces Reflex's default error boundary (same error reporting)."""
    return ErrorBoundary.create(fallback_render=_fallback(), **({} if stateful else {"on_error": rx.noop()}))
