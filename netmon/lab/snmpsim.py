"""The snmpsim agent that serves the lab's switches and router on loopback.

snmpsim selects a device by its SNMPv2c community (SNMPv3: context name),
which is the data file's name; one agent process serves every device.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from collectors.snmp import ber, usm
from netmon.lab.city import V3_AUTH_KEY, V3_PRIV_KEY, V3_USER
from netmon.process import process_cpu_seconds, stop_process_group


@dataclass(frozen=True)
class V3User:
    user: str
    auth_protocol: str | None = None  # snmpsim names: MD5 SHA SHA224 SHA256 SHA384 SHA512
    auth_key: str | None = None
    priv_protocol: str | None = None  # DES 3DES AES AES128 AES192 AES256
    priv_key: str | None = None

    def args(self) -> list[str]:
        out = ["--v3-user", self.user]
        if self.auth_protocol:
            out += ["--v3-auth-key", self.auth_key, "--v3-auth-proto", self.auth_protocol]
        if self.priv_protocol:
            out += ["--v3-priv-key", self.priv_key, "--v3-priv-proto", self.priv_protocol]
        return out


LAB_V3_USER = V3User(V3_USER, "SHA256", V3_AUTH_KEY, "AES128", V3_PRIV_KEY)


def snmpsim_command() -> str:
    local = Path(sys.executable).parent / "snmpsim-command-responder"
    if local.exists():
        return str(local)
    found = shutil.which("snmpsim-command-responder")
    if not found:
        raise RuntimeError("snmpsim is not installed: pip install 'netmon[lab]' (or run scripts/setup)")
    return found


class Simulator:
    """An snmpsim agent on 127.0.0.1 serving every ``.snmprec`` in ``data_dir``."""

    def __init__(
        self,
        data_dir: str | Path,
        port: int,
        work_dir: str | Path,
        v3_users: list[V3User] | None = None,
        host: str = "127.0.0.1",
        max_var_binds: int = 64,
    ):
        self.data_dir = Path(data_dir)
        self.port = port
        self.host = host
        self.work_dir = Path(work_dir)
        self.v3_users = [LAB_V3_USER] if v3_users is None else v3_users
        self.max_var_binds = max_var_binds
        self.proc: subprocess.Popen | None = None
        self.log_path = self.work_dir / "snmpsim.log"

    def start(self, ready_timeout: float = 120.0) -> Simulator:
        cache = self.work_dir / "snmpsim-cache"
        cache.mkdir(parents=True, exist_ok=True)
        args = [snmpsim_command(), f"--cache-dir={cache}", "--v3-engine-id=auto"]
        for user in self.v3_users:
            args += user.args()
        args += [
            f"--data-dir={self.data_dir}",
            f"--max-var-binds={self.max_var_binds}",
            f"--agent-udpv6-endpoint=[{self.host}]:{self.port}"
            if ":" in self.host
            else f"--agent-udpv4-endpoint={self.host}:{self.port}",
        ]
        env = dict(os.environ, SNMPSIM_ALLOW_ROOT="true")
        log = open(self.log_path, "w")  # noqa: SIM115 - lives as long as the process
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        log.close()
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"snmpsim exited with {self.proc.returncode}; see {self.log_path}")
            if "Listening at" in self.log_path.read_text(errors="replace") and self._answers():
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"snmpsim did not start within {ready_timeout:.0f} s; see {self.log_path}")

    def _answers(self) -> bool:
        """True once the agent answers an SNMPv3 engine-discovery probe.

        snmpsim prints "Listening at" a moment before it really serves: a request sent
        right then is lost. Any answer to the probe (a Report) proves it is serving.
        """
        probe = usm.encode_message(
            1, usm.FLAG_REPORTABLE, b"", 0, 0, b"", usm.scoped_pdu(b"", b"", ber.encode_pdu(ber.GET, 1, []))
        )
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            s.settimeout(0.3)
            s.sendto(probe, (self.host, self.port))
            try:
                return bool(s.recv(65535))
            except OSError:
                return False

    def stop(self) -> None:
        stop_process_group(self.proc)
        self.proc = None

    def cpu_seconds(self) -> float:
        """User+system CPU the agent has used, to tell simulator cost from poller cost."""
        return process_cpu_seconds(self.proc.pid) if self.proc else 0.0

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
