"""/admin — utilisation, health of rooms and services, users, templates, audit log (admins only)."""

import reflex as rx

from components import theme
from components.common import confirm, data_table, form_dialog
from components.layout import protected_page
from components.templates import templates_tab
from components.usage import usage_tab
from services.health import RoomRow
from services.journal import AuditRow
from services.slots import SlotRow
from services.users import UserRow
from state.admin import AdminState


def _confirm(label: str, title: str, text, on_confirm, colour: str = "red") -> rx.Component:
    return confirm(
        rx.button(label, size="1", variant="soft", color_scheme=colour), title, text, on_confirm, colour=colour
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
        data_table(("Слот", "Комната", "Кто внутри", "Действия"), AdminState.rooms, _room_row, "720px"),
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


def _service_row(row: SlotRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row.service_name, weight="medium"), rx.text(row.id, size="1", color=theme.MUTED)),
        rx.table.cell(rx.cond(row.tier != "", row.tier, "—")),
        rx.table.cell("$", row.monthly_cost),
        rx.table.cell(rx.badge(row.category, style={"background": row.accent, "color": "white"})),
        rx.table.cell(rx.cond(row.renewal != "", row.renewal, "—")),
        rx.table.cell(
            rx.hstack(
                rx.switch(
                    checked=row.is_active,
                    on_change=lambda v: AdminState.toggle_service(row.id, v),
                    aria_label="Активен",
                ),
                rx.text(rx.cond(row.is_active, "Вкл", "Выкл"), size="2"),
                align="center",
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


def _field(label: str, name: str, placeholder: str = "", type_: str = "text", **props) -> rx.Component:
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


def _service_dialog() -> rx.Component:
    return form_dialog(
        rx.cond(AdminState.form_creating, "Добавить сервис", "Редактировать сервис"),
        AdminState.form_error,
        rx.cond(AdminState.form_creating, _field("ID слота", "id", "ppx-4")),
        _field("Название", "service_name", "Perplexity Max #4"),
        rx.hstack(_field("Тариф", "tier", "Max / Pro / Ultra"), _field("$/мес", "monthly_cost", "200"), width="100%"),
        rx.hstack(
            _field("Категория", "category", "РЕСЕРЧ"), _field("Цвет", "category_accent", "#3b82f6"), width="100%"
        ),
        _field("URL", "url", "https://..."),
        rx.hstack(
            _field("Продление", "renewal_date", "", "date"),
            _field("Макс. сессия, мин", "max_session_minutes", "180"),
            width="100%",
        ),
        rx.hstack(
            _field("Логин подписки", "login", "не меняется, если пусто", autocomplete="off"),
            _field("Пароль подписки", "password", "не меняется, если пусто", "password", autocomplete="new-password"),
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


def _services() -> rx.Component:
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
                rx.button("✎ Имя", size="1", variant="soft", on_click=AdminState.start_rename(u.username)),
                _confirm(
                    "Сбросить пароль",
                    "Сбросить пароль?",
                    "Будет создан новый пароль, все входы пользователя отозваны.",
                    AdminState.reset_password(u.username),
                    "amber",
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


def _user_dialogs() -> rx.Component:
    return rx.fragment(
        form_dialog(
            "Новый пользователь",
            AdminState.user_form_error,
            _field("Логин", "username", "ivan.petrov", autocomplete="off"),
            _field("Имя", "name", "Иван Петров"),
            _field(
                "Пароль", "password", "пусто — сгенерируем и покажем один раз", "password", autocomplete="new-password"
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


def _users() -> rx.Component:
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
        data_table(("Время", "Событие", "Кто", "Объект", "Подробности", "IP"), AdminState.audit, _audit_row, "760px"),
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
                rx.tabs.content(_services(), value="services", padding_top="1em"),
                rx.tabs.content(_users(), value="users", padding_top="1em"),
                rx.tabs.content(templates_tab(), value="templates", padding_top="1em"),
                rx.tabs.content(_health(), value="health", padding_top="1em"),
                rx.tabs.content(_audit(), value="audit", padding_top="1em"),
                default_value="usage",
                on_change=AdminState.open_tab,
                width="100%",
            ),
            width="100%",
            spacing="3",
        )
    )
