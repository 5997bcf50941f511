"""The lab's simulated peers, started from a built :class:`~netmon.lab.city.Lab`.

- :class:`WlcDevice`: the Wi-Fi controllers' SNMP agents (:mod:`netmon.lab.wlc_agent`) and
  wlc-annex's CLI over SSH (:mod:`netmon.lab.wlc_cli`);
- :class:`RadiusNas`: the controllers' accounting streams and the eduroam proxy's F-Ticks
  (:mod:`netmon.lab.radius_nas`);
- :class:`SshDevice`: the SSH switch's IOS CLI (:mod:`netmon.lab.ssh_device`).

The switches and router are served by :class:`netmon.lab.snmpsim.Simulator`.
"""

from __future__ import annotations

from netmon.lab.city import RADIUS_INTERIM, RADIUS_SOURCES, SSH_USER, WLC_ANNEX, Lab
from netmon.lab.radius_nas import AccountingStream
from netmon.lab.ssh_device import DeviceBehaviour, FakeDevice
from netmon.lab.wlc_agent import ControllerAgent
from netmon.lab.wlc_cli import aireos_device


class WlcDevice:
    """The lab's Wi-Fi controllers: SNMP agents (see :mod:`netmon.lab.wlc_agent`) for wlc-city and wlc-9800, and
    wlc-annex's CLI over SSH (see :mod:`netmon.lab.wlc_cli`), each if built."""

    def __init__(self, lab: Lab):
        self.lab = lab
        self.agents: list = []
        self.cli = None  # wlc-annex's fake SSH controller

    @property
    def agent(self):
        """wlc-city's agent (the first)."""
        return self.agents[0] if self.agents else None

    def start(self) -> WlcDevice:
        try:
            for model in self.lab.wlc_models():
                port = self.lab.wlc_port_of(model.hostname)
                if port:
                    self.agents.append(ControllerAgent(model, port).start())
                elif model.hostname == WLC_ANNEX and self.lab.wlc_annex_port:
                    behaviour = aireos_device(model, SSH_USER, self.lab.ssh_password)
                    self.cli = FakeDevice(behaviour, port=self.lab.wlc_annex_port).start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        while self.agents:
            self.agents.pop().stop()
        if self.cli is not None:
            self.cli.stop()
            self.cli = None

    def __enter__(self) -> WlcDevice:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class RadiusNas:
    """The lab controllers' accounting streams to netmon, one per NAS (see :mod:`netmon.lab.radius_nas`)."""

    def __init__(self, lab: Lab, tick: float = 5.0):
        self.lab, self.tick = lab, tick
        self.streams: list = []

    @property
    def stream(self):
        """wlc-city's stream (the first)."""
        return self.streams[0] if self.streams else None

    def start(self) -> RadiusNas:
        if not self.lab.radius_port:
            return self
        fticks = ("127.0.0.1", self.lab.fticks_port) if self.lab.fticks_port else None
        try:
            for model in self.lab.wlc_models():
                secret = self.lab.nas_secrets.get(model.hostname)
                if secret:
                    self.streams.append(
                        AccountingStream(
                            model, ("127.0.0.1", self.lab.radius_port), secret.encode(), interim=RADIUS_INTERIM,
                            source=RADIUS_SOURCES[model.hostname], fticks=fticks,
                        ).start(self.tick)
                    )  # fmt: skip
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for stream in self.streams:
            stream.request_stop()
        while self.streams:
            self.streams.pop().stop()


class SshDevice:
    """The lab's SSH switch: a simulated IOS CLI on 127.0.0.1 (see :mod:`netmon.lab.ssh_device`)."""

    def __init__(self, lab: Lab):
        self.lab = lab
        self.device = None

    def start(self) -> SshDevice:
        chosen = next(d for d in self.lab.devices if d.ssh)
        behaviour = DeviceBehaviour(
            hostname=chosen.hostname, username=SSH_USER, password=self.lab.ssh_password, outputs=self.lab.cli_outputs
        )
        self.device = FakeDevice(behaviour, port=self.lab.ssh_port).start()
        return self

    def stop(self) -> None:
        if self.device is not None:
            self.device.stop()
            self.device = None

    def __enter__(self) -> SshDevice:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
