"""/admin — composes the admin tabs (each lives in components/admin/); admins only."""

import reflex as rx

from components.admin.health import health_tab
from components.admin.journal import journal_tab
from components.admin.services import services_tab
from components.admin.templates import templates_tab
from components.admin.usage import usage_tab
from components.admin.users import users_tab
from components.layout import protected_page
from state.admin import AdminState
from vdi_taxi import routes


def admin_page() -> rx.Component:
    return protected_page(
        rx.vstack(
            rx.link("← Назад к дашборду", href=routes.DASHBOARD, size="2"),
            rx.heading("Админ-панель", size="6"),
            rx.tabs.root(
                rx.tabs.list(
                    rx.tabs.trigger("Загрузка", value="usage"),
                    rx.tabs.trigger("Сервисы", value="services"),
                    rx.tabs.trigger("Пользователи", value="users"),
                    rx.tabs.trigger("Шаблоны", value="templates"),
                    rx.tabs.trigger("Здоровье", value="health"),
                    rx.tabs.trigger("Журнал", value="audit"),
                    # Six tabs do not fit a phone's width: they wrap instead of hiding.
                    style={"flex_wrap": "wrap"},
                ),
                rx.tabs.content(usage_tab(), value="usage", padding_top="1em"),
                rx.tabs.content(services_tab(), value="services", padding_top="1em"),
                rx.tabs.content(users_tab(), value="users", padding_top="1em"),
                rx.tabs.content(templates_tab(), value="templates", padding_top="1em"),
                rx.tabs.content(health_tab(), value="health", padding_top="1em"),
                rx.tabs.content(journal_tab(), value="audit", padding_top="1em"),
                default_value="usage",
                on_change=AdminState.open_tab,
                width="100%",
            ),
            width="100%",
            spacing="3",
        )
    )
