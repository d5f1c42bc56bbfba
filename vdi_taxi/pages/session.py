"""/session/<slot> (the room) and /session-end/<id> (its summary)."""

import reflex as rx

from components import theme
from components.common import confirm, elapsed, error_box, warning_bar
from components.layout import protected_page
from components.session_warning import ended_reason, session_warning
from services.board import SlotCard
from state.auth import AuthState
from state.board import card, feed_ids, feed_version
from state.session import OpenSlot, SessionEndState, SessionPageState
from vdi_taxi import routes

TOGGLE_FULLSCREEN = (
    "document.fullscreenElement ? document.exitFullscreen() : document.getElementById('room-area').requestFullscreen()"
)


def _ended_elsewhere():
    return (
        (feed_version >= SessionPageState.loaded_version)
        & (SessionPageState.session_id > 0)
        & (card(SessionPageState.slot_id).session_id != SessionPageState.session_id)
    )


def _release_button() -> rx.Component:
    return confirm(
        rx.button("Освободить", color_scheme="red", size="2", loading=SessionPageState.releasing),
        "Завершить сессию?",
        rx.cond(
            SessionPageState.telegram_linked,
            "Слот станет свободен для коллег. Посещённые страницы, файлы и скриншот сессии придут в Telegram.",
            "Слот станет свободен для коллег. Посещённые страницы, файлы и скриншот сессии можно будет скачать "
            "на странице итогов; привяжите Telegram в профиле, чтобы получать их в чат.",
        ),
        SessionPageState.release,
        confirm_label="Да, завершить",
    )


# A phone gives the name up to two lines of smaller type rather than cutting it; wider screens one line.
PHONE_NAME = {
    "font_size": ["14px", "14px", "inherit"],
    "line_height": ["1.2", "1.2", "inherit"],
    "white_space": ["normal", "normal", "nowrap"],
    "overflow_wrap": "anywhere",
    "display": ["-webkit-box", "-webkit-box", "block"],
    "style": {"WebkitLineClamp": "2", "WebkitBoxOrient": "vertical"},
}


def _title() -> rx.Component:
    """The slot's name (two lines at most on a phone, one with an ellipsis wider); on a phone the timer
    and badges sit under it."""
    return rx.flex(
        rx.text(
            SessionPageState.service_name,
            weight="bold",
            min_width="0",
            max_width="100%",
            overflow="hidden",
            text_overflow="ellipsis",
            data_testid="session-name",
            **PHONE_NAME,
        ),
        rx.hstack(
            rx.cond(
                _ended_elsewhere(),
                rx.badge("сессия завершена", color_scheme="red", variant="soft"),
                elapsed(SessionPageState.started_at_ms, "clock", class_name="mono", data_testid="session-timer"),
            ),
            # On a phone the room says it is a demo itself; the bar keeps its width for the controls.
            rx.cond(
                SessionPageState.is_demo_room,
                rx.badge("демо-комната", color_scheme="amber", variant="soft", display=["none", "none", "inline-flex"]),
            ),
            align="center",
            spacing="2",
            max_width="100%",
            overflow="hidden",
            font_size=["12px", "12px", "inherit"],
            color=[theme.MUTED, theme.MUTED, "inherit"],
        ),
        direction=rx.breakpoints(initial="column", sm="row"),
        align=rx.breakpoints(initial="start", sm="center"),
        gap=rx.breakpoints(initial="0", sm="12px"),
        flex="1",
        min_width="0",
    )


def _top_bar() -> rx.Component:
    """Compact on a phone: back, name over timer, fullscreen and «Освободить» always on screen."""
    return rx.hstack(
        rx.link(
            rx.icon("arrow-left", size=20),
            href=routes.DASHBOARD,
            color=theme.MUTED,
            aria_label="На дашборд",
            display="inline-flex",
            align_items="center",
            justify_content="center",
            min_width="40px",
            min_height="40px",
            flex_shrink="0",
        ),
        rx.box(
            width="10px",
            height="10px",
            border_radius="50%",
            background=theme.FREE,
            class_name="pulse-dot",
            flex_shrink="0",
        ),
        _title(),
        rx.cond(
            ~_ended_elsewhere(),
            rx.hstack(
                rx.icon_button(
                    rx.icon("maximize-2", size=18),
                    variant="ghost",
                    color_scheme="gray",
                    size="3",
                    on_click=rx.call_script(TOGGLE_FULLSCREEN),
                    aria_label="Во весь экран",
                ),
                _release_button(),
                align="center",
                spacing=rx.breakpoints(initial="1", sm="3"),
                flex_shrink="0",
            ),
        ),
        align="center",
        spacing=rx.breakpoints(initial="2", sm="3"),
        width="100%",
        min_height=["56px", "56px", "48px"],
        padding_x=["0.5em", "0.5em", "1em"],
        padding_y="4px",
        border_bottom=f"1px solid {theme.CARD_BORDER}",
        background="rgba(11, 18, 32, 0.9)",
        data_testid="session-bar",
    )


