"""/admin — health of rooms and services, users, audit log (admins only)."""

import reflex as rx

from components import theme
from components.layout import protected_page
from services.admin import AuditRow, RoomRow, UserRow
from state.admin import AdminState


def _confirm(label: str, title: str, text, on_confirm, colour: str = "red") -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(rx.button(label, size="1", variant="soft", color_scheme=colour)),
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(text),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Отмена", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(rx.button("Да", color_scheme=colour, on_click=on_confirm)),
                justify="end",
                spacing="3",
                margin_top="1em",
            ),
        ),
    )


def _room_row(room: RoomRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(room.service_name, weight="medium"), rx.text(room.slot_id, size="1", color=theme.MUTED)),
        rx.table.cell(
            rx.badge(
                room.state,
                color_scheme=rx.match(
                    room.state,
                    ("ready", "green"),
                    ("demo", "gray"),
                    ("starting", "amber"),
                    ("resetting", "amber"),
                    "red",
                ),
            ),
            rx.text(room.detail, size="1", color=theme.MUTED),
        ),
        rx.table.cell(
            rx.cond(
                room.occupant != "",
                rx.text(room.occupant, " ", room.since, size="2"),
                rx.text("свободна", size="2", color=theme.MUTED),
            )
        ),
        rx.table.cell(
            rx.hstack(
                rx.cond(
                    room.state != "demo",
                    rx.hstack(
                        rx.button("Скриншот", size="1", variant="soft", on_click=AdminState.screenshot(room.slot_id)),
                        _confirm(
                            "Перезапуск",
                            "Перезапустить комнату?",
                            "Текущий пользователь потеряет соединение на несколько секунд.",
                            AdminState.room_action(room.slot_id, "restart"),
                            "amber",
                        ),
                        _confirm(
                            "Пересоздать",
                            "Пересоздать контейнер?",
                            "Новый образ и настройки; профиль и загрузки сохранятся.",
                            AdminState.room_action(room.slot_id, "recreate"),
                            "amber",
                        ),
                        _confirm(
                            "Отключить всех",
                            "Отключить всех от комнаты?",
                            "Сессия в слоте останется.",
                            AdminState.room_action(room.slot_id, "kick"),
                        ),
                        spacing="2",
                        wrap="wrap",
                    ),
                ),
                rx.cond(
                    room.occupant != "",
                    _confirm(
                        "Освободить",
                        "Освободить слот?",
                        rx.text("Сессия ", room.occupant, " завершится сейчас же."),
                        AdminState.force_release(room.slot_id),
                    ),
                ),
                spacing="2",
                wrap="wrap",
            )
        ),
        data_testid="room-row",
    )


def _stat(label: str, value) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", color=theme.MUTED),
        rx.text(value, weight="bold"),
        spacing="1",
        padding="0.75em 1em",
        style=theme.card_style,
        min_width="180px",
    )


def _health() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            _stat("Docker", AdminState.docker),
            _stat("Планировщик", AdminState.scheduler),
            _stat("Очередь сообщений", AdminState.outbox_pending),
            _stat("Ошибки доставки", AdminState.outbox_failed),
            rx.spacer(),
            rx.button(rx.icon("refresh-cw", size=16), "Обновить", variant="outline", on_click=AdminState.refresh),
            wrap="wrap",
            spacing="3",
            width="100%",
            align="center",
        ),
        rx.table.root(
            rx.table.header(
                rx.table.row(*(rx.table.column_header_cell(h) for h in ("Слот", "Комната", "Кто внутри", "Действия")))
            ),
            rx.table.body(rx.foreach(AdminState.rooms, _room_row)),
            width="100%",
        ),
        rx.dialog.root(
            rx.dialog.content(
                rx.dialog.title("Скриншот: ", AdminState.screenshot_slot),
                rx.image(src=AdminState.screenshot_src, width="100%", alt="Скриншот комнаты"),
                max_width="900px",
            ),
            open=AdminState.screenshot_src != "",
            on_open_change=AdminState.close_screenshot,
        ),
        spacing="4",
        width="100%",
    )


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
                    _confirm(
                        "Отключить",
                        "Отключить пользователя?",
                        "Все его входы будут отозваны сразу.",
                        AdminState.set_active(u.username, False),
                    ),
                    rx.button("Включить", size="1", variant="soft", on_click=AdminState.set_active(u.username, True)),
                ),
                _confirm(
                    "Сбросить 2FA",
                    "Сбросить 2FA?",
                    "Пользователь подключит её заново при входе.",
                    AdminState.reset_2fa(u.username),
                    "amber",
                ),
                rx.cond(
                    u.is_admin,
                    _confirm(
                        "Снять админа",
                        "Снять права администратора?",
                        u.username,
                        AdminState.set_admin(u.username, False),
                        "amber",
                    ),
                    _confirm(
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


def _users() -> rx.Component:
    return rx.table.root(
        rx.table.header(
            rx.table.row(
                *(
                    rx.table.column_header_cell(h)
                    for h in ("Имя", "Статус", "Telegram", "Сессий за неделю", "Часов", "Действия")
                )
            )
        ),
        rx.table.body(rx.foreach(AdminState.people, _user_row)),
        width="100%",
    )


def _audit_row(a: AuditRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(a.at),
        rx.table.cell(rx.badge(a.kind, variant="soft")),
        rx.table.cell(a.actor),
        rx.table.cell(a.subject),
        rx.table.cell(a.detail),
        rx.table.cell(a.client_ip),
        data_testid="audit-row",
    )


def _audit() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text("Событие:", size="2"),
            rx.select(
                AdminState.audit_kinds,
                value=rx.cond(AdminState.audit_filter == "", "все", AdminState.audit_filter),
                on_change=AdminState.set_audit_filter,
                aria_label="Фильтр событий",
            ),
            align="center",
            spacing="2",
        ),
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *(
                        rx.table.column_header_cell(h)
                        for h in ("Время", "Событие", "Кто", "Объект", "Подробности", "IP")
                    )
                )
            ),
            rx.table.body(rx.foreach(AdminState.audit, _audit_row)),
            width="100%",
        ),
        width="100%",
        spacing="3",
    )


def admin_page() -> rx.Component:
    return protected_page(
        rx.vstack(
            rx.link("← Назад к дашборду", href="/", size="2"),
            rx.heading("Админ-панель", size="6"),
            rx.tabs.root(
                rx.tabs.list(
                    rx.tabs.trigger("Здоровье", value="health"),
                    rx.tabs.trigger("Пользователи", value="users"),
                    rx.tabs.trigger("Журнал", value="audit"),
                ),
                rx.tabs.content(_health(), value="health", padding_top="1em"),
                rx.tabs.content(_users(), value="users", padding_top="1em"),
                rx.tabs.content(_audit(), value="audit", padding_top="1em"),
                default_value="health",
                width="100%",
            ),
            width="100%",
            spacing="3",
        )
    )
