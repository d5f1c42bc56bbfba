"""Room hosts: the Docker engines of VDI_DOCKER_HOSTS, how to reach each, where a new room goes,
and carrying a room's browser profile from one engine to another.

Each engine is reached through the Docker Engine API only (unix socket, tcp:// with TLS, or
ssh://), so moving a profile goes through the archive API: a stopped helper container on
each side mounts the profile directory; the source's archive is streamed into the target's.

ssh:// runs the ssh binary (`ssh [-l user] [-p port] host docker system dial-stdio`), as docker's
own transport does, but behind a socket pair in a kept pool: docker's reads ssh's pipe with no
timeout (an engine that hangs would hang the app's pass for good) and starts a new ssh, with its
handshake, for every request.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import docker
import urllib3
from docker.errors import DockerException, ImageNotFound
from docker.tls import TLSConfig
from docker.transport import sshconn

log = logging.getLogger(__name__)

HELPER_MOUNT = "/vdi-profile"
MIN_API_VERSION = "1.24"


class _ChannelSocket(socket.socket):
    """Our end of the pair whose other end is ssh's stdin and stdout. Docker reads an exec's
    output from `.channel` of the response's file, as its own ssh transport provides."""

    def makefile(self, *args, **kwargs):  # type: ignore[override]
        reader = super().makefile(*args, **kwargs)
        reader.channel = self  # type: ignore[union-attr]
        return reader


class _SshConnection(sshconn.SSHConnection):
    """One ssh process per connection; reads and writes time out like any socket's."""

    proc: subprocess.Popen | None = None

    def connect(self) -> None:
        target = urlsplit("ssh://" + self.ssh_host)
        args = ["ssh"]
        if target.username:
            args += ["-l", target.username]
        if target.port:
            args += ["-p", str(target.port)]
        args += ["--", target.hostname or "", "docker system dial-stdio"]
        ours, theirs = socket.socketpair()
        try:
            # Its own session: no terminal to prompt on, and a Ctrl-C to the app is not for it.
            self.proc = subprocess.Popen(args, stdin=theirs, stdout=theirs, start_new_session=True)
        finally:
            theirs.close()
        sock = _ChannelSocket(ours.family, ours.type, ours.proto, ours.detach())
        sock.settimeout(self.timeout)
        self.sock = sock

    def close(self) -> None:
        try:
            super().close()
        finally:
            proc, self.proc = self.proc, None
            if proc is not None:
                if proc.poll() is None:
                    proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


class _SshPool(sshconn.SSHConnectionPool):
    # urllib3's own: a kept connection whose ssh has exited is dropped, not reused.
    _get_conn = urllib3.connectionpool.HTTPConnectionPool._get_conn

    def _new_conn(self) -> _SshConnection:
        return _SshConnection(None, self.timeout, self.ssh_host)


class _SshAdapter(sshconn.SSHHTTPAdapter):
    """One pool per engine: an ssh connection serves request after request."""

    def __init__(self, base_url: str, timeout: int) -> None:
        super().__init__(base_url, timeout, shell_out=True)
        self.pool = _SshPool(timeout=timeout, maxsize=self.max_pool_size, host=self.ssh_host)

    def get_connection(self, url, proxies=None):
        return self.pool

    def close(self) -> None:
        super().close()
        self.pool.close()


def connect(url: str, name: str, cert_dir: Path | None, timeout: int = 30) -> docker.DockerClient:
    """A client for one engine: TLS for tcp:// when certificates are given, the ssh binary for ssh://."""
    if url.startswith("ssh://"):
        client = docker.DockerClient(base_url=url, timeout=timeout, use_ssh_client=True, version=MIN_API_VERSION)
        adapter = _SshAdapter(url, timeout)
        client.api.mount("http+docker://ssh", adapter)
        client.api._custom_adapter = adapter
        client.api._version = client.api.version(api_version=False)["ApiVersion"]
        return client
    tls = None
    if url.startswith("tcp://") and cert_dir is not None:
        own = cert_dir / name
        folder = own if (own / "ca.pem").exists() else cert_dir
        tls = TLSConfig(
            client_cert=(str(folder / "cert.pem"), str(folder / "key.pem")),
            ca_cert=str(folder / "ca.pem"),
            verify=True,
        )
        url = "https://" + url.removeprefix("tcp://")
        # requests would let REQUESTS_CA_BUNDLE replace the host's CA: the first call (the API
        # version) must already go out with the environment ignored, so the version is asked here.
        client = docker.DockerClient(base_url=url, timeout=timeout, tls=tls, version=MIN_API_VERSION)
        client.api.trust_env = False
        client.api._version = client.api.version(api_version=False)["ApiVersion"]
        return client
    return docker.DockerClient(base_url=url, timeout=timeout, tls=tls)