def _switch_chip(slot: SlotCard) -> rx.Component:
    current = slot.id == SessionPageState.slot_id
    href = rx.cond(
        SessionPageState.template_id > 0,
        routes.session_page(slot.id, SessionPageState.template_id.to_string()),
        routes.session_page(slot.id),
    )
    return rx.cond(
        slot.busy & (slot.occupant_id == AuthState.user_id),
        rx.link(
            rx.badge(
                slot.service_name,
                size="2",
                variant=rx.cond(current, "solid", "soft"),
                color_scheme=rx.cond(current, "amber", "gray"),
                style={"cursor": "pointer", "white_space": "nowrap"},
            ),
            href=href,
            aria_current=rx.cond(current, "page", "false"),
            data_testid="switch-slot",
        ),
    )


def _switcher() -> rx.Component:
    """The person's other open slots (a template launch takes several) and the task's address."""
    return rx.cond(
        (SessionPageState.open_count > 1) | (SessionPageState.template_url != ""),
        rx.hstack(
            rx.cond(
                SessionPageState.open_count > 1,
                rx.hstack(
                    rx.text("Мои слоты:", size="1", color=theme.MUTED, flex_shrink="0"),
                    rx.foreach(feed_ids, lambda slot_id: _switch_chip(card(slot_id))),
                    spacing="2",
                    align="center",
                    overflow_x="auto",
                ),
            ),
            rx.spacer(),
            rx.cond(
                SessionPageState.template_url != "",
                rx.hstack(
                    rx.text("Адрес задачи:", size="1", color=theme.MUTED, flex_shrink="0"),
                    rx.code(SessionPageState.template_url, size="1", truncate=True, max_width="260px"),
                    rx.icon_button(
                        rx.icon("copy", size=14),
                        size="1",
                        variant="soft",
                        on_click=[
                            rx.set_clipboard(SessionPageState.template_url),
                            rx.toast("Адрес скопирован — вставьте его в удалённый браузер"),
                        ],
                        aria_label="Скопировать адрес задачи",
                    ),
                    spacing="2",
                    align="center",
                ),
            ),
            width="100%",
            padding="0.35em 1em",
            spacing="3",
            align="center",
            wrap="wrap",
            border_bottom=f"1px solid {theme.CARD_BORDER}",
            data_testid="slot-switcher",
        ),
    )


def _idle_banner() -> rx.Component:
    """Shown once the scheduler found the session unattended: time to come back, and «Я здесь»."""
    return rx.cond(
        (card(SessionPageState.slot_id).idle_release_ms > 0) & ~_ended_elsewhere(),
        warning_bar(
            rx.icon("hourglass", size=18),
            rx.text(
                "Вас давно нет в комнате. Слот освободится через ",
                elapsed(card(SessionPageState.slot_id).idle_release_ms, "countdown", class_name="mono"),
                ", если вы не вернётесь.",
                size="2",
            ),
            rx.spacer(),
            rx.button("Я здесь", size="1", color_scheme="amber", on_click=SessionPageState.still_here),
            data_testid="idle-banner",
        ),
    )


def _ended_overlay() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.icon("circle-stop", size=40, color=theme.BUSY),
            rx.heading("Сессия завершена", size="5"),
            ended_reason(),
            rx.link(rx.button("Вернуться на дашборд", variant="soft"), href=routes.DASHBOARD),
            align="center",
            spacing="3",
            padding="2em",
            max_width="420px",
            style=theme.card_style,
            on_mount=SessionPageState.leave_after_end,
        ),
        position="absolute",
        inset="0",
        background="rgba(11, 18, 32, 0.92)",
        data_testid="session-ended-overlay",
    )


