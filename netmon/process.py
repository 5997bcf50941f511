"""Child processes netmon starts and stops: a Prometheus beside the demo, the lab's simulators, benchmarks' tools.

Each runs in a session of its own (``start_new_session=True``), so stopping it stops what it started too.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path


def stop_process_group(proc: subprocess.Popen | None) -> None:
    """SIGTERM a process started with ``start_new_session=True`` and its children; SIGKILL after 5 s."""
    if proc and proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a running process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
