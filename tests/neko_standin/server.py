"""A stand-in for the Neko v3 server, for tests: the REST subset VDI Taxi uses.

Runs inside a real container built from local files (see tests/docker_support.py).
Standard library only. Members live in memory (like NEKO_MEMBER_PROVIDER=object),
the "browser" keeps a Chromium-shaped profile (History SQLite) and a Downloads dir.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import sqlite3
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

API_TOKEN = os.environ.get("NEKO_SESSION_API_TOKEN", "")
BIND = os.environ.get("NEKO_SERVER_BIND", ":8080")
PROFILE = Path(os.environ.get("STANDIN_PROFILE", "/home/neko/.config/chromium"))
DOWNLOADS = Path(os.environ.get("NEKO_FILETRANSFER_DIR", "/home/neko/Downloads"))
HEARTBEAT_TIMEOUT = 6.0
# 1x1 white JPEG: enough for "a screenshot was taken".
JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b0c1912130f141d1a1f1e1d"
    "1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffc0000b080001000101011100ffc4001f0000010501"
    "010101010100000000000000000102030405060708090a0bffc400b5100002010303020403050504040000017d010203000411051221"
    "31410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728292a3435363738393a434445464748"
    "494a535455565758595a636465666768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3"
    "b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffda0008010100003f00"
    "fbfcffd9"
)

lock = threading.Lock()
members: dict[str, dict] = {}  # id -> {username, password, profile}
sessions: dict[str, dict] = {}  # id -> {member_id, token, last_seen, connected_since, not_connected_since}
started_at = datetime.now(UTC).isoformat()
profile_state = {"mode": "persistent"}


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def default_profile(name: str, is_admin: bool = False) -> dict:
    return {
        "name": name,
        "is_admin": is_admin,
        "can_login": True,
        "can_connect": True,
        "can_watch": True,
        "can_host": True,
        "can_share_media": True,
        "can_access_clipboard": True,
        "sends_inactive_cursor": True,
        "can_see_inactive_cursors": True,
        "plugins": {},
    }


def open_profile() -> None:
    """Take the profile like Chromium: a lock left by another host means a throwaway profile."""
    PROFILE.mkdir(parents=True, exist_ok=True)
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    lock_path = PROFILE / "SingletonLock"
    host = socket.gethostname()
    if lock_path.is_symlink() or lock_path.exists():
        owner = os.readlink(lock_path) if lock_path.is_symlink() else ""
        if not owner.startswith(f"{host}-"):
            profile_state["mode"] = "throwaway"
            return
        lock_path.unlink()
    os.symlink(f"{host}-{os.getpid()}", lock_path)
    history = PROFILE / "Default" / "History"
    history.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(history) as db:
        db.execute(
            "CREATE TABLE IF NOT EXISTS urls (id INTEGER PRIMARY KEY, url LONGVARCHAR, title LONGVARCHAR,"
            " visit_count INTEGER DEFAULT 0, typed_count INTEGER DEFAULT 0, last_visit_time INTEGER, hidden"
            " INTEGER DEFAULT 0)"
        )
        db.execute("CREATE TABLE IF NOT EXISTS visits (id INTEGER PRIMARY KEY, url INTEGER, visit_time INTEGER)")


def _unlock_profile() -> None:
    lock_path = PROFILE / "SingletonLock"
    if profile_state["mode"] == "persistent" and lock_path.is_symlink():
        lock_path.unlink()


def record_visit(url: str, title: str) -> None:
    if profile_state["mode"] != "persistent":
        return
    micros = int((time.time() + 11644473600) * 1_000_000)  # Chromium time: µs since 1601-01-01
    with sqlite3.connect(PROFILE / "Default" / "History") as db:
        cur = db.execute(
            "INSERT INTO urls (url, title, visit_count, last_visit_time) VALUES (?, ?, 1, ?)", (url, title, micros)
        )
        db.execute("INSERT INTO visits (url, visit_time) VALUES (?, ?)", (cur.lastrowid, micros))


def session_view(sid: str, s: dict) -> dict:
    member = members.get(s["member_id"], {})
    connected = time.monotonic() - s["last_seen"] < HEARTBEAT_TIMEOUT if s["last_seen"] else False
    return {
        "id": sid,
        "profile": member.get("profile", default_profile("admin", True)),
        "state": {
            "is_connected": connected,
            "connected_since": s["connected_since"] if connected else None,
            "not_connected_since": None if connected else s["not_connected_since"],
            "is_watching": connected,
        },
    }


CLIENT_PAGE = """<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>Neko stand-in</title></head>
<body style="font-family:system-ui;margin:0;background:#111;color:#eee;height:100vh;display:flex;align-items:center;
justify-content:center"><div style="text-align:center"><h1 id="room-title">Подключение…</h1><p id="room-user"></p></div>
<script>
const q = new URLSearchParams(location.search);
const usr = q.get("usr"), pwd = q.get("pwd");
history.replaceState(null, "", location.pathname);  // like Neko: credentials leave the URL
fetch("api/login", {method: "POST", headers: {"Content-Type": "application/json"},
  body: JSON.stringify({username: usr, password: pwd})}).then(async (r) => {
  if (!r.ok) { document.getElementById("room-title").textContent = "Доступ запрещён"; return; }
  const s = await r.json();
  document.getElementById("room-title").textContent = "Neko: " + document.title;
  document.getElementById("room-user").textContent = s.profile.name;
  const beat = () => fetch("api/session/heartbeat?token=" + s.token, {method: "POST"}).then((r) => {
    if (!r.ok) { document.getElementById("room-title").textContent = "Сессия закрыта"; clearInterval(t); }
  });
  beat(); const t = setInterval(beat, 1000);
});
</script></body></html>"""


class Handler(BaseHTTPRequestHandler):
    server_version = "neko-standin/3"

    def log_message(self, *args) -> None:  # quiet
        pass

    # -- helpers
    def _send(self, status: int, body: object = None, ctype: str = "application/json") -> None:
        data = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        if data:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _json(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            return json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            return {}

    def _token(self) -> str:
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            return auth[7:]
        return parse_qs(urlsplit(self.path).query).get("token", [""])[0]

    def _caller(self) -> tuple[str, dict] | None:
        token = self._token()
        if API_TOKEN and token == API_TOKEN:
            return "api", default_profile("api", True)
        for sid, s in sessions.items():
            if s["token"] == token:
                return sid, members[s["member_id"]]["profile"]
        return None

    def _admin(self) -> bool:
        caller = self._caller()
        if caller is None:
            self._send(401, {"message": "invalid token"})
            return False
        if not caller[1]["is_admin"]:
            self._send(403, {"message": "admin only"})
            return False
        return True

    # -- routes
    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        with lock:
            if path == "/health":
                return self._send(200, b"true", "text/plain")
            if path in ("/", "/index.html"):
                return self._send(
                    200,
                    CLIENT_PAGE.replace("<title>Neko stand-in", f"<title>{socket.gethostname()}").encode(),
                    "text/html; charset=utf-8",
                )
            if self._caller() is None:
                return self._send(401, {"message": "invalid token"})
            if path == "/api/stats":
                return self._send(
                    200,
                    {
                        "has_host": bool(sessions),
                        "host_id": "",
                        "server_started_at": started_at,
                        "total_users": len(sessions),
                        "last_user_left_at": None,
                        "total_admins": 0,
                        "last_admin_left_at": None,
                    },
                )
            if path == "/api/sessions":
                return self._send(200, [session_view(sid, s) for sid, s in sessions.items()])
            if path == "/api/standin/profile":
                return self._send(200, {"mode": profile_state["mode"], "downloads": sorted(os.listdir(DOWNLOADS))})
            if not self._admin():
                return None
            if path == "/api/members":
                return self._send(200, [{"id": mid, "profile": m["profile"]} for mid, m in members.items()])
            if path == "/api/room/screen/shot.jpg":
                return self._send(200, JPEG, "image/jpeg")
            return self._send(404, {"message": "not found"})

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        body = self._json()
        with lock:
            if path == "/api/login":
                for mid, m in members.items():
                    if m["username"] == body.get("username") and m["password"] == body.get("password"):
                        sid, token = secrets.token_hex(8), secrets.token_urlsafe(16)
                        sessions[sid] = {
                            "member_id": mid,
                            "token": token,
                            "last_seen": 0.0,
                            "connected_since": None,
                            "not_connected_since": now_iso(),
                        }
                        return self._send(
                            200,
                            {
                                "id": sid,
                                "token": token,
                                "profile": m["profile"],
                                "state": {"is_connected": False, "is_watching": False},
                            },
                        )
                return self._send(401, {"message": "invalid username or password"})
            if path == "/api/session/heartbeat":
                caller = self._caller()
                if caller is None or caller[0] == "api":
                    return self._send(401, {"message": "invalid token"})
                s = sessions[caller[0]]
                if not s["last_seen"] or time.monotonic() - s["last_seen"] >= HEARTBEAT_TIMEOUT:
                    s["connected_since"] = now_iso()
                s["last_seen"] = time.monotonic()
                return self._send(204)
            if path == "/api/standin/visit":  # what a person browsing would leave in History
                if self._caller() is None:
                    return self._send(401, {"message": "invalid token"})
                record_visit(body.get("url", ""), body.get("title", ""))
                return self._send(204)
            if not self._admin():
                return None
            if path == "/api/members":
                if any(m["username"] == body.get("username") for m in members.values()):
                    return self._send(422, {"message": "member already exists"})
                mid = secrets.token_hex(6)
                profile = {**default_profile(body.get("username", "")), **(body.get("profile") or {})}
                members[mid] = {"username": body.get("username"), "password": body.get("password"), "profile": profile}
                return self._send(200, {"id": mid, "profile": profile})
            parts = path.strip("/").split("/")
            if len(parts) == 4 and parts[:2] == ["api", "members"] and parts[3] == "password":
                if parts[2] not in members:
                    return self._send(404, {"message": "member not found"})
                members[parts[2]]["password"] = body.get("password")
                return self._send(204)
            if len(parts) == 4 and parts[:2] == ["api", "sessions"] and parts[3] == "disconnect":
                s = sessions.get(parts[2])
                if s is None:
                    return self._send(404, {"message": "session not found"})
                s["last_seen"], s["not_connected_since"] = 0.0, now_iso()
                return self._send(204)
            return self._send(404, {"message": "not found"})

    def do_DELETE(self) -> None:
        parts = urlsplit(self.path).path.strip("/").split("/")
        with lock:
            if not self._admin():
                return None
            if len(parts) == 3 and parts[:2] == ["api", "members"]:
                if members.pop(parts[2], None) is None:
                    return self._send(404, {"message": "member not found"})
                for sid in [sid for sid, s in sessions.items() if s["member_id"] == parts[2]]:
                    del sessions[sid]
                return self._send(204)
            if len(parts) == 3 and parts[:2] == ["api", "sessions"]:
                if sessions.pop(parts[2], None) is None:
                    return self._send(404, {"message": "session not found"})
                return self._send(204)
            return self._send(404, {"message": "not found"})


def main() -> None:
    # Leave like Chromium does on a clean shutdown: the profile lock goes with the process.
    signal.signal(signal.SIGTERM, lambda *_: (_unlock_profile(), os._exit(0)))
    open_profile()
    host, _, port = BIND.rpartition(":")
    ThreadingHTTPServer((host or "0.0.0.0", int(port)), Handler).serve_forever()


if __name__ == "__main__":
    main()
