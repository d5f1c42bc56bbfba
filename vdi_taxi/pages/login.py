"""/login and /2fa."""

import reflex as rx

from components import theme
from components.common import brand, error_box, labelled_input
from state.login import EnrolState, LoginState


def _centered(*children: rx.Component) -> rx.Component:
    return rx.center(
        rx.vstack(*children, align="center", spacing="5", width="100%", max_width="400px"),
        min_height="100vh",
        padding="1em",
        background=theme.BG,
    )


def login_page() -> rx.Component:
    return _centered(
        rx.vstack(
            brand("8"),
            rx.text("Портал бронирования AI-сервисов", color=theme.MUTED),
            align="center",
            spacing="1",
        ),
        rx.form(
            rx.vstack(
                rx.cond(LoginState.error != "", error_box(LoginState.error)),
                labelled_input(
                    "Логин",
                    "username",
                    name="username",
                    placeholder="admin",
                    auto_focus=True,
                    auto_complete="username",
                    size="3",
                ),
                labelled_input(
                    "Пароль",
                    "password",
                    name="password",
                    type="password",
                    placeholder="••••••••",
                    auto_complete="current-password",
                    size="3",
                ),
                labelled_input(
                    rx.fragment("Код 2FA ", rx.text("(если подключён)", color=theme.MUTED, as_="span")),
                    "totp_code",
                    name="totp_code",
                    placeholder="123456",
                    input_mode="numeric",
                    auto_complete="one-time-code",
                    max_length=6,
                    size="3",
                    letter_spacing="0.3em",
                ),
                rx.button(
                    rx.cond(LoginState.pending, "Вход...", "Войти"),
                    type="submit",
                    size="3",
                    width="100%",
                    loading=LoginState.pending,
                    # Until the page is live, a click (or Enter) would make the browser submit the
                    # form itself: a GET that puts the login and password into the address.
                    disabled=~rx.State.is_hydrated,
                    margin_top="0.5em",
                ),
                spacing="2",
                width="100%",
            ),
            on_submit=LoginState.submit,
            reset_on_submit=False,
            width="100%",
            padding="1.5em",
            style=theme.card_style,
        ),
    )


def enrol_page() -> rx.Component:
    return _centered(
        brand("7"),
        rx.vstack(
            rx.heading("Подключите двухфакторную защиту", size="5"),
            rx.text(
                "Отсканируйте QR-код в Google Authenticator, Яндекс Ключе или другом приложении "
                "и введите 6-значный код из него.",
                color=theme.MUTED,
                size="2",
            ),
            rx.cond(
                EnrolState.qr_data_uri != "",
                rx.center(
                    rx.image(
                        src=EnrolState.qr_data_uri, width="200px", height="200px", alt="QR-код 2FA", border_radius="8px"
                    ),
                    width="100%",
                ),
            ),
            rx.text("Или введите ключ вручную:", size="2", color=theme.MUTED),
            rx.code(EnrolState.secret, size="3", data_testid="totp-secret", style={"word_break": "break-all"}),
            rx.cond(EnrolState.error != "", error_box(EnrolState.error)),
            rx.form(
                rx.vstack(
                    rx.input(
                        name="code",
                        placeholder="123456",
                        input_mode="numeric",
                        auto_complete="one-time-code",
                        max_length=6,
                        size="3",
                        width="100%",
                        letter_spacing="0.3em",
                        aria_label="Код из приложения",
                    ),
                    rx.button("Подтвердить", type="submit", size="3", width="100%"),
                    width="100%",
                ),
                on_submit=EnrolState.confirm,
                width="100%",
            ),
            rx.cond(
                EnrolState.may_skip,
                rx.button(
                    rx.cond(EnrolState.from_profile, "Не сейчас", "Пропустить пока"),
                    variant="ghost",
                    color_scheme="gray",
                    on_click=EnrolState.skip,
                    width="100%",
                ),
                rx.text("Для администраторов 2FA обязательна.", size="1", color=theme.MUTED),
            ),
            spacing="3",
            width="100%",
            padding="1.5em",
            style=theme.card_style,
        ),
    )
