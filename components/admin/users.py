"""The admin «Пользователи» tab: accounts, their rights, passwords and second factor."""

import reflex as rx

from components import theme
from components.admin.common import field, small_confirm
from components.common import data_table, form_dialog
from services.users import UserRow
from state.admin import AdminState


def _user_row(u: UserRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(u.name, weight="medium"), rx.text(u.username, size="1", color=theme.MUTED)),
        rx.table.cell(
            rx.hstack(
                rx.cond(u.is_admin, rx.badge("админ", color_scheme="amber")),
                rx.cond(
                    u.is_active, rx.badge("активен", color_scheme="green"), rx.badge("отключён", color_scheme="red")
                ),
                rx.cond(u.has_2fa, rx.badge("2FA"), rx.badge("без 2FA", color_scheme="gray")),
                spacing="1",
                wrap="wrap",
            )
        ),
        rx.table.cell(u.telegram),
        rx.table.cell(u.sessions_week),
        rx.table.cell(u.hours_week),
        rx.table.cell(
            rx.hstack(
                rx.cond(
                    u.is_active,
                    small_confirm(
                        "Отключить",
                        "Отключить пользователя?",
                        "Все его входы будут отозваны сразу.",
                        AdminState.set_active(u.username, False),
                    ),
                    rx.button("Включить", size="1", variant="soft", on_click=AdminState.set_active(u.username, True)),
                ),
                rx.button("✎ Имя", size="1", variant="soft", on_click=AdminState.start_rename(u.username)),
                small_confirm(
                    "Сбросить пароль",
                    "Сбросить пароль?",
                    "Будет создан новый пароль, все входы пользователя отозваны.",
                    AdminState.reset_password(u.username),
                    "amber",
                ),
                small_confirm(
                    "Сбросить 2FA",
                    "Сбросить 2FA?",
                    "Пользователь подключит её заново при входе.",
                    AdminState.reset_2fa(u.username),
                    "amber",
                ),
                rx.cond(
                    u.is_admin,
                    small_confirm(
                        "Снять админа",
                        "Снять права администратора?",
                        u.username,
                        AdminState.set_admin(u.username, False),
                        "amber",
                    ),
                    small_confirm(
                        "Сделать админом",
                        "Дать права администратора?",
                        "Потребуется 2FA при входе.",
                        AdminState.set_admin(u.username, True),
                        "amber",
                    ),
                ),
                spacing="2",
                wrap="wrap",
            )
        ),
        data_testid="user-row",
    )


def _user_dialogs() -> rx.Component:
    return rx.fragment(
        form_dialog(
            "Новый пользователь",
            AdminState.user_form_error,
            field("Логин", "username", "ivan.petrov", form="user", autocomplete="off"),
            field("Имя", "name", "Иван Петров", form="user"),
            field(
                "Пароль",
                "password",
                "пусто — сгенерируем и покажем один раз",
                "password",
                form="user",
                autocomplete="new-password",
            ),
            rx.checkbox("Администратор (потребуется 2FA при входе)", name="is_admin"),
            on_submit=AdminState.create_user,
            submit_label="Создать",
            open=AdminState.user_form_open,
            on_open_change=AdminState.set_user_form_open,
            max_width="460px",
        ),
        form_dialog(
            rx.text("Имя пользователя ", AdminState.rename_username),
            AdminState.rename_error,
            rx.input(name="name", default_value=AdminState.rename_name, width="100%", aria_label="Имя"),
            on_submit=AdminState.save_rename,
            open=AdminState.rename_username != "",
            on_open_change=AdminState.cancel_rename,
            max_width="420px",
        ),
        rx.dialog.root(
            rx.dialog.content(
                rx.dialog.title("Пароль для ", AdminState.issued_for),
                rx.vstack(
                    rx.code(AdminState.issued_password, size="4", data_testid="issued-password"),
                    rx.text(
                        "Передайте пароль сотруднику лично. Он показан один раз и нигде не хранится в открытом виде.",
                        size="2",
                        color=theme.MUTED,
                    ),
                    rx.hstack(
                        rx.button(
                            rx.icon("copy", size=16),
                            "Скопировать",
                            variant="soft",
                            on_click=[rx.set_clipboard(AdminState.issued_password), rx.toast("Скопировано")],
                        ),
                        rx.dialog.close(rx.button("Готово")),
                        justify="end",
                        spacing="3",
                        width="100%",
                    ),
                    spacing="3",
                ),
                max_width="420px",
            ),
            open=AdminState.issued_password != "",
            on_open_change=AdminState.close_issued,
        ),
    )


def users_tab() -> rx.Component:
    return rx.vstack(
        rx.button("+ Добавить пользователя", on_click=AdminState.new_user),
        data_table(
            ("Имя", "Статус", "Telegram", "Сессий за неделю", "Часов", "Действия"),
            AdminState.people,
            _user_row,
            "860px",
        ),
        _user_dialogs(),
        spacing="3",
        width="100%",
    )