def session_page() -> rx.Component:
    return rx.cond(
        AuthState.auth_ready,
        rx.cond(
            SessionPageState.error != "",
            protected_page(
                rx.vstack(
                    error_box(SessionPageState.error),
                    rx.link(rx.button("Вернуться на дашборд"), href=routes.DASHBOARD),
                    spacing="4",
                    max_width="520px",
                )
            ),
            rx.vstack(
                _top_bar(),
                _switcher(),
                session_warning(_ended_elsewhere()),
                _idle_banner(),
                rx.box(
                    rx.cond(
                        SessionPageState.access_url != "",
                        rx.el.iframe(
                            src=SessionPageState.access_url,
                            title="Удалённый браузер",
                            allow="fullscreen *; clipboard-read; clipboard-write; autoplay",
                            width="100%",
                            height="100%",
                            border="0",
                            data_testid="room-frame",
                        ),
                        rx.center(rx.spinner(size="3"), rx.text("Подключение к комнате…"), height="100%"),
                    ),
                    rx.cond(_ended_elsewhere(), _ended_overlay()),
                    id="room-area",
                    position="relative",
                    flex="1",
                    width="100%",
                    background="#000",
                ),
                spacing="0",
                height="100dvh",
                width="100%",
                background=theme.BG,
            ),
        ),
        protected_page(),
    )


def _row(label: str, value) -> rx.Component:
    return rx.hstack(rx.text(label, color=theme.MUTED), rx.spacer(), rx.text(value, weight="medium"), width="100%")


def _dump_card() -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.icon("package", size=18), rx.text("Артефакты сессии", weight="bold"), align="center", spacing="2"),
        rx.cond(
            SessionEndState.dump_status == "ready",
            rx.vstack(
                _row("Вкладок сохранено", SessionEndState.dump_pages),
                _row("Файлов", SessionEndState.dump_files),
                rx.cond(
                    SessionEndState.dump_missing != "",
                    rx.text("Не собрано: ", SessionEndState.dump_missing, size="1", color=theme.MUTED),
                ),
                rx.link(
                    rx.button(
                        rx.icon("download", size=16),
                        "Скачать архив (",
                        SessionEndState.dump_size,
                        ")",
                        variant="soft",
                        width="100%",
                    ),
                    href=SessionEndState.dump_url,
                    is_external=True,
                    width="100%",
                    data_testid="dump-download",
                ),
                width="100%",
                spacing="2",
            ),
            rx.cond(
                SessionEndState.dump_status == "expired",
                rx.text("Архив удалён по сроку хранения", size="2", color=theme.MUTED),
                rx.cond(
                    SessionEndState.dump_status == "failed",
                    rx.hstack(
                        rx.icon("triangle-alert", size=16, color="#f59e0b"),
                        rx.text("Не удалось сохранить: ", SessionEndState.dump_missing, size="2"),
                        align="center",
                        data_testid="dump-failed",
                    ),
                    rx.hstack(
                        rx.spinner(size="1"),
                        rx.text("Собираем страницы, файлы и скриншот…", size="2"),
                        align="center",
                    ),
                ),
            ),
        ),
        _row("Telegram", SessionEndState.telegram_label),
        width="100%",
        spacing="3",
        padding="1.25em",
        style=theme.card_style,
        data_testid="dump-card",
    )


def _open_slot_link(slot: OpenSlot) -> rx.Component:
    return rx.link(
        rx.button(
            rx.icon("monitor-play", size=16), slot.service_name, variant="soft", color_scheme="amber", width="100%"
        ),
        href=routes.session_page(slot.slot_id),
        width="100%",
    )


def session_end_page() -> rx.Component:
    return protected_page(
        rx.center(
            rx.cond(
                SessionEndState.error != "",
                error_box(SessionEndState.error),
                rx.vstack(
                    rx.icon("circle-check", size=48, color=theme.FREE),
                    rx.heading("Сессия завершена", size="6"),
                    rx.vstack(
                        _row("Сервис", SessionEndState.service_name),
                        _row("Время", SessionEndState.time_range),
                        _row("Длительность", SessionEndState.duration),
                        _row("Причина", SessionEndState.reason),
                        width="100%",
                        spacing="3",
                        padding="1.25em",
                        style=theme.card_style,
                        data_testid="session-summary",
                    ),
                    _dump_card(),
                    rx.cond(
                        SessionEndState.still_open.length() > 0,
                        rx.vstack(
                            rx.text("У вас ещё открыты:", size="2", color=theme.MUTED),
                            rx.foreach(SessionEndState.still_open, _open_slot_link),
                            width="100%",
                            spacing="2",
                            data_testid="still-open",
                        ),
                    ),
                    rx.link(rx.button("Вернуться на дашборд", size="3"), href=routes.DASHBOARD),
                    align="center",
                    spacing="4",
                    width="100%",
                    max_width="460px",
                ),
            ),
            padding_top="2em",
        )
    )
