"""What an operator reads in the app's log: logins (and failed ones) with their address, and
which process runs the background jobs. No client token ever appears there."""

from __future__ import annotations

import re
import time

from tests.e2e.conftest import login
from vdi_taxi.log_privacy import UUID_RE


def _log_shows(path, pattern: str, timeout: float = 15) -> str:
    deadline = time.monotonic() + timeout
    while True:
        text = path.read_text(errors="replace")
        if re.search(pattern, text):
            return text
        if time.monotonic() > deadline:
            raise AssertionError(f"the app log never showed {pattern!r}; its end:\n{text[-2000:]}")
        time.sleep(0.2)


def test_the_app_log_names_logins_failed_logins_and_the_process_running_each_job(live_app, new_context, account):
    anna = account("Анна")
    page = new_context().new_page()
    page.goto(f"{live_app.url}/login")
    page.get_by_label("Логин").fill(anna.username)
    page.get_by_label("Пароль").fill("wrong-password")
    page.get_by_role("button", name="Войти").click()
    _log_shows(live_app.log_path, rf"INFO services\.core\.audit: login_failed {anna.username} from 127\.0\.0\.1")
    login(page, live_app.url, anna)
    text = _log_shows(live_app.log_path, rf"INFO services\.core\.audit: login {anna.username} from 127\.0\.0\.1")
    assert re.search(r"INFO services\.core\.leases: \S+:\d+ runs scheduler now", text)
    assert re.search(r"INFO services\.core\.leases: \S+:\d+ runs telegram now", text)
    assert not UUID_RE.search(text), "a client token reached the log"
