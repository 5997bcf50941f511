"""The lab's peers in a process of their own: ``python -m netmon.lab serve DIR``.

``netmon demo`` and ``bench/city.py`` start the simulated city this way, so
the CPU and memory of ``netmon run`` are netmon's alone: snmpsim is its own
process already, and here the Wi-Fi controllers' agents, the SSH devices and
the RADIUS/F-Ticks senders leave netmon's process too.

:class:`LabPeers` starts every peer a built lab has (in whatever process
calls it); :class:`LabProcess` runs them in a child and waits until they
serve.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from netmon.lab.city import Lab
from netmon.lab.peers import RadiusNas, SshDevice, WlcDevice
from netmon.lab.snmpsim import Simulator
from netmon.process import process_cpu_seconds, stop_process_group

READY = "lab: serving"


class LabPeers:
    """Every simulated peer of ``lab``: snmpsim, the controllers' agents and CLI, the SSH switch, the NASes."""

    def __init__(self, lab: Lab, radius: bool = True):
        self.lab = lab
        self.sim = Simulator(lab.data_dir, lab.agent_port, lab.root)
        self.ssh = SshDevice(lab) if any(d.ssh for d in lab.devices) else None
        self.controllers = WlcDevice(lab)
        self.nas = RadiusNas(lab) if radius else None

    def start(self) -> LabPeers:
        try:
            self.sim.start()
            if self.ssh is not None:
                self.ssh.start()
            self.controllers.start()
            if self.nas is not None:
                self.nas.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.nas is not None:
            self.nas.stop()
        self.controllers.stop()
        if self.ssh is not None:
            self.ssh.stop()
        self.sim.stop()

    def cpu_seconds(self) -> float:
        """This process's CPU plus snmpsim's."""
        return time.process_time() + self.sim.cpu_seconds()


def serve(root: str | Path) -> int:
    """Start the peers of the lab under ``root``, say so on stdout, serve until SIGTERM or SIGINT."""
    lab = Lab.load(root)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    peers = LabPeers(lab).start()
    try:
        print(f"{READY} {json.dumps({'pid': os.getpid(), 'snmpsim_pid': peers.sim.proc.pid})}", flush=True)
        while not stop.wait(1.0):
            if peers.sim.proc is None or peers.sim.proc.poll() is not None:
                print("lab: snmpsim exited", file=sys.stderr, flush=True)
                return 1
    finally:
        peers.stop()
    return 0


class LabProcess:
    """``python -m netmon.lab serve`` for a built lab, as a child in a session of its own."""

    def __init__(self, lab: Lab):
        self.lab = lab
        self.proc: subprocess.Popen | None = None
        self.snmpsim_pid: int | None = None
        self.log_path = lab.root / "lab-serve.log"

    def start(self, ready_timeout: float = 120.0) -> LabProcess:
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "netmon.lab", "serve", str(self.lab.root)],
                stdout=subprocess.PIPE, stderr=log, text=True, start_new_session=True,
                cwd=Path(__file__).resolve().parents[2],
            )  # fmt: skip
        ready: list[str] = []
        reader = threading.Thread(target=lambda: ready.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(ready_timeout)
        if not ready or not ready[0].startswith(READY):
            self.stop()
            raise RuntimeError(f"the lab did not start within {ready_timeout:.0f} s; see {self.log_path}")
        self.snmpsim_pid = json.loads(ready[0][len(READY) :])["snmpsim_pid"]
        return self

    def cpu_seconds(self) -> float:
        """The lab's CPU: the serving process and its snmpsim."""
        total = 0.0
        for pid in (self.proc.pid if self.proc else None, self.snmpsim_pid):
            try:
                total += process_cpu_seconds(pid) if pid else 0.0
            except OSError:
                pass
        return total

    def stop(self) -> None:
        stop_process_group(self.proc)  # SIGTERM: serve() stops its peers, snmpsim's own session included
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        self.proc = None

    def __enter__(self) -> LabProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
