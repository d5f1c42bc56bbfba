"""HTTP client for the Neko v3 REST API (the subset VDI Taxi uses)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import httpx


class NekoError(Exception):
    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status

    @property
    def unreachable(self) -> bool:
        return self.status is None


@dataclass(frozen=True)
class NekoSession:
    id: str
    member_name: str
    is_admin: bool
    is_connected: bool
    connected_since: datetime | None
    not_connected_since: datetime | None


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


# What a per-session member may do: work in the browser, nothing administrative.
MEMBER_PROFILE = {
    "is_admin": False,
    "can_login": True,
    "can_connect": True,
    "can_watch": True,
    "can_host": True,
    "can_share_media": True,
    "can_access_clipboard": True,
    "sends_inactive_cursor": True,
    "can_see_inactive_cursors": False,
}


class NekoClient:
    def __init__(self, base_url: str, token: str, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs) -> httpx.Response:
        try:
            resp = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise NekoError(f"{method} {path}: {exc.__class__.__name__}") from exc
        if resp.status_code >= 400:
            try:
                message = resp.json().get("message", resp.text)
            except ValueError:
                message = resp.text
            raise NekoError(f"{method} {path}: {resp.status_code} {message}"[:300], resp.status_code)
        return resp

    def healthy(self) -> bool:
        try:
            return self._call("GET", "/health").status_code == 200
        except NekoError:
            return False

    def create_member(self, username: str, password: str, name: str) -> str:
        body = {"username": username, "password": password, "profile": {**MEMBER_PROFILE, "name": name}}
        return self._call("POST", "/api/members", json=body).json()["id"]

    def member_ids(self) -> set[str]:
        return {m["id"] for m in self._call("GET", "/api/members").json()}

    def delete_member(self, member_id: str) -> None:
        """Remove a member and its sessions; an unknown member is already gone."""
        try:
            self._call("DELETE", f"/api/members/{member_id}")
        except NekoError as exc:
            if exc.status != 404:
                raise

    def sessions(self) -> list[NekoSession]:
        out = []
        for item in self._call("GET", "/api/sessions").json():
            profile, state = item.get("profile") or {}, item.get("state") or {}
            out.append(
                NekoSession(
                    id=item["id"],
                    member_name=profile.get("name", ""),
                    is_admin=bool(profile.get("is_admin")),
                    is_connected=bool(state.get("is_connected")),
                    connected_since=_time(state.get("connected_since")),
                    not_connected_since=_time(state.get("not_connected_since")),
                )
            )
        return out

    def disconnect(self, session_id: str) -> None:
        try:
            self._call("POST", f"/api/sessions/{session_id}/disconnect")
        except NekoError as exc:
            if exc.status != 404:
                raise

    def screenshot(self, quality: int = 90) -> bytes:
        return self._call("GET", "/api/room/screen/shot.jpg", params={"quality": quality}).content
