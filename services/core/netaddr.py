"""Which address a request really came from, when a reverse proxy may sit in front."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping


def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _trusted(addr: ipaddress.IPv4Address | ipaddress.IPv6Address, proxies: Iterable[str]) -> bool:
    for net in proxies:
        try:
            if addr in ipaddress.ip_network(net, strict=False):
                return True
        except (ValueError, TypeError):
            continue
    return False


def client_address(peer: str, headers: Mapping[str, str], trusted_proxies: Iterable[str]) -> str:
    """The client's address: the direct peer, unless the peer is a trusted proxy.

    Only then is the forwarded header believed, read from the right: the nearest
    address that is not itself a trusted proxy is the client (anything further left
    was written by the client and may be forged). A direct client's header is ignored.
    """
    proxies = tuple(trusted_proxies)
    peer_addr = _parse(peer)
    if peer_addr is None:
        return peer.strip()[:64]
    if not proxies or not _trusted(peer_addr, proxies):
        return str(peer_addr)
    lowered = {k.lower(): v for k, v in headers.items()}
    chain = [p for p in (lowered.get("x-forwarded-for") or "").split(",") if p.strip()]
    for hop in reversed(chain):
        addr = _parse(hop)
        if addr is None:
            break  # garbage: stop believing the chain here
        if not _trusted(addr, proxies):
            return str(addr)
    real = _parse(lowered.get("x-real-ip") or "")
    if real is not None:
        return str(real)
    return str(peer_addr)
