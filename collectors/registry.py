"""Every collector netmon runs, in the order a device's poll runs them: the one list to add a collector to.

Order matters within a session: ``system`` first (it is the gate, and its
sysObjectID picks the vendor profiles of those after it), then what every
poll reads, then the slower reads that ride on a poll when they are due.
"""

from __future__ import annotations

from collectors import cdp, cli, hardware, interfaces, lldp, optics, system, wlc
from collectors.base import Collector
from collectors.wlc import cli as wlc_cli

COLLECTORS: tuple[Collector, ...] = (
    system.COLLECTOR,
    interfaces.COLLECTOR,
    wlc.COLLECTOR,
    wlc_cli.COLLECTOR,
    optics.COLLECTOR,
    hardware.COLLECTOR,
    lldp.COLLECTOR,
    cdp.COLLECTOR,
    cli.COLLECTOR,
)


def schedule_of(run: str) -> str:
    """The schedule of a collector run's name (``cli.optics`` is a step of ``cli``); ``poll`` when unknown."""
    by_name = {c.name: c.schedule for c in COLLECTORS}
    return by_name.get(run) or by_name.get(run.split(".", 1)[0]) or "poll"
