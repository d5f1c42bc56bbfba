"""/onboarding — 2FA, Telegram, install the app, how it works (v4's three steps, improved)."""

import reflex as rx

from components import theme
from components.common import brand
from state.auth import AuthState
from state.profile import OnboardingState
from vdi_taxi import routes
from vdi_taxi.pages.profile import telegram_card

STEPS = [
    ("shield-check", "Защита"),
    ("send", "Telegram"),
    ("smartphone", "Приложение"),
    ("circle-play", "Как это работает"),
]


def _stepper() -> rx.Component:
    def dot(i: int, icon: str, label: str) -> rx.Component:
        active = OnboardingState.step >= i
        return rx.vstack(
            rx.center(
                rx.icon(icon, size=18),
                width="40px",
                height="40px",
                border_radius="50%",
                background=rx.cond(active, "#6366f1", theme.CARD),
                border=f"1px solid {theme.CARD_BORDER}",
                cursor="pointer",
                on_click=OnboardingState.go(i),
            ),
            rx.text(label, size="1", color=rx.cond(active, "white", theme.MUTED)),
            align="center",
            spacing="1",
        )

    return rx.hstack(
        *(dot(i, icon, label) for i, (icon, label) in enumerate(STEPS)), spacing="5", justify="center", width="100%"
    )


def _nav(next_label: str = "Далее") -> rx.Component:
    return rx.hstack(
        rx.cond(
            OnboardingState.step > 0,
            rx.button(
                "Назад", variant="soft", color_scheme="gray", on_click=OnboardingState.go(OnboardingState.step - 1)
            ),
        ),
        rx.spacer(),
        rx.button(next_label, on_click=OnboardingState.go(OnboardingState.step + 1)),
        width="100%",
    )


def _step_2fa() -> rx.Component:
    return rx.vstack(
        rx.heading("Двухфакторная защита", size="5"),
        rx.cond(
            AuthState.has_2fa,
            rx.badge("✓ Подключена", color_scheme="green", size="2"),
            rx.vstack(
                rx.text(
                    "Код из приложения-аутентификатора защищает доступ к дорогим подпискам, даже если пароль узнают.",
                    color=theme.MUTED,
                ),
                rx.link(rx.button("Подключить 2FA"), href=routes.ENROL_2FA),
                spacing="3",
            ),
        ),
        _nav(),
        spacing="4",
        width="100%",
    )


def _step_telegram() -> rx.Component:
    return rx.vstack(
        rx.heading("Привяжите Telegram", size="5"),
        rx.text("Мы будем уведомлять вас о статусе сессий и бронирований через Telegram.", color=theme.MUTED),
        telegram_card(OnboardingState),
        _nav(rx.cond(OnboardingState.tg_linked, "Далее", "Пропустить")),
        spacing="4",
        width="100%",
    )


def _step_install() -> rx.Component:
    return rx.vstack(
        rx.heading("Добавьте на рабочий стол", size="5"),
        rx.text(
            "Chrome или Edge: ⋮ → «Установить приложение». Safari на iPhone: «Поделиться» → «На экран "
            "«Домой»». VDI Такси откроется в своём окне и будет запускаться быстрее.",
            color=theme.MUTED,
        ),
        _nav(),
        spacing="4",
        width="100%",
    )


def _step_how() -> rx.Component:
    items = [
        "Выберите сервис на дашборде и нажмите «Занять» — или забронируйте время в календаре 📅.",
        "Работайте в удалённом браузере как обычно: он уже вошёл в подписку.",
        "Нажмите «Освободить» — посещённые страницы, файлы и скриншот придут в Telegram.",
        "Слот занят? Встаньте в очередь: когда он освободится, он будет ваш несколько минут.",
    ]
    return rx.vstack(
        rx.heading("Как это работает", size="5"),
        *(
            rx.hstack(rx.badge(str(i + 1), radius="full"), rx.text(t), align="start", spacing="3")
            for i, t in enumerate(items)
        ),
        rx.hstack(
            rx.button("Назад", variant="soft", color_scheme="gray", on_click=OnboardingState.go(2)),
            rx.spacer(),
            rx.button("Начать работу", color_scheme="green", on_click=OnboardingState.finish),
            width="100%",
        ),
        spacing="4",
        width="100%",
    )


def onboarding_page() -> rx.Component:
    return rx.center(
        rx.vstack(
            brand("7"),
            _stepper(),
            rx.text("Шаг ", OnboardingState.step + 1, " из 4", size="2", color=theme.MUTED),
            rx.box(
                rx.match(
                    OnboardingState.step, (0, _step_2fa()), (1, _step_telegram()), (2, _step_install()), _step_how()
                ),
                padding="1.5em",
                style=theme.card_style,
                width="100%",
            ),
            align="center",
            spacing="4",
            width="100%",
            max_width="560px",
        ),
        min_height="100vh",
        padding="1em",
        background=theme.BG,
    )
