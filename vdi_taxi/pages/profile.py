"""/profile — Telegram linking (the rest of the profile comes with the admin/profile work)."""

import reflex as rx

from components import theme
from components.layout import protected_page
from services.session_views import HistoryItem
from state.profile import ProfileState
from vdi_taxi import routes


def _section(icon: str, title: str, *children: rx.Component, **props) -> rx.Component:
    """One card of the profile: an icon and a heading over its content."""
    return rx.vstack(
        rx.hstack(rx.icon(icon, size=18), rx.heading(title, size="4"), align="center", spacing="2"),
        *children,
        padding="1.25em",
        style=theme.card_style,
        width="100%",
        max_width="560px",
        spacing="3",
        **props,
    )


def _bot_name(state) -> rx.Component:
    """Which bot to write to, as @name and a t.me link (known once the bot has started)."""
    return rx.cond(
        state.tg_bot != "",
        rx.text(
            "Бот уведомлений: ",
            rx.link("@", state.tg_bot, href=state.bot_link, is_external=True, data_testid="bot-name"),
            size="2",
        ),
    )


def telegram_card(state=ProfileState) -> rx.Component:
    return _section(
        "send",
        "Telegram",
        rx.cond(
            ~state.tg_configured,
            rx.callout(
                "Бот Telegram ещё не настроен администратором. Уведомления сохраняются и придут после настройки.",
                icon="info",
                color_scheme="gray",
            ),
        ),
        rx.cond(
            state.tg_linked,
            rx.vstack(
                rx.hstack(
                    rx.badge("✓ Привязан", color_scheme="green", size="2"),
                    rx.text("с ", state.tg_since, color=theme.MUTED, size="2"),
                    align="center",
                ),
                _bot_name(state),
                rx.cond(
                    state.tg_error != "",
                    rx.callout(
                        rx.text("Последняя ошибка доставки: ", state.tg_error),
                        icon="triangle-alert",
                        color_scheme="red",
                    ),
                ),
                rx.button("Отвязать", variant="soft", color_scheme="red", on_click=state.unlink),
                spacing="3",
                align="start",
            ),
            rx.vstack(
                rx.text(
                    "Привяжите Telegram, чтобы получать итоги сессий, приглашения из очереди и напоминания о бронях.",
                    size="2",
                    color=theme.MUTED,
                ),
                _bot_name(state),
                rx.cond(
                    state.code != "",
                    rx.vstack(
                        rx.cond(
                            state.tg_bot != "",
                            rx.text("Отправьте боту ", rx.text.strong("@", state.tg_bot), " сообщение:", size="2"),
                            rx.text("Отправьте боту VDI Такси сообщение:", size="2"),
                        ),
                        rx.code("/start " + state.code, size="5", data_testid="link-command"),
                        rx.cond(
                            state.tg_bot != "",
                            rx.link(
                                rx.button(rx.icon("send", size=16), "Открыть бота в Telegram", variant="soft"),
                                href=state.bot_link,
                                is_external=True,
                                data_testid="bot-link",
                            ),
                        ),
                        rx.text(
                            "Код одноразовый, действует до ",
                            state.code_expires,
                            ".",
                            size="1",
                            color=theme.MUTED,
                        ),
                        rx.hstack(rx.spinner(size="1"), rx.text("Ждём сообщения в боте…", size="1"), align="center"),
                        spacing="2",
                        align="start",
                    ),
                ),
                rx.button(
                    rx.cond(state.code != "", "Новый код", "Получить код привязки"),
                    on_click=state.new_code,
                ),
                spacing="3",
                align="start",
            ),
        ),
        data_testid="telegram-card",
    )


def _history_row(item: HistoryItem) -> rx.Component:
    return rx.hstack(
        rx.icon("clock", size=16, color=theme.MUTED),
        rx.vstack(
            rx.text(item.service_name, size="2", weight="medium"),
            rx.text(item.when, " — ", item.duration, " · ", item.reason, size="1", color=theme.MUTED),
            spacing="0",
        ),
        rx.spacer(),
        rx.cond(
            item.dump_url != "",
            rx.link(
                rx.icon_button(rx.icon("download", size=16), variant="ghost", aria_label="Скачать дамп"),
                href=item.dump_url,
                is_external=True,
            ),
        ),
        rx.link(
            rx.icon_button(rx.icon("chevron-right", size=16), variant="ghost", aria_label="Итоги сессии"),
            href=routes.session_end_page(item.session_id.to_string()),
        ),
        align="center",
        width="100%",
        padding_y="0.4em",
        border_bottom=f"1px solid {theme.CARD_BORDER}",
        data_testid="history-row",
    )


def _history() -> rx.Component:
    return _section(
        "history",
        "История сессий",
        rx.cond(
            ProfileState.history.length() > 0,
            rx.vstack(rx.foreach(ProfileState.history, _history_row), width="100%", spacing="0"),
            rx.text("Нет завершённых сессий", color=theme.MUTED, size="2"),
        ),
    )


def _two_factor_card() -> rx.Component:
    """2FA for someone who skipped it at first login: the same enrolment, reached from here."""
    return _section(
        "shield-check",
        "Двухфакторная защита",
        rx.cond(
            ProfileState.has_2fa,
            rx.badge("✓ Подключена", color_scheme="green", size="2", data_testid="two-factor-on"),
            rx.vstack(
                rx.text(
                    "Не подключена. Код из приложения-аутентификатора защищает доступ к подпискам, "
                    "даже если пароль узнают.",
                    size="2",
                    color=theme.MUTED,
                ),
                rx.link(rx.button("Подключить 2FA"), href=routes.enrol_2fa_page(from_profile=True)),
                spacing="3",
                align="start",
            ),
        ),
        data_testid="two-factor-card",
    )


def _calendar_card() -> rx.Component:
    return _section(
        "calendar-plus",
        "Календарь",
        rx.text(
            "Ссылка .ics на ваши брони — секретная: кто её знает, видит ваши брони. "
            "Если она могла попасть к посторонним, замените её.",
            size="2",
            color=theme.MUTED,
        ),
        rx.cond(
            ProfileState.ics_rotated,
            rx.text("Новая ссылка — на странице «Календарь».", size="2", color=theme.MUTED),
        ),
        rx.button(
            rx.icon("refresh-cw", size=16),
            "Заменить ссылку календаря",
            variant="soft",
            on_click=ProfileState.rotate_ics,
            data_testid="rotate-ics",
        ),
    )


def profile_page() -> rx.Component:
    return protected_page(
        rx.vstack(
            rx.heading("Профиль", size="6"),
            rx.text(ProfileState.user_name, " · ", ProfileState.username, color=theme.MUTED),
            telegram_card(),
            _two_factor_card(),
            _calendar_card(),
            _history(),
            spacing="4",
        )
    )
