"""The app: pages (only through pages.registry.page), HTTP routes and lifespan tasks. No logic lives here."""

from pathlib import Path

import reflex as rx
from starlette.applications import Starlette

from components.connection import overlay as connection_overlay
from components.error_screen import error_boundary
from services import runtime
from services.core.settings import get_settings
from state.admin import AdminState
from state.board import BoardFeed, publish_board
from state.booking import BookingState
from state.calendar import CalendarState
from state.dashboard import DashboardState
from state.errors import backend_error
from state.login import EnrolState, LoginState
from state.profile import OnboardingState, ProfileState
from state.session import SessionEndState, SessionPageState
from state.tab_binding import install as bind_tabs_to_logins
from state.templates import TemplatesState
from state.usage import UsageState
from vdi_taxi import logs, routes
from vdi_taxi.build import versioned
from vdi_taxi.http_routes import ROUTES
from vdi_taxi.lifespan import keep_rooms_reconciled, run_scheduler, run_telegram
from vdi_taxi.pages.admin import admin_page
from vdi_taxi.pages.calendar import calendar_page
from vdi_taxi.pages.dashboard import dashboard_page
from vdi_taxi.pages.login import enrol_page, login_page
from vdi_taxi.pages.not_found import not_found_page
from vdi_taxi.pages.onboarding import onboarding_page
from vdi_taxi.pages.profile import profile_page
from vdi_taxi.pages.registry import Access, page
from vdi_taxi.pages.session import session_end_page, session_page
from vdi_taxi.security_headers import with_security_headers
from vdi_taxi.socket_gate import with_socket_gate

LOAD_GUARD = (Path(__file__).resolve().parent.parent / "assets" / "load_guard.js").read_text(encoding="utf-8")

# Refuse to start on a bad configuration (e.g. a short secret in production).
logs.configure(get_settings().log_level)  # our INFO lines on stderr, client tokens redacted
runtime.configure()

app = rx.App(
    # Routes first, then the gate of the event socket (only client tokens the frontend makes),
    # then the wrapper around everything (Reflex's own endpoints and the compiled frontend it
    # mounts included), so every HTTP response has the security headers.
    api_transformer=[Starlette(routes=ROUTES), with_socket_gate, with_security_headers],
    head_components=[
        # First, inline: catches a page part that failed to load (the network changed mid-load).
        rx.el.script(LOAD_GUARD),
        # Plain tags in the prerendered head: rx.script would pull react-helmet into every page.
        # Versioned with the build (vdi_taxi/build.py): a deploy reaches installed apps on their next start.
        rx.el.script(src=versioned("/clock.js"), defer=True),
        rx.el.script(src=versioned("/presence.js"), defer=True),
        rx.el.script(src=versioned("/pwa.js"), defer=True),
        rx.el.link(rel="stylesheet", href=versioned("/app.css")),
        rx.el.link(rel="manifest", href="/manifest.json"),
        rx.el.link(rel="apple-touch-icon", href="/icon-192.png"),
        rx.el.meta(name="theme-color", content="#0b1220"),
    ],
    html_lang="ru",
    # Screen readers name the toast region; sonner's own name is English («Notifications alt+T»).
    toaster=rx.toast.provider(custom_attrs={"customAriaLabel": "Уведомления"}),
    backend_exception_handler=backend_error,
    style={"font_family": "Inter, system-ui, sans-serif"},
)
# Our Russian connection banner instead of Reflex's English toast and wifi icon.
app.app_wraps[(5, "Overlay")] = connection_overlay
# And our Russian screen for a page that fails to render, instead of Reflex's English one.
app.app_wraps[(55, "ErrorBoundary")] = error_boundary
bind_tabs_to_logins(app)  # a tab's state is reset before it is served to another login
app.register_lifespan_task(publish_board)
app.register_lifespan_task(keep_rooms_reconciled)
app.register_lifespan_task(run_scheduler)
app.register_lifespan_task(run_telegram)

PUBLIC, USER, ADMIN = Access.PUBLIC, Access.USER, Access.ADMIN

page(app, not_found_page, route=routes.NOT_FOUND, title="Страница не найдена", access=PUBLIC)
page(app, login_page, route=routes.LOGIN, title="Вход", access=PUBLIC, on_load=[LoginState.redirect_if_logged_in])
# Enrolment checks the login itself: a user who must enrol 2FA cannot pass the USER guard yet.
page(app, enrol_page, route=routes.ENROL_2FA, title="2FA", access=PUBLIC, on_load=[EnrolState.load])
page(
    app,
    dashboard_page,
    route=routes.DASHBOARD,
    title="",
    access=USER,
    on_load=[DashboardState.load, TemplatesState.load_templates, BookingState.load_mine, BoardFeed.join],
)
page(
    app,
    session_page,
    route=routes.SESSION,
    title="Сессия",
    access=USER,
    on_load=[SessionPageState.load, BoardFeed.join],
)
page(
    app,
    session_end_page,
    route=routes.SESSION_END,
    title="Сессия завершена",
    access=USER,
    on_load=[SessionEndState.load],
)
page(app, calendar_page, route=routes.CALENDAR, title="Календарь", access=USER, on_load=[CalendarState.load])
page(app, profile_page, route=routes.PROFILE, title="Профиль", access=USER, on_load=[ProfileState.load])
page(
    app,
    admin_page,
    route=routes.ADMIN,
    title="Админ-панель",
    access=ADMIN,
    on_load=[AdminState.load, UsageState.load_usage, TemplatesState.load_admin],
)
page(
    app,
    onboarding_page,
    route=routes.ONBOARDING,
    title="Добро пожаловать",
    access=USER,
    on_load=[OnboardingState.load_onboarding],
)
