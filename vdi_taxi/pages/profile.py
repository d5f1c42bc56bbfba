"""/profile — Telegram linking (the rest of the profile comes with the admin/profile work)."""

import reflex as rx

from components import theme
from components.layout import protected_page
from state.profile import ProfileState


def _telegram() -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.icon("send", size=18), rx.heading("Telegram", size="4"), align="center", spacing="2"),
        rx.cond(
            ~ProfileState.tg_configured,
            rx.callout(
                "Бот Telegram ещё не настроен администратором. Уведомления сохраняются и придут после настройки.",
                icon="info",
                color_scheme="gray",
            ),
        ),
        rx.cond(
            ProfileState.tg_linked,
            rx.vstack(
                rx.hstack(
                    rx.badge("✓ Привязан", color_scheme="green", size="2"),
                    rx.text("с ", ProfileState.tg_since, color=theme.MUTED, size="2"),
                    align="center",
                ),
                rx.cond(
                    ProfileState.tg_error != "",
                    rx.callout(
                        rx.text("Последняя ошибка доставки: ", ProfileState.tg_error),
                        icon="triangle-alert",
                        color_scheme="red",
                    ),
                ),
                rx.button("Отвязать", variant="soft", color_scheme="red", on_click=ProfileState.unlink),
                spacing="3",
                align="start",
            ),
            rx.vstack(
                rx.text(
                    "Привяжите Telegram, чтобы получать итоги сессий, приглашения из очереди и напоминания о бронях.",
                    size="2",
                    color=theme.MUTED,
                ),
                rx.cond(
                    ProfileState.code != "",
                    rx.vstack(
                        rx.text("Отправьте боту VDI Такси сообщение:", size="2"),
                        rx.code("/start " + ProfileState.code, size="5", data_testid="link-command"),
                        rx.text(
                            "Код одноразовый, действует до ",
                            ProfileState.code_expires,
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
                    rx.cond(ProfileState.code != "", "Новый код", "Получить код привязки"),
                    on_click=ProfileState.new_code,
                ),
                spacing="3",
                align="start",
            ),
        ),
        padding="1.25em",
        style=theme.card_style,
        width="100%",
        max_width="560px",
        spacing="3",
        data_testid="telegram-card",
    )


def profile_page() -> rx.Component:
    return protected_page(
        rx.vstack(
            rx.heading("Профиль", size="6"),
            rx.text(ProfileState.user_name, " · ", ProfileState.username, color=theme.MUTED),
            _telegram(),
            spacing="4",
        )
    )
