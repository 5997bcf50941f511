"""Shared fixtures: the lab (snmpsim on loopback), tool lookup, CLI runner.

A test that needs an external tool calls :func:`require_tool`. Locally a
missing tool skips the test; under ``scripts/test`` (``NETMON_REQUIRE_TOOLS=1``)
it fails, so CI never goes green by skipping.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from netmon import lab as lab_mod

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def require_tool(name: str) -> str:
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")
    if path:
        return path
    message = f"{name} is not installed (scripts/setup --test installs it)"
    if os.environ.get("NETMON_REQUIRE_TOOLS") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    """The standard lab: 4 sites x 24-port switches (one over SNMPv3, one also over SSH), a 32-bit-only router."""
    root = tmp_path_factory.mktemp("lab")
    built = lab_mod.build(root, sites=4, ports=24, seed=7, interval=2, wlc_aps_per_site=10, wlc_people=1500)
    sim = lab_mod.Simulator(built.data_dir, built.agent_port, built.root).start()
    ssh = lab_mod.SshDevice(built).start()
    controller = lab_mod.WlcDevice(built).start()
    yield built
    controller.stop()
    ssh.stop()
    sim.stop()


def run_netmon(*args: str, env: dict | None = None, timeout: float = 60, cwd: Path | None = None):
    """Run the installed ``netmon`` command; returns CompletedProcess with text output."""
    exe = VENV_BIN / "netmon"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "netmon.cli"]
    return subprocess.run(
        [*cmd, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )
