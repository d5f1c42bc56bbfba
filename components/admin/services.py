"""The admin «Сервисы» tab: the subscription slots, their editor, credentials and switching them off."""

import reflex as rx

from components import theme
from components.admin.common import field
from components.common import confirm, data_table, form_dialog
from services.slots import SlotRow
from state.admin import AdminState


def _service_row(row: SlotRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row.service_name, weight="medium"), rx.text(row.id, size="1", color=theme.MUTED)),
        rx.table.cell(rx.cond(row.tier != "", row.tier, "—")),
        rx.table.cell("$", row.monthly_cost),
        rx.table.cell(
            rx.badge(
                row.category,
                style={
                    "background": f"color-mix(in srgb, {row.accent} 25%, transparent)",
                    "color": theme.readable(row.accent),
                },
            )
        ),
        rx.table.cell(rx.cond(row.renewal != "", row.renewal, "—")),
        rx.table.cell(
            # The label around both makes «Вкл»/«Выкл» a tap target too (40 px high on a phone).
            rx.el.label(
                rx.switch(
                    checked=row.is_active,
                    on_change=lambda v: AdminState.toggle_service(row.id, v),
                    aria_label="Активен",
                ),
                rx.text(rx.cond(row.is_active, "Вкл", "Выкл"), size="2"),
                display="inline-flex",
                align_items="center",
                gap="8px",
                min_height="40px",
                cursor="pointer",
            )
        ),
        rx.table.cell(
            rx.hstack(
                rx.button("✎ Редактировать", size="1", variant="soft", on_click=AdminState.edit_service(row.id)),
                rx.cond(
                    row.has_credentials,
                    rx.button(
                        "Доступы",
                        size="1",
                        variant="soft",
                        color_scheme="amber",
                        on_click=AdminState.show_credentials(row.id),
                    ),
                ),
                spacing="2",
            )
        ),
        data_testid="service-row",
    )


def _service_dialog() -> rx.Component:
    return form_dialog(
        rx.cond(AdminState.form_creating, "Добавить сервис", "Редактировать сервис"),
        AdminState.form_error,
        rx.cond(AdminState.form_creating, field("ID слота", "id", "ppx-4", form="service")),
        field("Название", "service_name", "Perplexity Max #4", form="service"),
        rx.hstack(
            field("Тариф", "tier", "Max / Pro / Ultra", form="service"),
            field("$/мес", "monthly_cost", "200", form="service"),
            width="100%",
        ),
        rx.hstack(
            field("Категория", "category", "РЕСЕРЧ", form="service"),
            field("Цвет", "category_accent", "#3b82f6", form="service"),
            width="100%",
        ),
        field("URL", "url", "https://...", form="service"),
        rx.hstack(
            field("Продление", "renewal_date", "ДД.ММ.ГГГГ", form="service"),
            field("Макс. сессия, мин", "max_session_minutes", "180", form="service"),
            field("Простой, мин", "idle_minutes", "15", form="service"),
            width="100%",
        ),
        rx.hstack(
            field("Логин подписки", "login", "не меняется, если пусто", form="service", autocomplete="off"),
            field(
                "Пароль подписки",
                "password",
                "не меняется, если пусто",
                "password",
                form="service",
                autocomplete="new-password",
            ),
            width="100%",
        ),
        rx.text(
            "Логин и пароль хранятся зашифрованными и видны только администраторам по запросу.",
            size="1",
            color=theme.MUTED,
        ),
        on_submit=AdminState.save_service,
        open=AdminState.form_open,
        on_open_change=AdminState.set_form_open,
        max_width="560px",
    )


def services_tab() -> rx.Component:
    return rx.vstack(
        rx.button("+ Добавить сервис", on_click=AdminState.new_service),
        data_table(
            ("Сервис", "Тариф", "$/мес", "Категория", "Продление", "Статус", "Действия"),
            AdminState.services,
            _service_row,
            "820px",
        ),
        _service_dialog(),
        rx.dialog.root(
            rx.dialog.content(
                rx.dialog.title("Доступы: ", AdminState.creds_slot),
                rx.vstack(
                    rx.text("Логин"),
                    rx.code(AdminState.creds_login, data_testid="creds-login"),
                    rx.text("Пароль"),
                    rx.code(AdminState.creds_password, data_testid="creds-password"),
                    rx.text("Просмотр записан в журнал.", size="1", color=theme.MUTED),
                    spacing="2",
                ),
            ),
            open=AdminState.creds_slot != "",
            on_open_change=AdminState.hide_credentials,
        ),
        confirm(
            None,
            "Отключить слот?",
            AdminState.confirm_disable_text,
            AdminState.confirm_disable,
            confirm_label="Завершить сессию и отключить",
            cancel_label="Оставить включённым",
            open=AdminState.confirm_disable_slot != "",
            on_open_change=AdminState.cancel_disable,
        ),
        spacing="3",
        width="100%",
    )
