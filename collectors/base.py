"""The collector contract: what every collector declares, and the one call the poller makes.

A collector (NAV ipdevpoll's plugin, NAPALM's getter) says

- ``name``: how its runs are recorded (``collector_status``, metric labels);
- ``needs``: the session it works over, ``snmp`` (:class:`collectors.snmp.api.SnmpSession`) or
  ``ssh`` (:class:`SshSession`);
- ``schedule``: how often it runs, one of :data:`SCHEDULES` (the configuration gives each its interval);
- ``returns``: the observation it gives (:mod:`collectors.observations`), which the shared harness checks;
- ``gate``: whether the rest of its session is pointless when it fails (``system``: the device did not
  answer);
- ``can_handle(device)``: whether it applies to a device, from the inventory alone (role, platform,
  credential profiles); vendor profiles inside a collector are picked later, by sysObjectID;

and does one job: ``await collect(session, context)`` returns its observation or raises
:class:`collectors.snmp.api.SnmpError` (SNMP collectors); a collector with steps of its own
(an SSH session running several commands) returns :class:`~collectors.observations.Steps`
and never raises.

The poller iterates the list in :mod:`collectors.registry`; adding a collector that gives
one of the existing observations (another vendor's DOM, another controller family) is a
module with one of these plus one line there. A new kind of observation also needs a place
in :class:`collectors.observations.Observations` and in the store.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol, TypeVar

from collectors.credentials import SshCredentials
from collectors.observations import Steps, SystemInfo
from collectors.snmp.api import SnmpSession

Transport = Literal["snmp", "ssh"]
# What a collector's interval is: every poll, or the slower DOM, hardware and topology reads that ride on a
# poll when their own interval has passed, or the SSH collection's own job.
SCHEDULES = ("poll", "optics", "hardware", "topology", "cli")

T = TypeVar("T")


class DeviceFacts(Protocol):
    """What a collector may know of a device before talking to it: the inventory's entry."""

    hostname: str
    role: str
    platform: str | None
    snmp_profile: str | None
    ssh_profile: str | None


@dataclass(frozen=True)
class Context:
    """What a collector is told besides its session: the device, and what ``system`` said earlier in this poll."""

    device: DeviceFacts
    system: SystemInfo | None = None

    @property
    def object_id(self) -> str:
        """sysObjectID ("" before the system collector, or over SSH): vendor profiles are picked by it."""
        return self.system.object_id if self.system else ""


@dataclass(frozen=True)
class SshSession:
    """Where an SSH collector logs in, and ``run``: how its blocking netmiko session is run (the poller's bounded
    thread pool: ``await session.run(call)``).

    ``deadline`` (seconds) is what the poll allows: a collector whose result is the device's state fits its SSH
    time limits into it.
    """

    host: str
    port: int
    platform: str
    credentials: SshCredentials
    run: Callable[[Callable[[], T]], Awaitable[T]] = field(repr=False)
    deadline: float
    label: str = ""


class Collector(Protocol):
    name: str
    needs: Transport
    schedule: str
    returns: type
    gate: bool

    def can_handle(self, device: DeviceFacts) -> bool: ...

    async def collect(self, session, context: Context) -> object: ...


def has_snmp(device: DeviceFacts) -> bool:
    return bool(device.snmp_profile)


@dataclass(frozen=True)
class SnmpCollector:
    """A collector over SNMP: ``read(session, context)`` gives its observation (or raises ``SnmpError``)."""

    name: str
    schedule: str
    returns: type
    read: Callable[[SnmpSession, Context], Awaitable[object]] = field(repr=False)
    handles: Callable[[DeviceFacts], bool] = field(default=has_snmp, repr=False)
    gate: bool = False
    needs: Transport = "snmp"

    def can_handle(self, device: DeviceFacts) -> bool:
        return self.handles(device)

    async def collect(self, session: SnmpSession, context: Context) -> object:
        return await self.read(session, context)


@dataclass(frozen=True)
class SshCollector:
    """A collector over SSH: ``read(session, context)`` runs its session's steps and returns :class:`Steps`."""

    name: str
    schedule: str
    read: Callable[[SshSession, Context], Awaitable[Steps]] = field(repr=False)
    handles: Callable[[DeviceFacts], bool] = field(repr=False)
    returns: type = Steps
    gate: bool = False
    needs: Transport = "ssh"

    def can_handle(self, device: DeviceFacts) -> bool:
        return self.handles(device)

    async def collect(self, session: SshSession, context: Context) -> Steps:
        return await self.read(session, context)