def address(url: str) -> str:
    """The address the app reaches a host's published ports on: loopback for a local socket."""
    if url.startswith("unix://"):
        return "127.0.0.1"
    return urlsplit(url).hostname or "127.0.0.1"


def publish_ip(url: str) -> str:
    """The IP address a room's port is published on, on the host of `url`. Docker takes only an
    address there: given a host name it publishes on every interface instead (0.0.0.0 and ::)."""
    host = address(url)
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            return str(socket.getaddrinfo(host, None, family, socket.SOCK_STREAM)[0][4][0])
        except socket.gaierror:
            continue
    raise DockerException(f"адрес хоста {host} не найден: порты комнаты не на чем открыть")


def reserved_by_others(client: docker.DockerClient, instance: str) -> int:
    """Memory limits of running containers that are not this installation's rooms."""
    total = 0
    for c in client.containers.list(sparse=False):
        if c.labels.get("vdi_taxi.instance") != instance:
            total += int((c.attrs.get("HostConfig") or {}).get("Memory") or 0)
    return total


def ensure_image(client: docker.DockerClient, image: str) -> None:
    try:
        client.images.get(image)
    except ImageNotFound:
        client.images.pull(image)


def _helper(client: docker.DockerClient, image: str, source: str, label: str):
    ensure_image(client, image)
    return client.containers.create(
        image,
        command=["true"],
        entrypoint=[],
        volumes={source: {"bind": HELPER_MOUNT, "mode": "rw"}},
        labels={"vdi_taxi.helper": label},
        network_mode="none",
    )


def copy_profile(
    src: docker.DockerClient, src_dir: str, dst: docker.DockerClient, dst_dir: str, image: str, label: str
) -> None:
    """Stream the profile directory from one engine to the other; the target is emptied first."""
    out = _helper(src, image, src_dir, label)
    try:
        wipe = dst.containers.run(
            image,
            command=["sh", "-c", f"find {HELPER_MOUNT} -mindepth 1 -delete"],
            entrypoint=[],
            volumes={dst_dir: {"bind": HELPER_MOUNT, "mode": "rw"}},
            labels={"vdi_taxi.helper": label},
            network_mode="none",
            user="0",
            detach=True,
        )
        try:
            status = wipe.wait(timeout=120)
            if status.get("StatusCode") != 0:
                raise RuntimeError(f"emptying the target profile failed: {wipe.logs()[-300:]!r}")
            stream, _ = out.get_archive(HELPER_MOUNT + "/.")
            # The archive's entries are named ./<path>: unpacked at the mount point they land in place.
            if not wipe.put_archive(HELPER_MOUNT, stream):
                raise RuntimeError("the target engine refused the profile archive")
        finally:
            wipe.remove(force=True)
    finally:
        out.remove(force=True)


def _created(container) -> datetime | None:
    # Docker reports RFC 3339 with nanoseconds ("2026-11-27T01:02:03.123456789Z"); seconds suffice.
    stamp = str(container.attrs.get("Created") or "")[:19]
    try:
        return datetime.fromisoformat(stamp + "+00:00")
    except ValueError:
        return None


def remove_stale_helpers(client: docker.DockerClient, label: str, older_than: timedelta, now: datetime) -> int:
    """Remove this installation's profile-copy helpers older than `older_than`: the leftovers of a
    move whose process died (a live move removes its own within seconds). Returns how many."""
    removed = 0
    for container in client.containers.list(all=True, filters={"label": f"vdi_taxi.helper={label}"}):
        created = _created(container)
        if created is not None and now - created > older_than:
            container.remove(force=True)
            removed += 1
    if removed:
        log.info("removed %d leftover profile-copy helper(s) of an interrupted move", removed)
    return removed
