"""Crash safety: `netmon run` killed with SIGKILL at random moments while a NAS sends numbered records; every record
it answered is in the database afterwards, and the database passes SQLite's integrity check.

``NETMON_CRASH_CYCLES`` sets the kills (3 in CI; ``scripts/soak`` runs 100).
"""

from __future__ import annotations

import os
import random
import signal
import socket
import sqlite3
import subprocess
import time

import pytest

from collectors.radius import codec
from netmon import lab as lab_mod
from netmon.privacy import Pseudonymizer
from netmon.store.radius import session_pseudonym
from tests.conftest import VENV_BIN
from tests.radius_peers import SECRET, request

pytestmark = pytest.mark.integration
CYCLES = int(os.environ.get("NETMON_CRASH_CYCLES", "3"))
KEY = "crash-test-key-0123456789"


def _setup(tmp_path) -> tuple[object, int]:
    port = lab_mod.free_udp_port()
    secrets = tmp_path / "secrets.yml"
    fd = os.open(secrets, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(
        fd, f"privacy: {{key: {KEY}}}\nradius:\n  nas: {{address: 127.0.0.1, secret: {SECRET.decode()}}}\n".encode()
    )
    os.close(fd)
    config = tmp_path / "netmon.yml"
    config.write_text(
        f"db: n.db\nsecrets: {secrets}\nlisten: 127.0.0.1:{lab_mod.free_tcp_port()}\n"
        f"radius: {{listen: '127.0.0.1:{port}'}}\n"
    )
    return config, port


def _send_until_killed(port: int, cycle: int, delay: float, proc) -> list[str]:
    """Numbered Starts one after another (each retried a few times); ``delay`` seconds after the first answer the
    process is killed, and the sending goes on until it is gone."""
    answered = []
    nas = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    nas.bind(("127.0.0.1", 0))
    nas.settimeout(0.2)
    started = time.monotonic()
    kill_at = float("inf")
    n = 0
    try:
        while time.monotonic() - started < 30:
            if time.monotonic() >= kill_at and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)  # mid-write, mid-answer, wherever it is
            if proc.poll() is not None:
                break
            session = f"c{cycle}-{n}"
            packet = request(codec.START, session, n % 256)
            for _ in range(3):
                nas.sendto(packet, ("127.0.0.1", port))
                try:
                    answer = nas.recv(4096)
                except (TimeoutError, ConnectionRefusedError):
                    continue
                if answer[0] == codec.ACCOUNTING_RESPONSE and answer[1] == n % 256:
                    answered.append(session)
                    kill_at = min(kill_at, time.monotonic() + delay)
                    break
            n += 1
    finally:
        nas.close()
    return answered


def test_every_answered_record_survives_sigkill(tmp_path):
    config, port = _setup(tmp_path)
    rng = random.Random(os.environ.get("NETMON_CRASH_SEED", "1"))
    answered: list[str] = []
    for cycle in range(CYCLES):
        proc = subprocess.Popen(
            [str(VENV_BIN / "netmon"), "--config", str(config), "run"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        try:
            # Killed somewhere in the one and a half seconds after it first answered, while records arrive.
            got = _send_until_killed(port, cycle, rng.uniform(0.0, 1.5), proc)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        assert proc.returncode == -signal.SIGKILL
        answered += got
    assert len(answered) >= CYCLES  # records did flow in every cycle
    with sqlite3.connect(tmp_path / "n.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {row[0] for row in conn.execute("SELECT session_key FROM radius_sessions")}
    pseudonyms = Pseudonymizer(KEY.encode())
    lost = [s for s in answered if session_pseudonym(pseudonyms, s) not in stored]
    assert lost == [], f"{len(lost)} of {len(answered)} answered records lost"
    print(f"crash test: {CYCLES} SIGKILLs, {len(answered)} answered records, none lost, integrity ok")
