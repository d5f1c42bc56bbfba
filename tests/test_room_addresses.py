"""Where a room host's rooms are published: on the address of its URL, an IP address always."""

from __future__ import annotations

import socket

import pytest
from docker.errors import DockerException

from services.rooms.hosts import address, publish_ip


def test_rooms_are_published_on_the_hosts_ip_address_never_on_a_name():
    assert publish_ip("unix:///var/run/docker.sock") == "127.0.0.1"
    assert publish_ip("tcp://10.0.0.12:2376") == "10.0.0.12"
    assert publish_ip("ssh://vdi@[fd00::13]:2222") == "fd00::13"
    # Docker given a name publishes on every interface: the name is resolved (here from /etc/hosts).
    assert publish_ip("ssh://root@localhost:2222") == "127.0.0.1"
    # The room's address in links ({host}) keeps the name, as a TLS certificate there would.
    assert address("ssh://vdi@rooms3.example.org") == "rooms3.example.org"


def test_a_host_name_that_does_not_resolve_is_an_engine_error_not_an_open_port(monkeypatch: pytest.MonkeyPatch):
    def unresolvable(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", unresolvable)
    with pytest.raises(DockerException, match=r"rooms3\.example\.org не найден"):
        publish_ip("ssh://vdi@rooms3.example.org")
