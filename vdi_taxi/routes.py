"""Route constants, so pages, redirects and tests agree on paths."""

LOGIN = "/login"
ENROL_2FA = "/2fa"
DASHBOARD = "/"
SESSION = "/session/[slot]"
SESSION_END = "/session-end/[session_id]"
CALENDAR = "/calendar"
PROFILE = "/profile"
ADMIN = "/admin"
ONBOARDING = "/onboarding"


def session_page(slot_id: str) -> str:
    return f"/session/{slot_id}"


def session_end_page(session_id: int) -> str:
    return f"/session-end/{session_id}"
