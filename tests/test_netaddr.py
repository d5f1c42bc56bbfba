"""Which address the throttle and the audit log see, with and without the reverse proxy."""

from __future__ import annotations

import pytest

from services import runtime
from services.core.netaddr import client_address
from services.core.settings import SettingsError, get_settings

PROXY = ("172.18.0.0/16",)


def test_a_direct_client_cannot_pick_its_address_with_a_forwarded_header():
    spoof = {"x-forwarded-for": "10.0.0.1", "x-real-ip": "10.0.0.2"}
    assert client_address("203.0.113.9", spoof, PROXY) == "203.0.113.9"
    assert client_address("203.0.113.9", spoof, ()) == "203.0.113.9"


def test_behind_the_trusted_proxy_the_real_client_address_is_used():
    assert client_address("172.18.0.5", {"x-forwarded-for": "198.51.100.7"}, PROXY) == "198.51.100.7"
    assert client_address("172.18.0.5", {"x-real-ip": "198.51.100.8"}, PROXY) == "198.51.100.8"


def test_addresses_a_client_prepends_to_the_forwarded_chain_are_ignored():
    # nginx appends the address it saw; whatever the client wrote sits to the left.
    headers = {"x-forwarded-for": "10.0.0.1, 198.51.100.7"}
    assert client_address("172.18.0.5", headers, PROXY) == "198.51.100.7"


def test_garbage_in_the_header_falls_back_to_the_proxy_address():
    assert client_address("172.18.0.5", {"x-forwarded-for": "not-an-ip"}, PROXY) == "172.18.0.5"


def test_trusted_proxies_setting_accepts_addresses_and_networks_and_refuses_nonsense(monkeypatch):
    monkeypatch.setenv("VDI_TRUSTED_PROXIES", "127.0.0.1, 172.16.0.0/12")
    runtime.reset()
    assert get_settings().trusted_proxies == ("127.0.0.1/32", "172.16.0.0/12")
    monkeypatch.setenv("VDI_TRUSTED_PROXIES", "nginx")
    with pytest.raises(SettingsError):
        runtime.reset()
        get_settings()
    monkeypatch.setenv("VDI_TRUSTED_PROXIES", "")
    runtime.reset()
