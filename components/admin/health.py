"""The admin «Здоровье» tab: Docker, scheduler and delivery at a glance, each room with its actions."""

import reflex as rx

from components import theme
from components.admin.common import small_confirm
from components.common import data_table
from services.health import HostRow, RoomRow
from state.admin import AdminState


def _room_row(room: RoomRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(room.service_name, weight="medium"), rx.text(room.slot_id, size="1", color=theme.MUTED)),
        rx.table.cell(
            rx.badge(
                room.state_label,
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
            rx.text(room.host, size="2"),
            rx.cond(room.pinned, rx.text("закреплена", size="1", color=theme.MUTED)),
        ),
        rx.table.cell(
            rx.cond(
                room.occupant != "",
                rx.vstack(
                    rx.text(room.occupant, " ", room.since, size="2"),
                    rx.text(room.idle, size="1", color=theme.MUTED, data_testid="room-idle"),
                    spacing="0",
                ),
                rx.text("свободна", size="2", color=theme.MUTED),
            )
        ),
        rx.table.cell(
            rx.hstack(
                rx.cond(
                    room.state != "demo",
                    rx.hstack(
                        rx.button("Скриншот", size="1", variant="soft", on_click=AdminState.screenshot(room.slot_id)),
                        small_confirm(
                            "Перезапуск",
                            "Перезапустить комнату?",
                            "Текущий пользователь потеряет соединение на несколько секунд.",
                            AdminState.room_action(room.slot_id, "restart"),
                            "amber",
                        ),
                        small_confirm(
                            "Пересоздать",
                            "Пересоздать контейнер?",
                            "Новый образ и настройки; профиль и загрузки сохранятся.",
                            AdminState.room_action(room.slot_id, "recreate"),
                            "amber",
                        ),
                        small_confirm(
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
                    (room.state != "demo") & (AdminState.host_names.length() > 1),
                    rx.menu.root(
                        rx.menu.trigger(
                            rx.button(
                                "Перенести",
                                size="1",
                                variant="soft",
                                loading=AdminState.busy == room.slot_id + ":move",
                            )
                        ),
                        rx.menu.content(
                            rx.foreach(
                                AdminState.host_names,
                                lambda name: rx.menu.item(
                                    "На хост ",
                                    name,
                                    disabled=name == room.host,
                                    on_click=AdminState.move_room(room.slot_id, name),
                                ),
                            )
                        ),
                    ),
                ),
                rx.cond(
                    room.occupant != "",
                    small_confirm(
                        "Освободить",
                        "Освободить слот?",
                        rx.text("Сессия пользователя ", rx.text.strong(room.occupant), " будет завершена немедленно."),
                        AdminState.force_release(room.slot_id),
                    ),
                ),
                spacing="2",
                wrap="wrap",
            )
        ),
        data_testid="room-row",
    )


def _host_row(host: HostRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(host.name, weight="medium")),
        rx.table.cell(rx.badge(host.state, color_scheme=rx.cond(host.answers, "green", "red"))),
        rx.table.cell(rx.text(host.memory, size="2")),
        rx.table.cell(rx.text(host.rooms, size="2")),
        data_testid="host-row",
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


def health_tab() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            _stat("Docker", AdminState.docker),
            _stat("Планировщик", AdminState.scheduler),
            _stat("Очередь сообщений", AdminState.outbox_pending),
            _stat("Ошибки доставки", AdminState.outbox_failed),
            rx.spacer(),
            rx.text(
                "Обновлено: ", AdminState.health_checked, size="2", color=theme.MUTED, data_testid="health-checked"
            ),
            rx.button(rx.icon("refresh-cw", size=16), "Обновить", variant="outline", on_click=AdminState.refresh),
            wrap="wrap",
            spacing="3",
            width="100%",
            align="center",
        ),
        rx.cond(
            AdminState.hosts.length() > 0,
            data_table(("Хост", "Состояние", "Память", "Комнаты"), AdminState.hosts, _host_row, "720px"),
        ),
        data_table(("Слот", "Комната", "Хост", "Кто внутри", "Действия"), AdminState.rooms, _room_row, "820px"),
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
