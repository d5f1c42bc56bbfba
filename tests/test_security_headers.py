"""The header policy the app sends, for the configurations operators actually use."""

from __future__ import annotations

import asyncio

import httpx
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from services import runtime
from services.core.settings import get_settings
from vdi_taxi.security_headers import content_security_policy, with_security_headers


def _get_through_wrapper() -> httpx.Response:
    async def page(_):
        # A value the route set itself is replaced, not sent twice.
        return PlainTextResponse("ok", headers={"Referrer-Policy": "unsafe-url"})

    app = with_security_headers(Starlette(routes=[Route("/", page)]))

    async def get() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            return await client.get("/")

    return asyncio.run(get())


def test_behind_https_responses_promise_https_and_never_send_a_referrer(monkeypatch):
    monkeypatch.setenv("VDI_PUBLIC_URL", "https://taxi.example.com")
    runtime.reset()
    response = _get_through_wrapper()
    assert response.headers["strict-transport-security"].startswith("max-age=")
    assert response.headers.get_list("referrer-policy") == ["no-referrer"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "connect-src 'self' wss://taxi.example.com" in response.headers["content-security-policy"]


def test_on_plain_http_there_is_no_https_promise(monkeypatch):
    monkeypatch.setenv("VDI_PUBLIC_URL", "http://localhost:3000")
    runtime.reset()
    assert "strict-transport-security" not in _get_through_wrapper().headers


def test_docker_rooms_may_be_framed_from_their_origin_and_nothing_else(monkeypatch):
    monkeypatch.setenv("VDI_ROOM_PROVIDER", "docker")
    monkeypatch.setenv("VDI_ROOM_URL_TEMPLATE", "https://taxi.example.com/neko/{slot}/")
    runtime.reset()
    assert "frame-src 'self' https://taxi.example.com;" in content_security_policy(get_settings())
    monkeypatch.setenv("VDI_ROOM_URL_TEMPLATE", "http://localhost:{http_port}/")
    runtime.reset()
    assert "frame-src 'self' http://localhost:*;" in content_security_policy(get_settings())
    monkeypatch.setenv("VDI_ROOM_PROVIDER", "demo")
    runtime.reset()
    policy = content_security_policy(get_settings())
    assert "frame-src 'self';" in policy and "frame-ancestors 'self'" in policy
