"""Poll one device: open its SNMP session, run its collectors, time them, never raise.

The poller is where per-device failure handling lives: a timeout, an auth
failure or a collector bug becomes a :class:`collectors.observations.CollectorError`
for that device, and the scheduler moves on. A device that does not answer
the ``system`` group is not asked for anything else (one timeout, not two).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from collectors import cdp as cdp_collector
from collectors import hardware as hardware_collector
from collectors import interfaces as interfaces_collector
from collectors import lldp as lldp_collector
from collectors import optics as optics_collector
from collectors import system as system_collector
from collectors import wlc as wlc_collector
from collectors.observations import (
    CollectorError,
    CollectorRun,
    HardwareItem,
    InterfaceSample,
    Neighbor,
    OpticReading,
    SystemInfo,
)
from collectors.snmp.session import SnmpClient, SnmpError, SnmpTarget
from collectors.wlc.observations import WlcResult
from netmon.config import Config
from netmon.secrets import Secrets
from netmon.store import DeviceRow

log = logging.getLogger(__name__)


@dataclass
class DevicePoll:
    device: DeviceRow
    started: float
    duration: float = 0.0
    system: SystemInfo | None = None
    interfaces: list[InterfaceSample] | None = None
    optics: list[OpticReading] | None = None  # None: not collected this time
    hardware: list[HardwareItem] | None = None
    lldp: list[Neighbor] | None = None
    cdp: list[Neighbor] | None = None
    read_at: float | None = None
    chassis_id: str | None = None  # the device's own LLDP chassis id, when LLDP was read
    wlc: WlcResult | None = None  # a wireless controller's APs, WLANs and clients
    errors: list[CollectorError] = field(default_factory=list)
    runs: list[CollectorRun] = field(default_factory=list)
    requests: int = 0
    varbinds: int = 0
    current: str = system_collector.name  # the collector running when a deadline hits
    dropped: dict[str, int] = field(default_factory=dict)  # bad SNMP packets seen meanwhile, by reason

    @property
    def up(self) -> bool:
        return self.system is not None

    @property
    def neighbors(self) -> list[Neighbor] | None:
        """LLDP and CDP together; None when neither ran this time (keep what the store has)."""
        if self.lldp is None and self.cdp is None:
            return None
        return (self.lldp or []) + (self.cdp or [])


class Poller:
    def __init__(self, config: Config, secrets: Secrets, client: SnmpClient | None = None):
        self.config = config
        self.secrets = secrets
        self.client = client or SnmpClient(config.snmp.engine)
        # (hostname, collector) -> monotonic time of its last success, for collectors slower than the poll
        self._last_run: dict[tuple[str, str], float] = {}

    def close(self) -> None:
        self.client.close()

    def target(self, device: DeviceRow) -> SnmpTarget:
        s = self.config.snmp
        timeout = device.snmp_timeout if device.snmp_timeout is not None else s.timeout
        retries = device.snmp_retries if device.snmp_retries is not None else s.retries
        return SnmpTarget(device.address, device.port, timeout, retries, s.max_repetitions)

    async def poll(self, device: DeviceRow) -> DevicePoll:
        """Poll within the device's deadline; whatever happens, return a result."""
        result = DevicePoll(device=device, started=time.time())
        t0 = time.perf_counter()
        deadline = self.config.device_deadline(device.interval or self.config.interval)
        try:
            async with asyncio.timeout(deadline):
                await self._poll(device, result)
        except TimeoutError:
            self._fail(result, result.current, "deadline", f"poll exceeded its {deadline:.0f} s deadline", 0.0)
        except SnmpError as exc:  # opening the session (e.g. a bad address)
            self._fail(result, result.current, exc.reason, str(exc), 0.0)
        except Exception as exc:  # a bug outside the collectors: a result all the same
            log.exception("%s: poll failed", device.hostname)
            self._fail(result, result.current, "internal", type(exc).__name__, 0.0)
        result.duration = time.perf_counter() - t0
        result.dropped = self.client.take_drops()
        return result

    async def _poll(self, device: DeviceRow, result: DevicePoll) -> None:
        creds = self.secrets.snmp.get(device.snmp_profile) if device.snmp_profile else None
        if creds is None:
            why = (
                "no SNMP profile" if not device.snmp_profile else f"SNMP profile {device.snmp_profile!r} not in secrets"
            )
            self._fail(result, system_collector.name, "config", why, 0.0)
            return
        session = await self.client.session(self.target(device), creds)
        try:
            for collector in self._due(device):
                result.current = collector.name
                t = time.perf_counter()
                try:
                    if collector in (optics_collector, hardware_collector, wlc_collector):
                        value = await collector.collect(session, result.system.object_id)
                    elif collector is lldp_collector:
                        value = await collector.collect(session)
                        result.chassis_id = await lldp_collector.local_chassis_id(session)
                    else:
                        value = await collector.collect(session)
                except SnmpError as exc:
                    self._fail(result, collector.name, exc.reason, str(exc), time.perf_counter() - t)
                    if collector is system_collector:
                        return
                    continue
                except Exception as exc:  # a collector bug must not take the poller down
                    log.exception("%s: collector %s failed", device.hostname, collector.name)
                    self._fail(result, collector.name, "internal", type(exc).__name__, time.perf_counter() - t)
                    if collector is system_collector:
                        return
                    continue
                result.runs.append(CollectorRun(collector.name, time.perf_counter() - t))
                setattr(result, collector.name, value)
                if collector is system_collector:
                    result.read_at = time.time()  # the moment sysUpTime was answered
                self._last_run[(device.hostname, collector.name)] = time.monotonic()
        finally:
            result.requests = session.stats.requests
            result.varbinds = session.stats.varbinds

    def _due(self, device: DeviceRow):
        """system and interfaces every poll; slower collectors when their own interval has passed."""
        yield system_collector
        yield interfaces_collector
        if device.role == "wlc":
            yield wlc_collector  # every poll: clients come and go by the minute
        for collector, every in (
            (optics_collector, self.config.optics_interval),
            (hardware_collector, self.config.hardware_interval),
            (lldp_collector, self.config.topology_interval),
            (cdp_collector, self.config.topology_interval),
        ):
            last = self._last_run.get((device.hostname, collector.name))
            if every and (last is None or time.monotonic() - last >= every):
                yield collector

    @staticmethod
    def _fail(result: DevicePoll, collector: str, reason: str, message: str, duration: float) -> None:
        result.errors.append(CollectorError(collector, reason, message))
        result.runs.append(CollectorRun(collector, duration, reason))
        log.warning("%s: %s: %s (%s)", result.device.hostname, collector, message, reason)
