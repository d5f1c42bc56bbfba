"""A local server that speaks the Telegram Bot API methods the app uses, over real HTTP.

The real python-telegram-bot client is pointed at it with base_url. It records what
was sent (messages, documents, commands), feeds updates for getUpdates, and can be
told to fail or go away, to test retries.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

BOT_ID = 777000


@dataclass
class Sent:
    method: str
    chat_id: int
    text: str = ""
    filename: str = ""
    content: bytes = b""


@dataclass
class FakeTelegram:
    token: str
    bot_username: str = "vdi_taxi_test_bot"
    sent: list[Sent] = field(default_factory=list)
    commands: list[dict] = field(default_factory=list)
    updates: list[dict] = field(default_factory=list)
    blocked_chats: set[int] = field(default_factory=set)
    fail_next: int = 0
    # While set, every send is answered with this status (and retry_after for 429).
    outage: tuple[int, int | None] | None = None
    # Every send request as it arrived: (method, chat_id, text, HTTP status answered).
    attempts: list[tuple[str, int, str, int]] = field(default_factory=list)
    next_update_id: int = 1
    server: ThreadingHTTPServer | None = None
    port: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # ---------------------------------------------------------------- control

    def start(self, port: int = 0) -> FakeTelegram:
        handler = _handler_for(self)
        self.server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Go away completely: connections are refused until start() again."""
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def push_message(self, chat_id: int, text: str, first_name: str = "Тест") -> int:
        with self.lock:
            update_id = self.next_update_id
            self.next_update_id += 1
            self.updates.append(
                {
                    "update_id": update_id,
                    "message": {
                        "message_id": update_id,
                        "date": int(time.time()),
                        "chat": {"id": chat_id, "type": "private", "first_name": first_name},
                        "from": {"id": chat_id, "is_bot": False, "first_name": first_name},
                        "text": text,
                        "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
                        if text.startswith("/")
                        else [],
                    },
                }
            )
            return update_id

    def push_raw(self, update: dict) -> int:
        """An update exactly as given (it may be malformed on purpose); its update_id is assigned here."""
        with self.lock:
            update_id = self.next_update_id
            self.next_update_id += 1
            self.updates.append({**update, "update_id": update_id})
            return update_id

    def messages_to(self, chat_id: int) -> list[Sent]:
        with self.lock:
            return [s for s in self.sent if s.chat_id == chat_id]

    def wait_for(self, predicate, timeout: float = 15) -> list[Sent]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = [s for s in self.sent if predicate(s)]
            if found:
                return found
            time.sleep(0.05)
        raise AssertionError(
            f"no matching message; sent so far: {[(s.method, s.chat_id, s.text[:40]) for s in self.sent]}"
        )


def _message(chat_id: int, text: str, message_id: int) -> dict:
    return {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private"},
        "text": text,
    }


def _handler_for(tg: FakeTelegram):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def _reply(self, status: int, payload: dict) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _params(self) -> tuple[dict, dict[str, tuple[str, bytes]]]:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            ctype = self.headers.get("Content-Type", "")
            files: dict[str, tuple[str, bytes]] = {}
            if ctype.startswith("application/json"):
                return json.loads(raw or b"{}"), files
            if ctype.startswith("multipart/form-data"):
                msg = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + raw)
                params = {}
                for part in msg.iter_parts():
                    name = part.get_param("name", header="content-disposition")
                    filename = part.get_filename()
                    data = part.get_payload(decode=True) or b""
                    if filename:
                        files[name] = (filename, data)
                    else:
                        params[name] = data.decode()
                return params, files
            return {k: v[0] for k, v in parse_qs(raw.decode()).items()}, files

        def do_POST(self) -> None:
            prefix = f"/bot{tg.token}/"
            if not self.path.startswith(prefix):
                return self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            method = self.path[len(prefix) :].split("?")[0]
            params, files = self._params()
            with tg.lock:
                sending = method in {"sendMessage", "sendDocument"}
                text = str(params.get("text") or params.get("caption") or "")
                chat = int(params.get("chat_id", 0) or 0)
                if sending and tg.outage is not None:
                    status, retry_after = tg.outage
                    tg.attempts.append((method, chat, text, status))
                    if status == 429:
                        return self._reply(
                            429,
                            {
                                "ok": False,
                                "error_code": 429,
                                "description": f"Too Many Requests: retry after {retry_after}",
                                "parameters": {"retry_after": retry_after},
                            },
                        )
                    return self._reply(status, {"ok": False, "error_code": status, "description": "Bad Gateway"})
                if tg.fail_next > 0 and sending:
                    tg.fail_next -= 1
                    tg.attempts.append((method, chat, text, 502))
                    return self._reply(502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})
                if sending:
                    tg.attempts.append((method, chat, text, 403 if chat in tg.blocked_chats else 200))
                if method == "getMe":
                    return self._reply(
                        200,
                        {
                            "ok": True,
                            "result": {
                                "id": BOT_ID,
                                "is_bot": True,
                                "first_name": "VDI Такси",
                                "username": tg.bot_username,
                            },
                        },
                    )
                if method in {"deleteWebhook", "setMyCommands"}:
                    if method == "setMyCommands":
                        cmds = params.get("commands")
                        tg.commands = json.loads(cmds) if isinstance(cmds, str) else cmds
                    return self._reply(200, {"ok": True, "result": True})
                if method == "getUpdates":
                    offset = int(params.get("offset") or 0)
                    tg.updates = [u for u in tg.updates if u["update_id"] >= offset]
                    return self._reply(200, {"ok": True, "result": list(tg.updates)})
                chat_id = int(params.get("chat_id", 0))
                if chat_id in tg.blocked_chats:
                    return self._reply(
                        403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
                    )
                if method == "sendMessage":
                    tg.sent.append(Sent("sendMessage", chat_id, text=params.get("text", "")))
                    return self._reply(
                        200, {"ok": True, "result": _message(chat_id, params.get("text", ""), len(tg.sent))}
                    )
                if method == "sendDocument":
                    filename, content = files.get("document", ("", b""))
                    tg.sent.append(
                        Sent(
                            "sendDocument", chat_id, text=params.get("caption", ""), filename=filename, content=content
                        )
                    )
                    result = _message(chat_id, params.get("caption", ""), len(tg.sent))
                    result["document"] = {
                        "file_id": f"f{len(tg.sent)}",
                        "file_unique_id": f"u{len(tg.sent)}",
                        "file_name": filename,
                        "file_size": len(content),
                    }
                    return self._reply(200, {"ok": True, "result": result})
            return self._reply(400, {"ok": False, "error_code": 400, "description": f"Unknown method {method}"})

        do_GET = do_POST

    return Handler
