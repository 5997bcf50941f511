"""An answered accounting record survives a power cut: its commit reached the disk (fsync) before the answer left.

A process kill (SIGKILL) cannot show this: the kernel keeps what was written. A power cut loses what was written
but not synced, so the promise is about ordering, and the order of system calls shows it: netmon run under strace,
a NAS sending numbered records one by one, and for every Accounting-Response the request's arrival, then an
fsync/fdatasync of the database, then the answer. (With SQLite's synchronous=NORMAL in WAL mode a commit is not
synced at all until a checkpoint, and this test fails.)
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time

import pytest

from collectors.radius import codec
from netmon import lab as lab_mod
from tests.conftest import VENV_BIN, require_tool
from tests.radius_peers import SECRET, request

pytestmark = pytest.mark.integration

LINE = re.compile(
    r"^(?P<pid>\d+)\s+(?P<ts>\d+\.\d+)\s+(?:<\.\.\. (?P<resumed>\w+) resumed>|(?P<call>\w+)\()(?P<rest>.*)$"
)


def _events(log: str) -> list[tuple[float, str, int | None]]:
    """(time, kind, RADIUS identifier) for requests received, answers sent and syncs completed."""
    out = []
    for line in log.splitlines():
        m = LINE.match(line)
        if not m or "unfinished" in line:
            continue
        call, rest, ts = m.group("call") or m.group("resumed"), m.group("rest"), float(m.group("ts"))
        if call in ("fsync", "fdatasync") and re.search(r"= 0\s*$", rest):
            out.append((ts, "sync", None))
            continue
        data = re.search(r'"((?:\\x[0-9a-f]{2}){2})', rest)
        if call in ("recvfrom", "sendto") and data:
            code, ident = (int(h, 16) for h in re.findall(r"\\x([0-9a-f]{2})", data.group(1)))
            if call == "recvfrom" and code == codec.ACCOUNTING_REQUEST:
                out.append((ts, "request", ident))
            elif call == "sendto" and code == codec.ACCOUNTING_RESPONSE:
                out.append((ts, "answer", ident))
    return sorted(out, key=lambda e: e[0])


def test_every_answer_follows_a_sync_of_its_record(tmp_path):
    strace = require_tool("strace")
    port, metrics = lab_mod.free_udp_port(), lab_mod.free_tcp_port()
    secrets = tmp_path / "secrets.yml"
    fd = os.open(secrets, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, f"privacy: {{key: durability-key-0123456789}}\nradius:\n  nas: {{address: 127.0.0.1, secret: "
                 f"{SECRET.decode()}}}\n".encode())  # fmt: skip
    os.close(fd)
    config = tmp_path / "netmon.yml"
    config.write_text(
        f"db: n.db\nsecrets: {secrets}\nlisten: 127.0.0.1:{metrics}\nradius: {{listen: '127.0.0.1:{port}'}}\n"
    )
    trace = tmp_path / "trace.log"
    proc = subprocess.Popen(
        [strace, "-f", "-ttt", "-qq", "-e", "trace=recvfrom,sendto,fsync,fdatasync", "-e", "signal=none",
         "-x", "-s", "4", "-o", str(trace), str(VENV_BIN / "netmon"), "--config", str(config), "run"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    answered = []
    try:
        nas = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        nas.bind(("127.0.0.1", 0))
        nas.settimeout(0.5)
        deadline = time.monotonic() + 30
        for ident in range(1, 21):
            packet = request(codec.START if ident % 2 else codec.STOP, f"s{(ident + 1) // 2}", ident)
            while time.monotonic() < deadline:  # until netmon is up, then one answer per record
                nas.sendto(packet, ("127.0.0.1", port))
                try:
                    answer = nas.recv(4096)
                except TimeoutError:
                    continue
                if answer[1] == ident:
                    answered.append(ident)
                    break
        nas.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
    assert answered == list(range(1, 21)), proc.stderr.read().decode()[-2000:]
    events = _events(trace.read_text(errors="replace"))
    for ident in answered:
        sent = next(t for t, kind, i in events if kind == "answer" and i == ident)
        arrived = max(t for t, kind, i in events if kind == "request" and i == ident and t < sent)
        synced = [t for t, kind, _ in events if kind == "sync" and arrived < t < sent]
        assert synced, f"answer {ident} left without a sync of its commit"
