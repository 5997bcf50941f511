"""RADIUS accounting on loopback for the tests: netmon's listener over a real store, and NAS peers.

The peers are real RADIUS clients: FreeRADIUS's ``radclient`` and pyrad. A
raw UDP socket (with packets built by :mod:`collectors.radius.codec`) plays
the misbehaving ones: forged, truncated, from an undeclared address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from collectors.credentials import Nas
from collectors.radius import codec
from collectors.radius.listener import AccountingListener, NasTable
from netmon.privacy import Pseudonymizer
from netmon.store import Store
from netmon.store.radius import SessionSettings

SECRET = b"testing-secret-123"
KEY = Pseudonymizer(b"radius-test-key-0123456789")

# pyrad reads FreeRADIUS-style dictionaries; the few attributes the tests send.
PYRAD_DICTIONARY = """
ATTRIBUTE User-Name 1 string
ATTRIBUTE NAS-IP-Address 4 ipaddr
ATTRIBUTE NAS-Port 5 integer
ATTRIBUTE Framed-IP-Address 8 ipaddr
ATTRIBUTE Called-Station-Id 30 string
ATTRIBUTE Calling-Station-Id 31 string
ATTRIBUTE NAS-Identifier 32 string
ATTRIBUTE Acct-Status-Type 40 integer
ATTRIBUTE Acct-Delay-Time 41 integer
ATTRIBUTE Acct-Input-Octets 42 integer
ATTRIBUTE Acct-Output-Octets 43 integer
ATTRIBUTE Acct-Session-Id 44 string
ATTRIBUTE Acct-Session-Time 46 integer
ATTRIBUTE Acct-Terminate-Cause 49 integer
ATTRIBUTE Acct-Multi-Session-Id 50 string
ATTRIBUTE Acct-Input-Gigawords 52 integer
ATTRIBUTE Acct-Output-Gigawords 53 integer
ATTRIBUTE Event-Timestamp 55 date
ATTRIBUTE Chargeable-User-Identity 89 string
ATTRIBUTE Operator-Name 126 string
VALUE Acct-Status-Type Start 1
VALUE Acct-Status-Type Stop 2
VALUE Acct-Status-Type Interim-Update 3
VALUE Acct-Status-Type Accounting-On 7
VALUE Acct-Status-Type Accounting-Off 8
VALUE Acct-Terminate-Cause User-Request 1
VALUE Acct-Terminate-Cause Lost-Carrier 2
"""


class AccountingServer:
    """netmon's accounting listener on 127.0.0.1 over a store in ``path``, with its own writer thread."""

    def __init__(
        self, path: Path, nases: list[Nas] | None = None, commit=None, eduroam=("eduroam",), interval=600, key=KEY
    ):
        self.path, self.key = path, key
        self.nases = nases or [Nas("wlc-test", ipaddress.ip_network("127.0.0.1/32"), SECRET)]
        self.settings = SessionSettings(frozenset(eduroam), interval)
        self.commit = commit
        self.store: Store | None = None

    async def __aenter__(self) -> AccountingServer:
        self.store = Store(self.path)
        self.writer = ThreadPoolExecutor(1, thread_name_prefix="test-store")
        commit = self.commit or self.record
        self.listener = await AccountingListener(NasTable(self.nases), commit, self.writer).start("127.0.0.1", 0)
        self.port = self.listener.address[1]
        return self

    def record(self, batch):
        return self.store.record_radius(batch, self.key, self.settings)

    async def __aexit__(self, *exc) -> None:
        await self.listener.drain()
        self.listener.close()
        self.writer.shutdown(wait=True)
        self.store.close()

    def sessions(self) -> list[dict]:
        reader = Store(self.path, readonly=True)
        try:
            return reader.radius_sessions()
        finally:
            reader.close()

    def packets(self) -> dict[tuple[str, str], int]:
        reader = Store(self.path, readonly=True)
        try:
            return {(r["type"], r["result"]): r["count"] for r in reader.radius_packet_counts()}
        finally:
            reader.close()


def radclient_text(attributes: dict[str, object]) -> str:
    return "\n".join(f'{k} = "{v}"' if isinstance(v, str) else f"{k} = {v}" for k, v in attributes.items()) + "\n"


async def radclient(
    tool: str, port: int, attributes: dict[str, object], secret: bytes = SECRET, tmp: Path | None = None
) -> subprocess.CompletedProcess:
    """``radclient acct`` with one request; exit code 0 only when a correctly signed answer came back."""
    secret_file = (tmp or Path("/tmp")) / f"radclient-secret-{os.getpid()}-{port}"
    secret_file.write_bytes(secret + b"\n")
    try:
        proc = await asyncio.create_subprocess_exec(
            tool, "-r", "1", "-t", "1", "-S", str(secret_file), f"127.0.0.1:{port}", "acct",
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(radclient_text(attributes).encode()), 20)
    finally:
        secret_file.unlink(missing_ok=True)
    return subprocess.CompletedProcess([tool], proc.returncode, out.decode(), err.decode())


def pyrad_client(port: int, dictionary: Path, secret: bytes = SECRET, timeout: float = 1.0, retries: int = 1):
    from pyrad.client import Client
    from pyrad.dictionary import Dictionary

    if not dictionary.exists():
        dictionary.write_text(PYRAD_DICTIONARY)
    client = Client(server="127.0.0.1", acctport=port, secret=secret, dict=Dictionary(str(dictionary)))
    client.timeout, client.retries = timeout, retries
    return client


class RawNas:
    """A UDP socket on a loopback address of our choice: sends what it is told, collects what comes back."""

    def __init__(self, port: int, source: str = "127.0.0.1"):
        self.port = port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((source, 0))
        self.sock.settimeout(0.5)

    def send(self, data: bytes) -> None:
        self.sock.sendto(data, ("127.0.0.1", self.port))

    async def receive(self, timeout: float = 0.5) -> bytes | None:
        """The next datagram, waited for in a thread so the listener in this event loop keeps running."""
        return await asyncio.to_thread(self._receive, timeout)

    def _receive(self, timeout: float) -> bytes | None:
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(4096)
        except TimeoutError:
            return None

    def close(self) -> None:
        self.sock.close()


def request(status: int, session: str, identifier: int = 1, secret: bytes = SECRET, **extra) -> bytes:
    """A signed Accounting-Request: ``extra`` maps codec attribute constants' names (lower case) to values."""
    attrs: list[tuple[int, bytes | str | int]] = [(codec.ACCT_STATUS_TYPE, status)]
    if session:
        attrs.append((codec.ACCT_SESSION_ID, session))
    for name, value in extra.items():
        kind = getattr(codec, name.upper())
        attrs.append((kind, socket.inet_aton(value) if kind in codec.ADDRESSES else value))
    return codec.encode_request(attrs, secret, identifier)
