"""A private Docker engine for tests, and the Neko stand-in image built from local files.

The engine keeps its data under a stable directory, so the base image (a
debootstrap rootfs, about a minute to make) is built once per machine.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import socket
import subprocess
import tarfile
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import docker

from tests import reaper

HERE = Path(__file__).resolve().parent
STANDIN_DIR = HERE / "neko_standin"
STANDIN_FILES = ("Dockerfile", "server.py", "entrypoint.sh")
TOOLS_DIR = Path(os.environ.get("VDI_TOOLS_DIR", Path.home() / ".local/share/vdi-taxi"))
BASE_IMAGE = "vdi-taxi/debian-python:bookworm"
MIRROR = os.environ.get("VDI_DEBIAN_MIRROR", "http://deb.debian.org/debian")


@dataclass
class Engine:
    host: str
    proc: subprocess.Popen
    root: Path
    run_dir: Path
    image: str = ""
    args: tuple[str, ...] = ()
    certs: Path | None = None

    def client(self) -> docker.DockerClient:
        if self.certs is not None:
            from services.rooms.hosts import connect

            return connect(self.host, "test", self.certs, timeout=120)
        return docker.DockerClient(base_url=self.host, timeout=120)


def _wait_socket(host: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            docker.DockerClient(base_url=host, timeout=5).ping()
            return
        except Exception:
            time.sleep(0.2)
    raise TimeoutError(f"dockerd at {host} did not come up")


def _stop_stale_daemons(root: Path) -> None:
    """A test run that was killed can leave its dockerd holding our data root."""
    for proc_dir in Path("/proc").iterdir():
        if not proc_dir.name.isdigit():
            continue
        try:
            cmdline = (proc_dir / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmdline and cmdline[0].endswith(b"dockerd") and f"--data-root={root}".encode() in cmdline:
            pid = int(proc_dir.name)
            os.kill(pid, 15)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
                time.sleep(0.2)


def start_dockerd(
    root: Path, run_dir: Path, extra_args: tuple[str, ...] = (), host: str = "", certs: Path | None = None
) -> Engine:
    """Start dockerd with its own socket; the caller stops it by pid.

    `host` (with TLS client `certs`) is how tests reach it when it is not the socket."""
    if shutil.which("dockerd") is None:
        raise RuntimeError("dockerd is not installed (apt-get install docker.io)")
    _stop_stale_daemons(root)
    run_dir.mkdir(parents=True, exist_ok=True)
    root.mkdir(parents=True, exist_ok=True)
    sock = run_dir / "docker.sock"
    log = open(run_dir / "dockerd.log", "ab")  # noqa: SIM115  (lives as long as the daemon)
    proc = subprocess.Popen(
        [
            "dockerd",
            f"--host=unix://{sock}",
            f"--data-root={root}",
            f"--exec-root={run_dir / 'exec'}",
            f"--pidfile={run_dir / 'dockerd.pid'}",
            "--exec-opt=native.cgroupdriver=cgroupfs",
            *extra_args,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    # Killed with the test run, whatever kills it; containerd and its shims carry run_dir in their command line.
    reaper.watch(proc.pid, marker=str(run_dir), grace=40)
    _wait_socket(f"unix://{sock}", 30)
    engine = Engine(host=host or f"unix://{sock}", proc=proc, root=root, run_dir=run_dir, args=extra_args, certs=certs)
    engine.client().ping()
    return engine


def stop_dockerd(engine: Engine, timeout: float = 30) -> None:
    if engine.proc.poll() is None:
        engine.proc.terminate()
        try:
            engine.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            engine.proc.kill()
            engine.proc.wait()
    reaper.forget(engine.proc.pid)


def restart_dockerd(engine: Engine) -> None:
    """Start the same engine again (same data, same socket) after stop_dockerd."""
    fresh = start_dockerd(engine.root, engine.run_dir, engine.args, engine.host, engine.certs)
    engine.proc, engine.host = fresh.proc, fresh.host


def _build_base_image(client: docker.DockerClient) -> None:
    if shutil.which("debootstrap") is None:
        subprocess.run(["apt-get", "install", "-y", "-q", "debootstrap"], check=True, stdout=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory(dir=TOOLS_DIR) as tmp:
        rootfs = Path(tmp) / "rootfs"
        subprocess.run(
            ["debootstrap", "--variant=minbase", "--include=python3", "bookworm", str(rootfs), MIRROR],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        for junk in ("usr/share/doc", "usr/share/man", "usr/share/locale", "var/cache/apt", "var/lib/apt/lists"):
            shutil.rmtree(rootfs / junk, ignore_errors=True)
        archive = Path(tmp) / "rootfs.tar"
        subprocess.run(["tar", "-C", str(rootfs), "-cf", str(archive), "."], check=True)
        with open(archive, "rb") as fh:
            client.api.import_image_from_data(fh.read(), repository=BASE_IMAGE.split(":")[0], tag="bookworm")


def standin_tag() -> str:
    digest = hashlib.sha256()
    for name in STANDIN_FILES:
        digest.update((STANDIN_DIR / name).read_bytes())
    return f"vdi-taxi/neko-standin:{digest.hexdigest()[:12]}"


def ensure_standin_image(client: docker.DockerClient) -> str:
    """The stand-in image tag, building it (and its base) only when missing."""
    tag = standin_tag()
    try:
        client.images.get(tag)
        return tag
    except docker.errors.ImageNotFound:
        pass
    try:
        client.images.get(BASE_IMAGE)
    except docker.errors.ImageNotFound:
        TOOLS_DIR.mkdir(parents=True, exist_ok=True)
        _build_base_image(client)
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        for name in STANDIN_FILES:
            tar.add(STANDIN_DIR / name, arcname=name)
    context.seek(0)
    client.images.build(fileobj=context, custom_context=True, tag=tag, rm=True, pull=False)
    return tag


def remove_rooms(instance: str, *engines: Engine) -> None:
    """Remove every container of one installation (its `VDI_ROOM_INSTANCE`) from these engines,
    whatever state they are in; an engine that has stopped is skipped."""
    for engine in engines:
        if engine.proc.poll() is not None:
            continue
        client = engine.client()
        try:
            for c in client.containers.list(all=True, filters={"label": f"vdi_taxi.instance={instance}"}):
                c.remove(force=True)
        finally:
            client.close()


def room_env(engine: Engine, data_dir: Path, instance: str, rooms: int = 10) -> dict[str, str]:
    """Settings for the Docker room provider on this engine: its own instance label and data,
    port blocks checked free (TCP for HTTP, UDP for WebRTC) away from the ephemeral range."""
    from tests.live_server import free_block

    return {
        "VDI_ROOM_PROVIDER": "docker",
        "VDI_DOCKER_HOST": engine.host,
        "VDI_NEKO_IMAGE": engine.image,
        "VDI_ROOM_INSTANCE": instance,
        "VDI_ROOM_DATA_DIR": str(data_dir / "rooms"),
        "VDI_ROOM_HTTP_PORT_BASE": str(free_block(rooms, low=20000, high=24000)),
        "VDI_ROOM_UDP_PORT_BASE": str(free_block(2 * rooms, socket.SOCK_DGRAM, low=24000, high=32000)),
        "VDI_ROOM_UDP_PORTS_PER_ROOM": "2",
        "VDI_ROOM_UDP_BIND": "127.0.0.1",
        "VDI_ROOM_URL_TEMPLATE": "http://127.0.0.1:{http_port}/",
        "VDI_ROOM_MEMORY": "256m",
    }


@contextmanager
def docker_engine(run_dir: Path):
    """An engine for the test session: started here, stopped here, data kept for the next run."""
    engine = start_dockerd(TOOLS_DIR / "docker-root", run_dir)
    client = engine.client()
    # Rooms left by an interrupted run would restart with the engine and eat the CPU.
    for c in client.containers.list(all=True, filters={"label": "vdi_taxi.instance"}):
        c.remove(force=True)
    client.close()
    try:
        yield engine
    finally:
        client = engine.client()
        for c in client.containers.list(all=True, filters={"label": "vdi_taxi.instance"}):
            c.remove(force=True)
        client.close()
        stop_dockerd(engine)


# ---------------------------------------------------------------------------- a second engine over TLS

SECOND_BRIDGE = "vdi-br-b"
SECOND_BRIDGE_CIDR = "172.29.77.1/24"


def make_tls_certs(folder: Path) -> Path:
    """A throwaway CA, a server certificate for 127.0.0.1 and a client certificate, as PEM files
    named the way the Docker CLI and VDI_DOCKER_CERT_DIR expect (ca.pem, cert.pem, key.pem)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)

    def issue(name: str, key, issuer_name, issuer_key, *, ca: bool = False, usage=None, san=None):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(issuer_name or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if usage:
            builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    def write(name: str, cert, key) -> None:
        (folder / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        if key is not None:
            key_path = folder / f"{name.replace('cert', 'key')}.pem"
            key_path.write_bytes(
                key.private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                )
            )
            key_path.chmod(0o600)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = issue("vdi-test-ca", ca_key, None, ca_key, ca=True)
    server_key, client_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    san = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    server = issue("127.0.0.1", server_key, ca.subject, ca_key, usage=ExtendedKeyUsageOID.SERVER_AUTH, san=san)
    client = issue("vdi-app", client_key, ca.subject, ca_key, usage=ExtendedKeyUsageOID.CLIENT_AUTH)
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    write("server-cert", server, server_key)
    write("cert", client, client_key)
    return folder


def _ensure_bridge() -> None:
    """The second engine's own bridge: two engines cannot share docker0."""
    if subprocess.run(["ip", "link", "show", SECOND_BRIDGE], capture_output=True).returncode == 0:
        return
    subprocess.run(["ip", "link", "add", SECOND_BRIDGE, "type", "bridge"], check=True)
    subprocess.run(["ip", "addr", "add", SECOND_BRIDGE_CIDR, "dev", SECOND_BRIDGE], check=True)
    subprocess.run(["ip", "link", "set", SECOND_BRIDGE, "up"], check=True)


def copy_image(tag: str, source: docker.DockerClient, target: docker.DockerClient) -> None:
    try:
        target.images.get(tag)
        return
    except docker.errors.ImageNotFound:
        pass
    data = b"".join(source.images.get(tag).save(named=True))
    target.images.load(data)


@contextmanager
def second_docker_engine(run_dir: Path, first: Engine):
    """Another engine on this machine, reached over tcp:// with TLS: own data root, exec root,
    socket and bridge (no iptables of its own; published ports go through docker-proxy)."""
    from tests.live_server import free_port

    _ensure_bridge()
    certs = make_tls_certs(run_dir / "certs")
    port = free_port()
    engine = start_dockerd(
        TOOLS_DIR / "docker-root-b",
        run_dir,
        (
            f"--host=tcp://127.0.0.1:{port}",
            "--tlsverify",
            f"--tlscacert={certs / 'ca.pem'}",
            f"--tlscert={certs / 'server-cert.pem'}",
            f"--tlskey={certs / 'server-key.pem'}",
            f"--bridge={SECOND_BRIDGE}",
            "--iptables=false",
            "--ip6tables=false",
            "--ip-masq=false",
        ),
        host=f"tcp://127.0.0.1:{port}",
        certs=certs,
    )
    source, client = first.client(), engine.client()
    try:
        copy_image(first.image, source, client)
        engine.image = first.image
        for c in client.containers.list(all=True, filters={"label": "vdi_taxi.instance"}):
            c.remove(force=True)
    finally:
        source.close()
        client.close()
    try:
        yield engine
    finally:
        if engine.proc.poll() is None:
            client = engine.client()
            for c in client.containers.list(all=True, filters={"label": "vdi_taxi.instance"}):
                c.remove(force=True)
            client.close()
        stop_dockerd(engine)
        subprocess.run(["ip", "link", "delete", SECOND_BRIDGE], capture_output=True)
